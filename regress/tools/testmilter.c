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
 * testmilter: a small libmilter milter that gives every kind of reply,
 * chosen by the recipient's local part, so that milterdrv can be tested
 * against the reference implementation of the protocol.
 *
 *	bad...	550 5.1.1 (smfi_setreply)	tmp...	451 4.4.3
 *	rej...	plain reject			tf...	plain tempfail
 *	acc...	accept				dis...	discard
 *	ml...	multi-line 550			echo...	550 showing macros
 *	slow...	continue after -d ms		del...	delrcpt at eom
 *	add...	addrcpt at eom			quar...	quarantine at eom
 *	hdr...	chgheader+addheader at eom	prog...	progress at eom
 *	anything else: continue
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define MAXDEL		32

struct priv {
	unsigned long	 pflags;
	int		 ndel;
	char		*del[MAXDEL];
	int		 add, quar, hdr, prog;
};

static __dead void usage(void);
static void	 logit(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static const char *sym(SMFICTX *, const char *);
static char	*local(const char *);
static void	 clearmsg(struct priv *);
static sfsistat	 tm_negotiate(SMFICTX *, unsigned long, unsigned long,
		    unsigned long, unsigned long, unsigned long *,
		    unsigned long *, unsigned long *, unsigned long *);
static sfsistat	 tm_connect(SMFICTX *, char *, _SOCK_ADDR *);
static sfsistat	 tm_helo(SMFICTX *, char *);
static sfsistat	 tm_envfrom(SMFICTX *, char **);
static sfsistat	 tm_envrcpt(SMFICTX *, char **);
static sfsistat	 tm_data(SMFICTX *);
static sfsistat	 tm_header(SMFICTX *, char *, char *);
static sfsistat	 tm_eoh(SMFICTX *);
static sfsistat	 tm_body(SMFICTX *, unsigned char *, size_t);
static sfsistat	 tm_eom(SMFICTX *);
static sfsistat	 tm_abort(SMFICTX *);
static sfsistat	 tm_close(SMFICTX *);
static sfsistat	 tm_unknown(SMFICTX *, const char *);

static FILE		*logfp;
static pthread_mutex_t	 logmtx = PTHREAD_MUTEX_INITIALIZER;
static unsigned long	 want_pflags;
static int		 nosymlist;
static long		 slow_ms = 300;

static struct smfiDesc desc = {
	"testmilter",
	SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT |
	    SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	tm_connect,
	tm_helo,
	tm_envfrom,
	tm_envrcpt,
	tm_header,
	tm_eoh,
	tm_body,
	tm_eom,
	tm_abort,
	tm_close,
	tm_unknown,
	tm_data,
	tm_negotiate
};

static __dead void
usage(void)
{
	fprintf(stderr, "usage: testmilter [-S] [-d slow_ms] [-f pflags] "
	    "[-l logfile] -p conn\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char	*conn = NULL;
	char		*ep;
	int		 ch;

	while ((ch = getopt(argc, argv, "d:f:l:p:S")) != -1) {
		switch (ch) {
		case 'd':
			slow_ms = strtol(optarg, &ep, 10);
			if (*ep != '\0' || slow_ms < 0)
				usage();
			break;
		case 'f':
			want_pflags = strtoul(optarg, &ep, 0);
			if (*ep != '\0')
				usage();
			break;
		case 'l':
			if ((logfp = fopen(optarg, "a")) == NULL) {
				fprintf(stderr, "testmilter: %s: %s\n", optarg,
				    strerror(errno));
				exit(1);
			}
			break;
		case 'p':
			conn = optarg;
			break;
		case 'S':
			nosymlist = 1;
			break;
		default:
			usage();
		}
	}
	if (conn == NULL)
		usage();
	if (smfi_setconn((char *)conn) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "testmilter: cannot listen on %s\n", conn);
		exit(1);
	}
	logit("ready");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

static void
logit(const char *fmt, ...)
{
	va_list	 ap;

	if (logfp == NULL)
		return;
	pthread_mutex_lock(&logmtx);
	va_start(ap, fmt);
	vfprintf(logfp, fmt, ap);
	va_end(ap);
	fputc('\n', logfp);
	fflush(logfp);
	pthread_mutex_unlock(&logmtx);
}

static const char *
sym(SMFICTX *ctx, const char *name)
{
	const char	*v;

	v = smfi_getsymval(ctx, (char *)name);
	return v != NULL ? v : "(unset)";
}

/* The local part of <addr>, which picks the reply. */
static char *
local(const char *addr)
{
	char	*l, *p;

	if (*addr == '<')
		addr++;
	if ((l = strdup(addr)) == NULL)
		return NULL;
	if ((p = strchr(l, '@')) != NULL)
		*p = '\0';
	return l;
}

static void
clearmsg(struct priv *p)
{
	int	 i;

	for (i = 0; i < p->ndel; i++)
		free(p->del[i]);
	p->ndel = 0;
	p->add = p->quar = p->hdr = p->prog = 0;
}

static sfsistat
tm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = desc.xxfi_flags & f0;
	*pf1 = (want_pflags | SMFIP_SKIP) & f1;
	*pf2 = 0;
	*pf3 = 0;
	if (!nosymlist && smfi_setsymlist(ctx, SMFIM_ENVRCPT,
	    "{rcpt_addr} {daemon_name}") != MI_SUCCESS)
		return SMFIS_REJECT;
	logit("negotiate actions 0x%lx protocol 0x%lx", f0, f1);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct priv	*p;
	char		 addr[INET6_ADDRSTRLEN] = "unknown";
	int		 port = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return SMFIS_TEMPFAIL;
	p->pflags = want_pflags;
	smfi_setpriv(ctx, p);
	if (sa != NULL && sa->sa_family == AF_INET) {
		struct sockaddr_in	*sin = (struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		port = ntohs(sin->sin_port);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		port = ntohs(sin6->sin6_port);
	} else if (sa != NULL && sa->sa_family == AF_UNIX)
		strlcpy(addr, "unix", sizeof(addr));
	logit("connect %s %s %d daemon_name=%s client_addr=%s", host, addr,
	    port, sym(ctx, "{daemon_name}"), sym(ctx, "{client_addr}"));
	if (strcmp(host, "reject.test") == 0)
		return SMFIS_REJECT;
	if (strcmp(host, "tempfail.test") == 0)
		return SMFIS_TEMPFAIL;
	return SMFIS_CONTINUE;
}

static sfsistat
tm_helo(SMFICTX *ctx, char *name)
{
	logit("helo %s", name);
	if (strcmp(name, "reject.test") == 0) {
		smfi_setreply(ctx, "550", "5.7.1", "HELO refused by testmilter");
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat
tm_envfrom(SMFICTX *ctx, char **argv)
{
	struct priv	*p = smfi_getpriv(ctx);
	int		 i;

	if (p != NULL)
		clearmsg(p);
	logit("mail %s mail_addr=%s auth_authen=%s", argv[0],
	    sym(ctx, "{mail_addr}"), sym(ctx, "{auth_authen}"));
	for (i = 1; argv[i] != NULL; i++)
		logit("mail arg %s", argv[i]);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct priv	*p = smfi_getpriv(ctx);
	char		*l, text[1024], *c;
	sfsistat	 r = SMFIS_CONTINUE;

	logit("rcpt %s rcpt_addr=%s daemon_name=%s", argv[0],
	    sym(ctx, "{rcpt_addr}"), sym(ctx, "{daemon_name}"));
	if ((l = local(argv[0])) == NULL)
		return SMFIS_TEMPFAIL;
	if (strncmp(l, "bad", 3) == 0) {
		snprintf(text, sizeof(text), "%s: Recipient address rejected: "
		    "User unknown", argv[0]);
		/* smfi_setreply treats % as a format character. */
		for (c = text; *c != '\0'; c++)
			if (*c == '%')
				*c = '_';
		smfi_setreply(ctx, "550", "5.1.1", text);
		r = SMFIS_REJECT;
	} else if (strncmp(l, "tmp", 3) == 0) {
		smfi_setreply(ctx, "451", "4.4.3",
		    "Recipient verification temporarily unavailable");
		r = SMFIS_TEMPFAIL;
	} else if (strncmp(l, "rej", 3) == 0)
		r = SMFIS_REJECT;
	else if (strncmp(l, "tf", 2) == 0)
		r = SMFIS_TEMPFAIL;
	else if (strncmp(l, "acc", 3) == 0)
		r = SMFIS_ACCEPT;
	else if (strncmp(l, "dis", 3) == 0)
		r = SMFIS_DISCARD;
	else if (strncmp(l, "ml", 2) == 0) {
		smfi_setmlreply(ctx, "550", "5.1.1", "first line",
		    "second line", NULL);
		r = SMFIS_REJECT;
	} else if (strncmp(l, "echo", 4) == 0) {
		snprintf(text, sizeof(text), "rcpt_addr=%s daemon_name=%s "
		    "client_addr=%s mail_addr=%s auth_authen=%s",
		    sym(ctx, "{rcpt_addr}"), sym(ctx, "{daemon_name}"),
		    sym(ctx, "{client_addr}"), sym(ctx, "{mail_addr}"),
		    sym(ctx, "{auth_authen}"));
		for (c = text; *c != '\0'; c++)
			if (*c == '%')
				*c = '_';
		smfi_setreply(ctx, "550", "5.7.0", text);
		r = SMFIS_REJECT;
	} else if (strncmp(l, "slow", 4) == 0) {
		struct timespec	 ts;

		ts.tv_sec = slow_ms / 1000;
		ts.tv_nsec = (slow_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
	} else if (p != NULL && strncmp(l, "del", 3) == 0) {
		if (p->ndel < MAXDEL && (p->del[p->ndel] = strdup(argv[0])) !=
		    NULL)
			p->ndel++;
	} else if (p != NULL && strncmp(l, "add", 3) == 0)
		p->add = 1;
	else if (p != NULL && strncmp(l, "quar", 4) == 0)
		p->quar = 1;
	else if (p != NULL && strncmp(l, "hdr", 3) == 0)
		p->hdr = 1;
	else if (p != NULL && strncmp(l, "prog", 4) == 0)
		p->prog = 1;
	free(l);
	/* A milter that asked for "no reply" must not give one. */
	if (p != NULL && (p->pflags & SMFIP_NR_RCPT))
		return SMFIS_NOREPLY;
	return r;
}

static sfsistat
tm_data(SMFICTX *ctx)
{
	(void)ctx;
	logit("data");
	return SMFIS_CONTINUE;
}

static sfsistat
tm_header(SMFICTX *ctx, char *name, char *value)
{
	struct priv	*p = smfi_getpriv(ctx);

	logit("header %s: %s", name, value);
	if (p != NULL && (p->pflags & SMFIP_NR_HDR))
		return SMFIS_NOREPLY;
	return SMFIS_CONTINUE;
}

static sfsistat
tm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	logit("eoh");
	return SMFIS_CONTINUE;
}

static sfsistat
tm_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx;
	logit("body %zu", len);
	if (len >= 4 && memcmp(chunk, "skip", 4) == 0)
		return SMFIS_SKIP;
	return SMFIS_CONTINUE;
}

static sfsistat
tm_eom(SMFICTX *ctx)
{
	struct priv	*p = smfi_getpriv(ctx);
	int		 i;

	logit("eom");
	if (p == NULL)
		return SMFIS_CONTINUE;
	if (p->prog)
		smfi_progress(ctx);
	for (i = 0; i < p->ndel; i++)
		smfi_delrcpt(ctx, p->del[i]);
	if (p->add)
		smfi_addrcpt(ctx, "<added@example.net>");
	if (p->quar)
		smfi_quarantine(ctx, "held by testmilter");
	if (p->hdr) {
		smfi_chgheader(ctx, "Subject", 1, "changed");
		smfi_addheader(ctx, "X-Testmilter", "yes");
	}
	clearmsg(p);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_abort(SMFICTX *ctx)
{
	struct priv	*p = smfi_getpriv(ctx);

	logit("abort");
	if (p != NULL)
		clearmsg(p);
	return SMFIS_CONTINUE;
}

static sfsistat
tm_close(SMFICTX *ctx)
{
	struct priv	*p = smfi_getpriv(ctx);

	logit("close");
	if (p != NULL) {
		clearmsg(p);
		free(p);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
tm_unknown(SMFICTX *ctx, const char *cmd)
{
	(void)ctx;
	logit("unknown %s", cmd);
	return SMFIS_CONTINUE;
}
