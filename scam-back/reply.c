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
 * The replies of access rules: "554 5.7.1 text with %F escapes" as the
 * configuration writes them, checked by -n, a default for each kind of
 * rule worded as Postfix words its own, and the expansion of the escapes
 * with what the client sent: made printable, each value bounded, '%'
 * doubled for libmilter (smfi_setreply takes a format).
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

#define VALUE_MAX	100	/* octets of one expanded value */

static const char *escape_value(const char *, const struct reply_vars *,
		    char *, size_t, size_t *);

/* The named escapes, %{name}. */
static const char *named[] = {
	"sender", "rcpt", "client.addr", "client.name", "helo", "auth",
	"value", "rule", NULL
};

/*
 * "554 5.7.1 text", "554 text" or "554": the code, the enhanced status
 * code when there is one, the text.  Returns 0, or -1 when the reply
 * does not start with a code.
 */
int
reply_split(const char *s, struct reply_parts *p)
{
	const char	*q;
	size_t		 n;
	int		 dots = 0, digits = 0;

	memset(p, 0, sizeof(*p));
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || (s[3] != ' ' && s[3] != '\0'))
		return (-1);
	memcpy(p->rcode, s, 3);
	s += 3;
	s += strspn(s, " ");
	/* An enhanced status code: class.subject.detail, each 1-3 digits. */
	for (q = s; *q != '\0' && *q != ' '; q++) {
		if (*q == '.') {
			if (digits == 0)
				break;
			dots++;
			digits = 0;
		} else if (isdigit((unsigned char)*q) && digits < 3)
			digits++;
		else
			break;
	}
	n = q - s;
	if ((*q == ' ' || *q == '\0') && dots == 2 && digits > 0 &&
	    n < sizeof(p->xcode)) {
		memcpy(p->xcode, s, n);
		s = q;
		s += strspn(s, " ");
	}
	p->text = s;
	return (0);
}

/*
 * What -n says of a reply for an action (permanent: set permanent), or
 * NULL when it fits.
 */
const char *
reply_check(const char *s, enum rule_action action, int permanent)
{
	static char		 msg[128];
	struct reply_parts	 p;
	const char		*c, *e;
	size_t			 i, n;

	if (reply_split(s, &p) == -1)
		return ("a reply starts with a three-digit code");
	if (strlen(s) > 400)
		return ("reply too long (at most 400 characters)");
	if (permanent) {
		if (p.rcode[0] != '5')
			return ("set permanent needs a 5xx reply");
	} else if (action == RULE_DISCONNECT) {
		if (strcmp(p.rcode, "421") != 0)
			return ("disconnect replies 421: the code that ends "
			    "the session");
	} else if (p.rcode[0] != '4' && p.rcode[0] != '5')
		return ("reject needs a 4xx (temporary) or 5xx (permanent) "
		    "reply");
	else if (strcmp(p.rcode, "421") == 0)
		return ("421 ends the session: use disconnect");
	if (p.xcode[0] != '\0' && p.xcode[0] != p.rcode[0]) {
		snprintf(msg, sizeof(msg), "enhanced status %s is not of the "
		    "class of %s (%c.x.x)", p.xcode, p.rcode, p.rcode[0]);
		return (msg);
	}
	if (p.xcode[0] == '\0' && isdigit((unsigned char)p.text[0]) &&
	    strchr(p.text, '.') != NULL && strchr(p.text, '.') <
	    p.text + strcspn(p.text, " "))
		return ("malformed enhanced status code: use class.subject."
		    "detail, e.g. 5.7.1");
	for (c = p.text; *c != '\0'; c++) {
		if (!isprint((unsigned char)*c))
			return ("the reply text must be printable ASCII");
		if (*c != '%')
			continue;
		c++;
		if (*c != '\0' && strchr("FTHIUC%", *c) != NULL)
			continue;
		if (*c != '{') {
			snprintf(msg, sizeof(msg), "unknown escape %%%c: use "
			    "%%F %%T %%H %%I %%U %%C %%%% or %%{name}",
			    *c == '\0' ? ' ' : *c);
			return (msg);
		}
		if ((e = strchr(c, '}')) == NULL)
			return ("%{ without }");
		n = e - c - 1;
		for (i = 0; named[i] != NULL; i++)
			if (strlen(named[i]) == n &&
			    strncmp(named[i], c + 1, n) == 0)
				break;
		if (named[i] == NULL) {
			snprintf(msg, sizeof(msg), "unknown escape %%{%.*s}",
			    (int)(n > 40 ? 40 : n), c + 1);
			return (msg);
		}
		c = e;
	}
	return (NULL);
}

/* What an undecided rule answers, by what was undecided. */
const char *
reply_temp(enum rules_temp t)
{
	switch (t) {
	case TEMP_CLIENT:
		return ("450 4.7.25 Client host rejected: cannot find your "
		    "hostname, [%I]");
	case TEMP_DNS_DOMAIN:
		return ("450 4.1.8 <%F>: Sender address rejected: Domain not "
		    "found");
	default:
		return ("451 4.4.3 <%F>: Sender address rejected: temporary "
		    "DNS failure");
	}
}

/*
 * A rule without a reply says what it refused, as Postfix would: by its
 * most telling condition (the special ones first, then the first that is
 * not negated), or by the stage it acts at.
 */
const char *
reply_default(const struct rule_conf *r, const struct rules_result *res)
{
	const struct rule_cond	*c, *best = NULL;
	int			 i;

	if (r->action == RULE_DISCONNECT)
		return ("421 4.7.0 Service not available, closing "
		    "transmission channel");
	if (res != NULL && res->nullmx)
		return ("550 5.7.27 <%F>: Sender address rejected: Domain "
		    "does not accept mail (nullMX)");
	for (i = 0; i < r->ncond && i < RULE_MAX_CONDS; i++) {
		c = &r->cond[i];
		switch (c->type) {
		case COND_MAIL_UNRESOLVABLE:
			if (!c->negate)
				return ("550 5.1.8 <%F>: Sender address "
				    "rejected: Domain not found");
			break;
		case COND_MAIL_UNQUALIFIED:
			if (!c->negate)
				return ("550 5.1.7 <%F>: Sender address "
				    "rejected: need fully-qualified "
				    "address");
			break;
		case COND_FROM_UNKNOWN:
			if (!c->negate)
				return ("550 5.7.25 Client host rejected: "
				    "cannot find your hostname, [%I]");
			break;
		case COND_FROM_KNOWN:
			if (c->negate)
				return ("550 5.7.25 Client host rejected: "
				    "cannot find your hostname, [%I]");
			break;
		case COND_FROM_RDNS:
			if (c->negate)
				return ("550 5.7.25 Client host rejected: "
				    "cannot find your reverse hostname, "
				    "[%I]");
			break;
		case COND_RCPT:
			if (c->negate && c->table == RULE_TABLE_DOMAINS)
				return ("554 5.7.1 <%T>: Relay access "
				    "denied");
			break;
		default:
			break;
		}
		if (best == NULL && !c->negate && c->type != COND_FROM_ANY)
			best = c;
	}
	if (best == NULL && r->ncond > 0)
		best = &r->cond[0];
	switch (best != NULL ? rules_cond_stage(best->type) :
	    (enum rule_stage)r->stage) {
	case STAGE_CONNECT:
		return ("554 5.7.1 <%H[%I]>: Client host rejected: Access "
		    "denied");
	case STAGE_HELO:
		return ("554 5.7.1 <%{helo}>: Helo command rejected: Access "
		    "denied");
	case STAGE_MAIL:
		return ("554 5.7.1 <%F>: Sender address rejected: Access "
		    "denied");
	default:
		return ("554 5.7.1 <%T>: Recipient address rejected: Access "
		    "denied");
	}
}

/*
 * A 5xx that a pass which could not be decided may have prevented
 * becomes "450 4.x.x" with the same text (Postfix's defer_if_reject).
 * Returns 0, or -1 when the reply is not a 5xx (out is then a copy).
 */
int
reply_soften(const char *s, char *out, size_t len)
{
	struct reply_parts	p;

	strlcpy(out, s, len);
	if (reply_split(s, &p) == -1 || p.rcode[0] != '5')
		return (-1);
	if (p.xcode[0] != '\0')
		snprintf(out, len, "450 4%s %s", p.xcode + 1, p.text);
	else
		snprintf(out, len, "450 %s", p.text);
	return (0);
}

/* The value an escape stands for; *n gets its length. */
static const char *
escape_value(const char *c, const struct reply_vars *v, char *buf,
    size_t len, size_t *n)
{
	const char	*s = NULL, *e;
	size_t		 k;

	*n = 1;
	switch (*c) {
	case 'F':
		s = v->sender;
		break;
	case 'T':
		s = v->rcpt;
		break;
	case 'H':
		s = v->client_name != NULL && *v->client_name != '\0' ?
		    v->client_name : "unknown";
		break;
	case 'I':
		s = v->client_addr;
		break;
	case 'U':
		/* Obtuse's ident user: scam-back knows the AUTH name. */
		s = v->auth != NULL && *v->auth != '\0' ? v->auth : "unknown";
		break;
	case 'C':
		s = ":";
		break;
	case '%':
		s = "%";
		break;
	case '{':
		if ((e = strchr(c, '}')) == NULL)
			return (NULL);
		k = e - c - 1;
		*n = k + 2;
		if (k == 6 && strncmp(c + 1, "sender", k) == 0)
			s = v->sender;
		else if (k == 4 && strncmp(c + 1, "rcpt", k) == 0)
			s = v->rcpt;
		else if (k == 11 && strncmp(c + 1, "client.addr", k) == 0)
			s = v->client_addr;
		else if (k == 11 && strncmp(c + 1, "client.name", k) == 0)
			s = v->client_name != NULL && *v->client_name !=
			    '\0' ? v->client_name : "unknown";
		else if (k == 4 && strncmp(c + 1, "helo", k) == 0)
			s = v->helo;
		else if (k == 4 && strncmp(c + 1, "auth", k) == 0)
			s = v->auth;
		else if (k == 5 && strncmp(c + 1, "value", k) == 0)
			s = v->value;
		else if (k == 4 && strncmp(c + 1, "rule", k) == 0) {
			snprintf(buf, len, "%u", v->rule);
			s = buf;
		} else
			return (NULL);
		break;
	default:
		return (NULL);
	}
	return (s != NULL ? s : "");
}

/*
 * Expand the escapes of a reply's text into out.  What the client sent
 * is made printable (anything else becomes '?') and cut at VALUE_MAX
 * octets with "..."; with dbl, each '%' of the result is doubled for
 * smfi_setreply.  The result always fits out.  Returns 0, or -1 when the
 * text had an unknown escape (kept as it was written).
 */
int
reply_expand(const char *text, const struct reply_vars *v, int dbl,
    char *out, size_t len)
{
	char		 num[16];
	const char	*s, *c;
	size_t		 o = 0, n, i, room;
	int		 bad = 0, literal;
	unsigned char	 ch;

	if (len == 0)
		return (-1);
#define PUT(x)	do {							\
	if ((x) == '%' && dbl) {					\
		if (o + 2 >= len)					\
			goto full;					\
		out[o++] = '%';						\
	} else if (o + 1 >= len)					\
		goto full;						\
	out[o++] = (x);							\
} while (0)

	for (c = text; *c != '\0'; c++) {
		if (*c != '%') {
			ch = *c;
			PUT(isprint(ch) ? (char)ch : '?');
			continue;
		}
		if ((s = escape_value(c + 1, v, num, sizeof(num), &n)) ==
		    NULL) {
			bad = 1;
			PUT('%');
			continue;
		}
		literal = c[1] == 'C' || c[1] == '%';
		room = literal ? strlen(s) : VALUE_MAX;
		for (i = 0; s[i] != '\0' && i < room; i++) {
			ch = s[i];
			PUT(isprint(ch) ? (char)ch : '?');
		}
		if (s[i] != '\0') {
			PUT('.');
			PUT('.');
			PUT('.');
		}
		c += n;
	}
	out[o] = '\0';
	return (bad ? -1 : 0);
 full:
	out[o] = '\0';
	return (bad ? -1 : 0);
#undef PUT
}
