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
 * nullmilter: a libmilter milter whose RCPT callback returns CONTINUE and
 * does nothing else.  No milter built on libmilter answers faster on this
 * machine, so it is the baseline scam-back's cached verdicts are held
 * against: what is left between the two is scam-back's own work.  With
 * -l it also writes one line per RCPT to stderr, as scam-back must log
 * each verdict: a second floor, for what the line costs.
 */

#include <sys/types.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "bench.h"

static __dead void usage(void);
static sfsistat	 null_envrcpt(SMFICTX *, char **);

static int	 logline;	/* -l: a line per RCPT, as scam-back logs */

static struct smfiDesc desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_envrcpt = null_envrcpt,
};

static __dead void
usage(void)
{
	fprintf(stderr, "usage: nullmilter [-l] -p conn\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	char	*conn = NULL;
	int	 ch;

	while ((ch = getopt(argc, argv, "lp:")) != -1) {
		switch (ch) {
		case 'l':
			logline = 1;
			break;
		case 'p':
			conn = optarg;
			break;
		default:
			usage();
		}
	}
	if (conn == NULL || argc != optind)
		usage();

	own_session();
	if (smfi_setconn(conn) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE ||
	    smfi_setbacklog(512) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE)
		errx(1, "cannot listen on %s", conn);
	return (smfi_main() == MI_SUCCESS ? 0 : 1);
}

/*
 * With -l, one line to stderr per RCPT, formatted and written at once as
 * scam-back's verdict line is under -d (SPEC section 6): the floor of a
 * milter that must log each verdict.
 */
static sfsistat
null_envrcpt(SMFICTX *ctx, char **argv)
{
	char	line[512];
	int	n;

	if (!logline)
		return (SMFIS_CONTINUE);
	n = snprintf(line, sizeof(line), "engine: accept to=<%s> from=<> "
	    "client=192.0.2.1 verdict=valid source=cache\n",
	    argv != NULL && argv[0] != NULL ? argv[0] : "");
	if (n > 0 && (size_t)n < sizeof(line))
		(void)write(STDERR_FILENO, line, n);
	return (SMFIS_CONTINUE);
}
