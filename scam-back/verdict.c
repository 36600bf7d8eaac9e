/*
 * Copyright (c) 2026 The scam-back developers
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */

/*
 * SPEC section 6: the line each verdict is logged with, as libmilter's
 * threads give them.  Every address and reply in it comes from outside
 * and goes through printable().
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "policy.h"
#include "verdict.h"
#include "pending.h"
#include "printable.h"

/*
 * A recipient as the MTA gave it, for a log line that puts it in
 * brackets: its own brackets and blanks dropped, made printable.
 */
const char *
verdict_rcpt(const char *rcpt, char *buf, size_t len)
{
	char	bare[ADDR_LEN];
	size_t	n;

	if (rcpt == NULL)
		rcpt = "";
	rcpt += strspn(rcpt, " \t");
	if (*rcpt == '<')
		rcpt++;
	n = strlcpy(bare, rcpt, sizeof(bare));
	if (n < sizeof(bare)) {
		while (n > 0 && (bare[n - 1] == ' ' || bare[n - 1] == '\t'))
			bare[--n] = '\0';
		if (n > 0 && bare[n - 1] == '>')
			bare[--n] = '\0';
	}
	/* A longer one is cut: printable() ends it with "...". */
	return (printable(n < sizeof(bare) ? bare : rcpt, buf, len));
}

/*
 * SPEC section 6: one line per verdict.  Both addresses come from the
 * MTA: printable() keeps their octets out of the log.  An unknown
 * verdict says why (the backend's reply, a timeout, a refused
 * connection, a backoff), and the MTA's queue id is given where it
 * gives one at RCPT.
 */
void
verdict_log(enum policy_action a, const char *to, const char *from,
    const struct rcpt_query *q, const char *verdict, const char *key,
    const char *value, const char *why)
{
	char	cbuf[INET6_ADDRSTRLEN], tbuf[ADDR_LEN], fbuf[ADDR_LEN];
	char	wbuf[PENDING_WHY_LEN], qbuf[64];

	log_info("%s to=<%s> from=<%s> client=%s verdict=%s %s=%s%s%s%s%s%s",
	    policy_action_name(a), printable(to, tbuf, sizeof(tbuf)),
	    printable(from, fbuf, sizeof(fbuf)),
	    client_string(q->client, cbuf, sizeof(cbuf)), verdict, key, value,
	    why != NULL && *why != '\0' ? " why=\"" : "",
	    why != NULL && *why != '\0' ?
	    printable_text(why, wbuf, sizeof(wbuf)) : "",
	    why != NULL && *why != '\0' ? "\"" : "",
	    q->qid != NULL && *q->qid != '\0' ? " qid=" : "",
	    q->qid != NULL && *q->qid != '\0' ?
	    printable(q->qid, qbuf, sizeof(qbuf)) : "");
}
