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
 * milterdrv: the MTA side of the milter protocol (version 6, as sendmail
 * 8.14+ and Postfix speak it), driven by a script, for regress tests.
 * It negotiates first, honours the steps, "no reply" flags and macro lists
 * the milter asks for, and prints one line per reply.  It sends what the
 * script says and does not emulate MTA policy after a reject.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#define NSTAGES		7		/* SMFIM_CONNECT .. SMFIM_EOH */
#define MAXPACKET	(4 * 1024 * 1024)
#define MAXRAWFILE	(16 * 1024 * 1024)
#define MAXSHOW		2000		/* bytes of a field shown in full */

#define EXIT_EXPECT	1
#define EXIT_PROTO	2

enum op {
	OP_CONNECT, OP_MACRO, OP_HELO, OP_MAIL, OP_RCPT, OP_DATA, OP_HEADER,
	OP_EOH, OP_BODY, OP_EOM, OP_ABORT, OP_QUIT, OP_QUITNC, OP_UNKNOWN,
	OP_SLEEP, OP_RAW, OP_RAWFILE, OP_EXPECT, OP_READ, OP_BARRIER,
	OP_TIMEOUT, OP_NEGOTIATE, OP_OPEN, OP_CLOSE
};

static const struct optab {
	const char	*name;
	enum op		 op;
	int		 minargs;	/* words required after the command */
} optab[] = {
	{ "abort",	OP_ABORT,	0 },
	{ "barrier",	OP_BARRIER,	0 },
	{ "body",	OP_BODY,	0 },
	{ "close",	OP_CLOSE,	0 },
	{ "connect",	OP_CONNECT,	2 },
	{ "data",	OP_DATA,	0 },
	{ "eoh",	OP_EOH,		0 },
	{ "eom",	OP_EOM,		0 },
	{ "expect",	OP_EXPECT,	1 },
	{ "header",	OP_HEADER,	1 },
	{ "helo",	OP_HELO,	1 },
	{ "macro",	OP_MACRO,	2 },
	{ "mail",	OP_MAIL,	1 },
	{ "negotiate",	OP_NEGOTIATE,	0 },
	{ "open",	OP_OPEN,	0 },
	{ "quit",	OP_QUIT,	0 },
	{ "quitnc",	OP_QUITNC,	0 },
	{ "raw",	OP_RAW,		1 },
	{ "rawfile",	OP_RAWFILE,	1 },
	{ "rcpt",	OP_RCPT,	1 },
	{ "read",	OP_READ,	0 },
	{ "sleep",	OP_SLEEP,	1 },
	{ "timeout",	OP_TIMEOUT,	1 },
	{ "unknown",	OP_UNKNOWN,	1 },
};

struct cmd {
	enum op		 op;
	int		 line;
	int		 nowait;
	char		*args;		/* everything after the command word */
};

/* Macro stages in SMFIM_* order, as the symbol lists number them. */
static const struct stage {
	char		 letter;
	const char	*defaults;	/* what Postfix sends unless told */
} stages[NSTAGES] = {
	{ SMFIC_CONNECT, "j {daemon_name} {daemon_addr} v _ {client_addr} "
	    "{client_name} {client_port} {client_ptr}" },
	{ SMFIC_HELO, "{tls_version} {cipher} {cipher_bits} {cert_subject} "
	    "{cert_issuer}" },
	{ SMFIC_MAIL, "i {auth_type} {auth_authen} {auth_author} {mail_addr} "
	    "{mail_host} {mail_mailer}" },
	{ SMFIC_RCPT, "i {rcpt_addr} {rcpt_host} {rcpt_mailer}" },
	{ SMFIC_DATA, "i" },
	{ SMFIC_BODYEOB, "i" },
	{ SMFIC_EOH, "i" },
};

struct macro {
	TAILQ_ENTRY(macro)	 entry;
	char			*name;		/* without braces */
	char			*value;		/* NULL in a name list */
};
TAILQ_HEAD(macros, macro);

struct pending {
	TAILQ_ENTRY(pending)	 entry;
	char			*label;
	char			 cmd;		/* the step it answers */
};

struct session {
	int			 idx;
	int			 fd;
	int			 negotiated;
	uint32_t		 version;
	uint32_t		 actions;
	uint32_t		 protocol;
	int			 hassymlist[NSTAGES];
	struct macros		 symlist[NSTAGES];
	struct macros		 queued[NSTAGES];
	struct macros		 values;
	TAILQ_HEAD(, pending)	 pending;
	char			*last;		/* last printed reply line */
	int			 status;
	int			 timeout_ms;
	int			 indata;
	int			 eohsent;
	int			 skipbody;
	int			 connsent;	/* this socket carried a connect */
	char			*obuf;		/* packets not yet written */
	size_t			 olen;
	char			*conndone;	/* why the MTA stopped asking */
	char			*msgdone;
	unsigned int		 msgs;
	int			 line;
};

enum rd { RD_OK, RD_EOF, RD_TIMEOUT, RD_ERR, RD_BAD };

struct barrier {
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	int			 alive;
	int			 arrived;
	unsigned long		 generation;
};

static __dead void usage(void);
static void	 readscript(const char *);
static void	 addcmd(const char *, int);
static void	*runcopy(void *);
static void	 run(struct session *);
static int	 execute(struct session *, struct cmd *, char *);
static char	*subst(const char *, int);
static char	*word(char **);
static char	*pathword(char **);
static char	*trim(char *);
static void	 emit(struct session *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	 problem(struct session *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static char	*esc(const char *, size_t);
static int	 sock_open(struct session *);
static void	 sock_close(struct session *);
static int	 ensure(struct session *);
static int	 negotiate(struct session *);
static void	 queue_pkt(struct session *, char, const void *, size_t);
static int	 send_pkt(struct session *, char, const void *, size_t);
static enum rd	 read_pkt(struct session *, int, char *, char **, size_t *);
static int	 read_reply(struct session *, const char *, char, int);
static void	 decided(struct session *, char, char, const char *);
static void	 push_pending(struct session *, const char *, char);
static int	 drain(struct session *);
static int	 describe(struct session *, char, const char *, size_t,
		    char **);
static int	 step(struct session *, const char *, char, const void *,
		    size_t, int, unsigned long, unsigned long, int);
static void	 send_macros(struct session *, int);
static void	 mac_set(struct macros *, const char *, const char *);
static void	 mac_del(struct macros *, const char *);
static struct macro *mac_get(struct macros *, const char *);
static void	 mac_clear(struct macros *);
static void	 names_parse(struct macros *, const char *);
static char	*normname(const char *);
static char	*stripaddr(const char *);
static int	 stageof(const char *);
static int	 hexdecode(const char *, char **, size_t *);
static void	 ms_sleep(long);
static long	 now_ms(void);
static void	 barrier_wait(void);
static void	 barrier_leave(void);
static void	*xmalloc(size_t);
static char	*xstrdup(const char *);

static struct cmd	*cmds;
static size_t		 ncmds;
static const char	*spec;
static int		 verbose;
static int		 timing;
static int		 strict;
static int		 ncopies;
static int		 timeout_ms = 10000;
static uint32_t		 offer_version = SMFI_PROT_VERSION;
static uint32_t		 offer_actions = SMFI_CURR_ACTS;
static uint32_t		 offer_protocol = SMFI_CURR_PROT;
static pthread_mutex_t	 outmtx = PTHREAD_MUTEX_INITIALIZER;
static struct barrier	 bar = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0
};

static __dead void
usage(void)
{
	fprintf(stderr, "usage: milterdrv [-STv] [-A actions] [-n copies] "
	    "[-P protocol] [-t timeout]\n"
	    "                 [-V version] -s conn [-f script] [command ...]\n");
	exit(EXIT_PROTO);
}

int
main(int argc, char *argv[])
{
	struct session	*sessions;
	pthread_t	*threads;
	const char	*script = NULL, *errstr;
	char		*ep;
	double		 d;
	int		 ch, i, status;

	while ((ch = getopt(argc, argv, "A:f:n:P:s:St:TvV:")) != -1) {
		switch (ch) {
		case 'A':
			offer_actions = strtoul(optarg, &ep, 0);
			if (*optarg == '\0' || *ep != '\0')
				usage();
			break;
		case 'f':
			script = optarg;
			break;
		case 'n':
			ncopies = strtonum(optarg, 1, 10000, &errstr);
			if (errstr != NULL) {
				fprintf(stderr, "milterdrv: -n %s: %s\n",
				    optarg, errstr);
				exit(EXIT_PROTO);
			}
			break;
		case 'P':
			offer_protocol = strtoul(optarg, &ep, 0);
			if (*optarg == '\0' || *ep != '\0')
				usage();
			break;
		case 's':
			spec = optarg;
			break;
		case 'S':
			strict = 1;
			break;
		case 't':
			d = strtod(optarg, &ep);
			if (*optarg == '\0' || *ep != '\0' || d <= 0 ||
			    d > 86400)
				usage();
			timeout_ms = d * 1000;
			if (timeout_ms < 1)
				timeout_ms = 1;
			break;
		case 'T':
			timing = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			offer_version = strtoul(optarg, &ep, 0);
			if (*optarg == '\0' || *ep != '\0')
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (spec == NULL)
		usage();

	signal(SIGPIPE, SIG_IGN);
	if (script != NULL)
		readscript(script);
	for (i = 0; i < argc; i++)
		addcmd(argv[i], i + 1);

	if (ncopies == 0) {
		sessions = xmalloc(sizeof(*sessions));
		sessions->idx = 0;
		runcopy(sessions);
		status = sessions->status;
		free(sessions);
		return status;
	}

	sessions = xmalloc(ncopies * sizeof(*sessions));
	threads = xmalloc(ncopies * sizeof(*threads));
	bar.alive = ncopies;
	for (i = 0; i < ncopies; i++) {
		sessions[i].idx = i;
		if (pthread_create(&threads[i], NULL, runcopy,
		    &sessions[i]) != 0) {
			fprintf(stderr, "milterdrv: cannot start copy %d\n", i);
			exit(EXIT_PROTO);
		}
	}
	status = 0;
	for (i = 0; i < ncopies; i++) {
		pthread_join(threads[i], NULL);
		if (sessions[i].status > status)
			status = sessions[i].status;
	}
	free(threads);
	free(sessions);
	return status;
}

static void
readscript(const char *path)
{
	FILE	*f;
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 n;
	int	 lineno = 0;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "milterdrv: %s: %s\n", path, strerror(errno));
		exit(EXIT_PROTO);
	}
	while ((n = getline(&line, &size, f)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		addcmd(line, lineno);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

/* Parses one command; script errors stop everything before a byte is sent. */
static void
addcmd(const char *text, int lineno)
{
	struct cmd	*c;
	char		*copy, *p, *w;
	size_t		 i;
	int		 nowait = 0, nargs;

	copy = xstrdup(text);
	p = copy;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#') {
		free(copy);
		return;
	}
	w = word(&p);
	if (strcmp(w, "nowait") == 0) {
		nowait = 1;
		w = word(&p);
	}
	for (i = 0; i < sizeof(optab) / sizeof(optab[0]); i++)
		if (strcmp(w, optab[i].name) == 0)
			break;
	if (i == sizeof(optab) / sizeof(optab[0])) {
		fprintf(stderr, "milterdrv: line %d: unknown command \"%s\"\n",
		    lineno, w);
		exit(EXIT_PROTO);
	}
	p = trim(p);
	/* Count words without consuming them: the values may hold spaces. */
	{
		char	*q, *tmp;

		tmp = xstrdup(p);
		q = tmp;
		for (nargs = 0; *word(&q) != '\0'; nargs++)
			;
		free(tmp);
	}
	if (nargs < optab[i].minargs) {
		fprintf(stderr, "milterdrv: line %d: %s needs %d argument%s\n",
		    lineno, optab[i].name, optab[i].minargs,
		    optab[i].minargs == 1 ? "" : "s");
		exit(EXIT_PROTO);
	}
	if (optab[i].op == OP_MACRO) {
		char	*tmp, *q;

		tmp = xstrdup(p);
		q = tmp;
		if (stageof(word(&q)) == -1) {
			fprintf(stderr, "milterdrv: line %d: unknown macro "
			    "stage (C H M R T E N)\n", lineno);
			exit(EXIT_PROTO);
		}
		free(tmp);
	}
	if (optab[i].op == OP_RAW) {
		char	*bytes;
		size_t	 len;

		if (hexdecode(p, &bytes, &len) == -1) {
			fprintf(stderr, "milterdrv: line %d: raw wants an "
			    "even number of hex digits\n", lineno);
			exit(EXIT_PROTO);
		}
		free(bytes);
	}

	if ((cmds = reallocarray(cmds, ncmds + 1, sizeof(*cmds))) == NULL) {
		fprintf(stderr, "milterdrv: out of memory\n");
		exit(EXIT_PROTO);
	}
	c = &cmds[ncmds++];
	c->op = optab[i].op;
	c->line = lineno;
	c->nowait = nowait;
	c->args = xstrdup(p);
	free(copy);
}

static void *
runcopy(void *arg)
{
	struct session	*s = arg;
	int		 i;

	s->fd = -1;
	s->negotiated = 0;
	s->status = 0;
	s->last = NULL;
	s->timeout_ms = timeout_ms;
	s->indata = s->eohsent = s->skipbody = 0;
	s->conndone = s->msgdone = NULL;
	s->connsent = 0;
	s->obuf = NULL;
	s->olen = 0;
	s->msgs = 0;
	for (i = 0; i < NSTAGES; i++) {
		TAILQ_INIT(&s->symlist[i]);
		TAILQ_INIT(&s->queued[i]);
		s->hassymlist[i] = 0;
	}
	TAILQ_INIT(&s->values);
	TAILQ_INIT(&s->pending);

	/* What an MTA knows before any client arrives. */
	mac_set(&s->values, "j", "mx.milterdrv.test");
	mac_set(&s->values, "daemon_name", "scamtest");
	mac_set(&s->values, "daemon_addr", "127.0.0.1");
	mac_set(&s->values, "v", "milterdrv 1.0");

	run(s);

	sock_close(s);
	for (i = 0; i < NSTAGES; i++) {
		mac_clear(&s->symlist[i]);
		mac_clear(&s->queued[i]);
	}
	mac_clear(&s->values);
	free(s->last);
	free(s->conndone);
	free(s->msgdone);
	free(s->obuf);
	if (ncopies > 0)
		barrier_leave();
	return NULL;
}

static void
run(struct session *s)
{
	size_t	 i;
	char	*args;
	int	 r;

	for (i = 0; i < ncmds; i++) {
		s->line = cmds[i].line;
		args = subst(cmds[i].args, s->idx);
		r = execute(s, &cmds[i], args);
		free(args);
		if (r == -1) {
			s->status = EXIT_PROTO;
			return;
		}
	}
	if (s->fd != -1) {
		if (drain(s) == -1) {
			s->status = EXIT_PROTO;
			return;
		}
		send_pkt(s, SMFIC_QUIT, NULL, 0);
		sock_close(s);
	}
}

/* Runs one command; -1 stops this copy with a protocol error. */
static int
execute(struct session *s, struct cmd *c, char *args)
{
	char		*p = args, *a, *b, *label, *buf, *v, *bytes, *host;
	const char	*errstr;
	size_t		 len, off, n;
	long		 ms;
	double		 d;
	int		 r, st, fd, family;
	uint16_t	 port;
	struct in_addr	 in4;
	struct in6_addr	 in6;
	struct stat	 sb;

	switch (c->op) {
	case OP_CONNECT:
		host = word(&p);
		a = word(&p);
		b = word(&p);
		port = 0;
		if (*b != '\0') {
			port = strtonum(b, 0, 65535, &errstr);
			if (errstr != NULL) {
				problem(s, "connect: port %s: %s", b, errstr);
				return -1;
			}
		} else
			port = 54321;
		if (strcmp(a, "unknown") == 0)
			family = SMFIA_UNKNOWN;
		else if (a[0] == '/')
			family = SMFIA_UNIX;
		else if (inet_pton(AF_INET, a, &in4) == 1)
			family = SMFIA_INET;
		else if (inet_pton(AF_INET6, a, &in6) == 1)
			family = SMFIA_INET6;
		else {
			problem(s, "connect: %s is no IPv4 or IPv6 address, "
			    "path or \"unknown\"", a);
			return -1;
		}
		len = strlen(host) + 1 + 1;
		if (family != SMFIA_UNKNOWN)
			len += 2 + strlen(a) + 1;
		buf = xmalloc(len);
		off = strlcpy(buf, host, len) + 1;
		buf[off++] = family;
		if (family != SMFIA_UNKNOWN) {
			if (family == SMFIA_UNIX)
				port = 0;
			port = htons(port);
			memcpy(buf + off, &port, 2);
			off += 2;
			memcpy(buf + off, a, strlen(a) + 1);
			port = ntohs(port);
		}
		mac_set(&s->values, "client_name", host);
		mac_set(&s->values, "client_ptr", host);
		if (family == SMFIA_UNKNOWN) {
			mac_del(&s->values, "client_addr");
			mac_del(&s->values, "client_port");
			mac_set(&s->values, "_", host);
		} else {
			char	 tmp[32];

			mac_set(&s->values, "client_addr", a);
			snprintf(tmp, sizeof(tmp), "%u", port);
			mac_set(&s->values, "client_port", tmp);
			if (asprintf(&v, "%s [%s]", host, a) == -1)
				v = NULL;
			mac_set(&s->values, "_", v != NULL ? v : host);
			free(v);
		}
		/* A new SMTP client is a new milter session, as in sendmail. */
		if (s->fd != -1 && s->connsent) {
			if (drain(s) == -1 ||
			    send_pkt(s, SMFIC_QUIT, NULL, 0) == -1) {
				free(buf);
				return -1;
			}
			sock_close(s);
		}
		label = NULL;
		if (asprintf(&label, "connect %s [%s]", host, a) == -1)
			label = NULL;
		v = esc(label != NULL ? label : "connect", SIZE_MAX);
		r = step(s, v, SMFIC_CONNECT, buf, len, SMFIM_CONNECT,
		    SMFIP_NOCONNECT, SMFIP_NR_CONN, c->nowait);
		if (s->fd != -1)
			s->connsent = 1;
		free(v);
		free(label);
		free(buf);
		return r;
	case OP_MACRO:
		a = word(&p);
		st = stageof(a);
		b = word(&p);
		v = normname(b);
		mac_set(&s->queued[st], v, trim(p));
		free(v);
		return 0;
	case OP_HELO:
		label = NULL;
		if (asprintf(&label, "helo %s", p) == -1)
			label = NULL;
		v = esc(label != NULL ? label : "helo", SIZE_MAX);
		r = step(s, v, SMFIC_HELO, p, strlen(p) + 1, SMFIM_HELO,
		    SMFIP_NOHELO, SMFIP_NR_HELO, c->nowait);
		free(v);
		free(label);
		return r;
	case OP_MAIL:
	case OP_RCPT:
		a = pathword(&p);
		/* The address and each ESMTP argument, NUL-terminated. */
		len = strlen(a) + 1;
		buf = xmalloc(len + strlen(p) + 1);
		memcpy(buf, a, len);
		while (*(b = word(&p)) != '\0') {
			n = strlen(b) + 1;
			memcpy(buf + len, b, n);
			len += n;
		}
		v = stripaddr(a);
		b = strrchr(v, '@');
		if (c->op == OP_MAIL) {
			char	 qid[32];

			s->msgs++;
			snprintf(qid, sizeof(qid), "4D%04X%06u", s->idx,
			    s->msgs);
			mac_set(&s->values, "i", qid);
			mac_set(&s->values, "mail_addr", v);
			mac_set(&s->values, "mail_host", b != NULL ?
			    b + 1 : "");
			mac_set(&s->values, "mail_mailer", "esmtp");
			s->indata = s->eohsent = s->skipbody = 0;
		} else {
			mac_set(&s->values, "rcpt_addr", v);
			mac_set(&s->values, "rcpt_host", b != NULL ?
			    b + 1 : "");
			mac_set(&s->values, "rcpt_mailer", "esmtp");
		}
		free(v);
		label = NULL;
		if (asprintf(&label, "%s %s", c->op == OP_MAIL ? "mail" :
		    "rcpt", a) == -1)
			label = NULL;
		v = esc(label != NULL ? label : "rcpt", SIZE_MAX);
		if (c->op == OP_MAIL)
			r = step(s, v, SMFIC_MAIL, buf, len, SMFIM_ENVFROM,
			    SMFIP_NOMAIL, SMFIP_NR_MAIL, c->nowait);
		else
			r = step(s, v, SMFIC_RCPT, buf, len, SMFIM_ENVRCPT,
			    SMFIP_NORCPT, SMFIP_NR_RCPT, c->nowait);
		free(v);
		free(label);
		free(buf);
		return r;
	case OP_DATA:
		s->indata = 1;
		return step(s, "data", SMFIC_DATA, NULL, 0, SMFIM_DATA,
		    SMFIP_NODATA, SMFIP_NR_DATA, c->nowait);
	case OP_HEADER:
		if (!s->indata && execute(s, &(struct cmd){ OP_DATA, c->line,
		    0, NULL }, NULL) == -1)
			return -1;
		a = word(&p);
		len = strlen(a) + 1 + 1 + strlen(p) + 1;
		buf = xmalloc(len);
		off = strlcpy(buf, a, len) + 1;
		/* An MTA keeps the space after the colon only on request. */
		if (s->protocol & SMFIP_HDR_LEADSPC)
			buf[off++] = ' ';
		else
			len--;
		memcpy(buf + off, p, strlen(p) + 1);
		label = NULL;
		if (asprintf(&label, "header %s", a) == -1)
			label = NULL;
		v = esc(label != NULL ? label : "header", SIZE_MAX);
		r = step(s, v, SMFIC_HEADER, buf, len, -1, SMFIP_NOHDRS,
		    SMFIP_NR_HDR, c->nowait);
		free(v);
		free(label);
		free(buf);
		return r;
	case OP_EOH:
		if (!s->indata && execute(s, &(struct cmd){ OP_DATA, c->line,
		    0, NULL }, NULL) == -1)
			return -1;
		s->eohsent = 1;
		return step(s, "eoh", SMFIC_EOH, NULL, 0, SMFIM_EOH,
		    SMFIP_NOEOH, SMFIP_NR_EOH, c->nowait);
	case OP_BODY:
		if (!s->eohsent && execute(s, &(struct cmd){ OP_EOH, c->line,
		    0, NULL }, NULL) == -1)
			return -1;
		len = strlen(p) + 2;
		buf = xmalloc(len + 1);
		snprintf(buf, len + 1, "%s\r\n", p);
		for (off = 0; off < len; off += n) {
			n = len - off;
			if (n > MILTER_CHUNK_SIZE)
				n = MILTER_CHUNK_SIZE;
			if (s->skipbody) {
				emit(s, "body: skipped (after skip)");
				break;
			}
			if (step(s, "body", SMFIC_BODY, buf + off, n, -1,
			    SMFIP_NOBODY, SMFIP_NR_BODY, c->nowait) == -1) {
				free(buf);
				return -1;
			}
		}
		free(buf);
		return 0;
	case OP_EOM:
		if (!s->eohsent && execute(s, &(struct cmd){ OP_EOH, c->line,
		    0, NULL }, NULL) == -1)
			return -1;
		r = step(s, "eom", SMFIC_BODYEOB, NULL, 0, SMFIM_EOM, 0, 0,
		    c->nowait);
		s->indata = s->eohsent = s->skipbody = 0;
		return r;
	case OP_ABORT:
		if (ensure(s) == -1)
			return -1;
		s->indata = s->eohsent = s->skipbody = 0;
		return send_pkt(s, SMFIC_ABORT, NULL, 0);
	case OP_QUIT:
	case OP_QUITNC:
		if (s->fd == -1)
			return 0;
		if (send_pkt(s, c->op == OP_QUIT ? SMFIC_QUIT : SMFIC_QUIT_NC,
		    NULL, 0) == -1)
			return -1;
		if (c->op == OP_QUIT)
			sock_close(s);
		else {
			s->connsent = 0;
			free(s->conndone);
			free(s->msgdone);
			s->conndone = s->msgdone = NULL;
		}
		return 0;
	case OP_UNKNOWN:
		label = NULL;
		if (asprintf(&label, "unknown %s", p) == -1)
			label = NULL;
		v = esc(label != NULL ? label : "unknown", SIZE_MAX);
		r = step(s, v, SMFIC_UNKNOWN, p, strlen(p) + 1, -1,
		    SMFIP_NOUNKNOWN, SMFIP_NR_UNKN, c->nowait);
		free(v);
		free(label);
		return r;
	case OP_SLEEP:
		ms = strtonum(word(&p), 0, 3600000, &errstr);
		if (errstr != NULL) {
			problem(s, "sleep: %s", errstr);
			return -1;
		}
		ms_sleep(ms);
		return 0;
	case OP_RAW:
	case OP_RAWFILE:
		if (c->op == OP_RAW) {
			if (hexdecode(p, &bytes, &len) == -1) {
				problem(s, "raw: bad hex");
				return -1;
			}
		} else {
			if ((fd = open(p, O_RDONLY)) == -1 ||
			    fstat(fd, &sb) == -1) {
				problem(s, "rawfile %s: %s", p,
				    strerror(errno));
				if (fd != -1)
					close(fd);
				return -1;
			}
			if (sb.st_size > MAXRAWFILE) {
				problem(s, "rawfile %s: too big", p);
				close(fd);
				return -1;
			}
			len = sb.st_size;
			bytes = xmalloc(len + 1);
			for (off = 0; off < len; off += n) {
				ssize_t	 nr;

				if ((nr = read(fd, bytes + off, len - off)) <= 0)
					break;
				n = nr;
			}
			len = off;
			close(fd);
		}
		if (s->fd == -1 && sock_open(s) == -1) {
			free(bytes);
			return -1;
		}
		if (verbose)
			fprintf(stderr, "[%d] > raw %zu bytes\n", s->idx, len);
		r = 0;
		for (off = 0; off < len && r == 0; off += n) {
			struct pollfd	 pfd;
			ssize_t		 nw;

			n = 0;
			pfd.fd = s->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, s->timeout_ms) <= 0) {
				emit(s, "raw: cannot send (milter not reading)");
				r = 1;
				break;
			}
			if ((nw = write(s->fd, bytes + off, len - off)) == -1) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				emit(s, "raw: send failed: %s", strerror(errno));
				sock_close(s);
				r = 1;
				break;
			}
			n = nw;
		}
		free(bytes);
		if (r != 0)
			return 0;
		if (c->nowait) {
			push_pending(s, "raw", 0);
			return 0;
		}
		return read_reply(s, "raw", 0, 0);
	case OP_EXPECT:
		if (s->last == NULL || strstr(s->last, p) == NULL) {
			problem(s, "expected \"%s\", last reply \"%s\"", p,
			    s->last != NULL ? s->last : "(none)");
			if (s->status < EXIT_EXPECT)
				s->status = EXIT_EXPECT;
		}
		return 0;
	case OP_READ:
		if (s->fd == -1) {
			emit(s, "read: not connected");
			return 0;
		}
		if (!TAILQ_EMPTY(&s->pending)) {
			struct pending	*pd;

			pd = TAILQ_FIRST(&s->pending);
			TAILQ_REMOVE(&s->pending, pd, entry);
			r = read_reply(s, pd->label, pd->cmd, 0);
			free(pd->label);
			free(pd);
			return r;
		}
		return read_reply(s, "read", 0, 0);
	case OP_BARRIER:
		if (ncopies > 0)
			barrier_wait();
		return 0;
	case OP_TIMEOUT:
		d = strtod(p, &v);
		if (v == p || d <= 0 || d > 86400) {
			problem(s, "timeout: bad number of seconds \"%s\"", p);
			return -1;
		}
		s->timeout_ms = d * 1000 < 1 ? 1 : d * 1000;
		return 0;
	case OP_NEGOTIATE:
		if (s->fd == -1 && sock_open(s) == -1)
			return -1;
		return negotiate(s);
	case OP_OPEN:
		if (s->fd == -1)
			return sock_open(s);
		return 0;
	case OP_CLOSE:
		sock_close(s);
		return 0;
	}
	return 0;
}

/*
 * One protocol step: macros of its stage, the command, its reply.  A step
 * the milter asked not to get is reported as skipped, one it wants no reply
 * for as noreply.
 */
static int
step(struct session *s, const char *label, char cmd, const void *data,
    size_t len, int stage, unsigned long noflag, unsigned long nrflag,
    int nowait)
{
	const char	*why = NULL;

	if (ensure(s) == -1)
		return -1;
	switch (cmd) {
	case SMFIC_CONNECT:
		free(s->conndone);
		free(s->msgdone);
		s->conndone = s->msgdone = NULL;
		break;
	case SMFIC_MAIL:
		free(s->msgdone);
		s->msgdone = NULL;
		/* FALLTHROUGH */
	case SMFIC_HELO:
	case SMFIC_UNKNOWN:
		why = s->conndone;
		break;
	default:
		why = s->conndone != NULL ? s->conndone : s->msgdone;
		break;
	}
	if (why == NULL && noflag != 0 && (s->protocol & noflag))
		why = "milter asked";
	if (why != NULL) {
		if (stage >= 0)
			mac_clear(&s->queued[stage]);
		emit(s, "%s: skipped (%s)", label, why);
		if (cmd == SMFIC_BODYEOB) {
			free(s->msgdone);
			s->msgdone = NULL;
		}
		return 0;
	}
	if (stage >= 0)
		send_macros(s, stage);
	if (send_pkt(s, cmd, data, len) == -1)
		return -1;
	if (nrflag != 0 && (s->protocol & nrflag)) {
		emit(s, "%s: noreply", label);
		return 0;
	}
	if (nowait) {
		push_pending(s, label, cmd);
		return 0;
	}
	if (drain(s) == -1)
		return -1;
	return read_reply(s, label, cmd, 1);
}

static void
push_pending(struct session *s, const char *label, char cmd)
{
	struct pending	*pd;

	pd = xmalloc(sizeof(*pd));
	pd->label = xstrdup(label);
	pd->cmd = cmd;
	TAILQ_INSERT_TAIL(&s->pending, pd, entry);
}

/*
 * What an MTA does after a milter's verdict: it stops asking the milter
 * about a connection it accepted or rejected at connect, and about a message
 * it accepted, or rejected before RCPT or after DATA.  libmilter would
 * silently ignore those steps, so sending them would only hang the script.
 */
static void
decided(struct session *s, char step, char reply, const char *text)
{
	char	**slot = NULL, *why;

	switch (reply) {
	case SMFIR_ACCEPT:
	case SMFIR_REJECT:
	case SMFIR_TEMPFAIL:
	case SMFIR_DISCARD:
	case SMFIR_REPLYCODE:
		break;
	default:
		return;
	}
	switch (step) {
	case SMFIC_CONNECT:
		slot = &s->conndone;
		break;
	case SMFIC_HELO:
		if (reply == SMFIR_ACCEPT)
			slot = &s->conndone;
		break;
	case SMFIC_RCPT:
		if (reply == SMFIR_ACCEPT)
			slot = &s->msgdone;
		break;
	case SMFIC_MAIL:
	case SMFIC_DATA:
	case SMFIC_HEADER:
	case SMFIC_EOH:
	case SMFIC_BODY:
		slot = &s->msgdone;
		break;
	case SMFIC_BODYEOB:
		free(s->msgdone);
		s->msgdone = NULL;
		break;
	}
	if (slot == NULL)
		return;
	if (asprintf(&why, "after %.*s", (int)strcspn(text, " "), text) == -1)
		why = xstrdup("after a verdict");
	free(*slot);
	*slot = why;
}

/* Reads the replies of earlier "nowait" commands, in order. */
static int
drain(struct session *s)
{
	struct pending	*pd;
	int		 r;

	while ((pd = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, pd, entry);
		r = read_reply(s, pd->label, pd->cmd, 1);
		free(pd->label);
		free(pd);
		if (r == -1)
			return -1;
	}
	return 0;
}

static void
send_macros(struct session *s, int stage)
{
	struct macros	 names;
	struct macro	*m, *q;
	char		*buf, *wire;
	size_t		 len, size, n;

	TAILQ_INIT(&names);
	if (s->hassymlist[stage]) {
		TAILQ_FOREACH(m, &s->symlist[stage], entry)
			mac_set(&names, m->name, NULL);
	} else if (!strict)
		names_parse(&names, stages[stage].defaults);
	/* Explicit macros of the script win over what the MTA knows. */
	while ((q = TAILQ_FIRST(&s->queued[stage])) != NULL) {
		mac_set(&s->values, q->name, q->value);
		if (!strict)
			mac_set(&names, q->name, NULL);
		TAILQ_REMOVE(&s->queued[stage], q, entry);
		free(q->name);
		free(q->value);
		free(q);
	}

	size = 1;
	buf = xmalloc(size);
	buf[0] = stages[stage].letter;
	len = 1;
	TAILQ_FOREACH(m, &names, entry) {
		if ((q = mac_get(&s->values, m->name)) == NULL)
			continue;
		if (strlen(m->name) == 1)
			wire = xstrdup(m->name);
		else if (asprintf(&wire, "{%s}", m->name) == -1) {
			fprintf(stderr, "milterdrv: out of memory\n");
			exit(EXIT_PROTO);
		}
		n = strlen(wire) + 1 + strlen(q->value) + 1;
		if ((buf = realloc(buf, len + n)) == NULL) {
			fprintf(stderr, "milterdrv: out of memory\n");
			exit(EXIT_PROTO);
		}
		memcpy(buf + len, wire, strlen(wire) + 1);
		len += strlen(wire) + 1;
		memcpy(buf + len, q->value, strlen(q->value) + 1);
		len += strlen(q->value) + 1;
		free(wire);
	}
	mac_clear(&names);
	if (len > 1)
		queue_pkt(s, SMFIC_MACRO, buf, len);
	free(buf);
}

/* Connects and negotiates if that has not happened yet. */
static int
ensure(struct session *s)
{
	if (s->fd == -1 && sock_open(s) == -1)
		return -1;
	if (!s->negotiated)
		return negotiate(s);
	return 0;
}

static int
negotiate(struct session *s)
{
	uint32_t	 v[3];
	char		 cmd, *buf, *names, *line, *tmp, *e;
	size_t		 len, off, n;
	uint32_t	 idx;
	enum rd		 r;
	int		 i;

	v[0] = htonl(offer_version);
	v[1] = htonl(offer_actions);
	v[2] = htonl(offer_protocol);
	if (send_pkt(s, SMFIC_OPTNEG, v, sizeof(v)) == -1)
		return -1;
	r = read_pkt(s, 1, &cmd, &buf, &len);
	switch (r) {
	case RD_OK:
		break;
	case RD_EOF:
		emit(s, "negotiate: eof");
		problem(s, "milter closed the connection during negotiation");
		return -1;
	case RD_TIMEOUT:
		emit(s, "negotiate: timeout");
		problem(s, "no reply to negotiation within %d ms",
		    s->timeout_ms);
		return -1;
	default:
		emit(s, "negotiate: bad reply");
		problem(s, "bad reply to negotiation");
		return -1;
	}
	if (cmd != SMFIC_OPTNEG || len < MILTER_OPTLEN) {
		char	*d = NULL;

		describe(s, cmd, buf, len, &d);
		emit(s, "negotiate: %s", d);
		free(d);
		free(buf);
		problem(s, "milter did not negotiate (reply '%c', %zu bytes)",
		    isprint((unsigned char)cmd) ? cmd : '?', len);
		return -1;
	}
	memcpy(v, buf, sizeof(v));
	s->version = ntohl(v[0]);
	s->actions = ntohl(v[1]);
	s->protocol = ntohl(v[2]);
	for (i = 0; i < NSTAGES; i++) {
		mac_clear(&s->symlist[i]);
		s->hassymlist[i] = 0;
	}

	line = NULL;
	if (asprintf(&line, "version %u actions 0x%x protocol 0x%x",
	    s->version, s->actions, s->protocol) == -1)
		line = NULL;
	for (off = MILTER_OPTLEN; off + 4 <= len; off += n) {
		memcpy(&idx, buf + off, 4);
		idx = ntohl(idx);
		off += 4;
		if ((e = memchr(buf + off, '\0', len - off)) == NULL) {
			emit(s, "negotiate: symbol list without NUL");
			free(buf);
			free(line);
			problem(s, "bad symbol list in negotiation");
			return -1;
		}
		n = e - (buf + off) + 1;
		names = esc(buf + off, n - 1);
		if (idx < NSTAGES) {
			names_parse(&s->symlist[idx], buf + off);
			s->hassymlist[idx] = 1;
			tmp = NULL;
			if (asprintf(&tmp, "%s%s %c=%s", line,
			    strstr(line, "symlist") ? "" : " symlist",
			    stages[idx].letter, names) != -1) {
				free(line);
				line = tmp;
			}
		} else
			fprintf(stderr, "milterdrv: symbol list for unknown "
			    "stage %u ignored\n", idx);
		free(names);
	}
	if (off != len)
		fprintf(stderr, "milterdrv: %zu stray bytes after "
		    "negotiation\n", len - off);
	free(buf);
	emit(s, "negotiate: %s", line != NULL ? line : "?");
	free(line);

	if (s->version < 2 || s->version > offer_version)
		fprintf(stderr, "milterdrv: milter answers version %u to "
		    "our %u\n", s->version, offer_version);
	if ((s->actions & ~offer_actions) != 0)
		fprintf(stderr, "milterdrv: milter wants actions 0x%x that "
		    "were not offered\n", s->actions & ~offer_actions);
	if ((s->protocol & ~offer_protocol) != 0)
		fprintf(stderr, "milterdrv: milter wants protocol flags 0x%x "
		    "that were not offered\n", s->protocol & ~offer_protocol);
	s->negotiated = 1;
	return 0;
}

/*
 * Reads packets up to the one that ends the step.  With fatal set, end of
 * file, a timeout or a bad packet stop the copy; otherwise (raw, read) they
 * are only reported.
 */
static int
read_reply(struct session *s, const char *label, char step, int fatal)
{
	char	 cmd, *buf, *d;
	size_t	 len;
	long	 start;
	int	 final;

	start = now_ms();
	for (;;) {
		switch (read_pkt(s, 0, &cmd, &buf, &len)) {
		case RD_OK:
			break;
		case RD_EOF:
			emit(s, "%s: eof", label);
			sock_close(s);
			if (fatal) {
				problem(s, "milter closed the connection");
				return -1;
			}
			return 0;
		case RD_TIMEOUT:
			if (fatal) {
				emit(s, "%s: timeout", label);
				problem(s, "%s: no reply within %d ms", label,
				    s->timeout_ms);
				return -1;
			}
			emit(s, "%s: no reply", label);
			return 0;
		case RD_BAD:
			emit(s, "%s: bad packet", label);
			sock_close(s);
			if (fatal) {
				problem(s, "bad packet from the milter");
				return -1;
			}
			return 0;
		case RD_ERR:
			emit(s, "%s: error %s", label, strerror(errno));
			sock_close(s);
			if (fatal) {
				problem(s, "read: %s", strerror(errno));
				return -1;
			}
			return 0;
		}
		d = NULL;
		final = describe(s, cmd, buf, len, &d);
		if (strncmp(d, "unknown reply", 13) == 0 && fatal) {
			emit(s, "%s: %s", label, d);
			free(d);
			free(buf);
			sock_close(s);
			problem(s, "%s: unknown reply from the milter", label);
			return -1;
		}
		if (cmd == SMFIR_SKIP)
			s->skipbody = 1;
		if (timing)
			emit(s, "%s: %s (%ld ms)", label, d, now_ms() - start);
		else
			emit(s, "%s: %s", label, d);
		if (final)
			decided(s, step, cmd, d);
		free(d);
		free(buf);
		if (final)
			return 0;
	}
}

/* Turns one reply packet into words; returns whether it ends the step. */
static int
describe(struct session *s, char cmd, const char *buf, size_t len, char **out)
{
	const char	*name = NULL;
	char		*f[2], *e;
	size_t		 off, i, nf, maxf = 1;
	uint32_t	 v[3], idx = 0;
	int		 final = 1, r = 0, hasidx = 0;

	switch (cmd) {
	case SMFIR_CONTINUE:	name = "continue"; break;
	case SMFIR_ACCEPT:	name = "accept"; break;
	case SMFIR_REJECT:	name = "reject"; break;
	case SMFIR_TEMPFAIL:	name = "tempfail"; break;
	case SMFIR_DISCARD:	name = "discard"; break;
	case SMFIR_SKIP:	name = "skip"; break;
	case SMFIR_CONN_FAIL:	name = "conn_fail"; break;
	case SMFIR_SHUTDOWN:	name = "shutdown"; break;
	case SMFIR_REPLYCODE:	name = "replycode"; break;
	case SMFIR_PROGRESS:	name = "progress"; final = 0; break;
	case SMFIR_ADDRCPT:	name = "addrcpt"; final = 0; break;
	case SMFIR_DELRCPT:	name = "delrcpt"; final = 0; break;
	case SMFIR_ADDRCPT_PAR:	name = "addrcpt_par"; final = 0; break;
	case SMFIR_CHGFROM:	name = "chgfrom"; final = 0; break;
	case SMFIR_ADDHEADER:	name = "addheader"; final = 0; break;
	case SMFIR_INSHEADER:	name = "insheader"; final = 0; hasidx = 1;
				break;
	case SMFIR_CHGHEADER:	name = "chgheader"; final = 0; hasidx = 1;
				break;
	case SMFIR_QUARANTINE:	name = "quarantine"; final = 0; break;
	case SMFIR_REPLBODY:	name = "replbody"; final = 0; break;
	case SMFIR_SETSYMLIST:	name = "setsymlist"; final = 0; break;
	case SMFIC_OPTNEG:
		if (len < MILTER_OPTLEN) {
			r = asprintf(out, "optneg (%zu bytes)", len);
			break;
		}
		memcpy(v, buf, sizeof(v));
		r = asprintf(out, "optneg version %u actions 0x%x protocol "
		    "0x%x", ntohl(v[0]), ntohl(v[1]), ntohl(v[2]));
		break;
	default:
		r = asprintf(out, "unknown reply 0x%02x (%zu bytes)",
		    (unsigned char)cmd, len);
		break;
	}
	if (name == NULL) {
		if (r == -1)
			*out = xstrdup("?");
		return final;
	}

	off = 0;
	if (hasidx) {
		if (len < 4) {
			if (asprintf(out, "%s (short, %zu bytes)", name,
			    len) == -1)
				*out = xstrdup(name);
			return final;
		}
		memcpy(&idx, buf, 4);
		idx = ntohl(idx);
		off = 4;
	}
	if (cmd == SMFIR_REPLBODY) {
		if (asprintf(out, "replbody %zu bytes", len) == -1)
			*out = xstrdup(name);
		return final;
	}
	/* The remaining fields are NUL-terminated strings. */
	switch (cmd) {
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_CHGFROM:
	case SMFIR_ADDHEADER:
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		maxf = 2;
		break;
	}
	for (nf = 0; nf < maxf && off < len; nf++) {
		e = memchr(buf + off, '\0', len - off);
		i = e != NULL ? (size_t)(e - (buf + off)) : len - off;
		f[nf] = esc(buf + off, i);
		off += i + (e != NULL);
	}
	if (cmd == SMFIR_REPLYCODE && nf >= 1) {
		if (f[0][0] == '5')
			name = "reject";
		else if (f[0][0] == '4')
			name = "tempfail";
	}
	switch (nf) {
	case 0:
		r = asprintf(out, "%s", name);
		break;
	case 1:
		r = asprintf(out, "%s %s", name, f[0]);
		break;
	default:
		if (cmd == SMFIR_ADDHEADER || hasidx) {
			if (hasidx)
				r = asprintf(out, "%s %u %s: %s", name, idx,
				    f[0], f[1]);
			else
				r = asprintf(out, "%s %s: %s", name, f[0],
				    f[1]);
		} else
			r = asprintf(out, "%s %s %s", name, f[0], f[1]);
		break;
	}
	if (r == -1)
		*out = xstrdup(name);
	if (off < len && len - off > 0) {
		char	*t;

		if (asprintf(&t, "%s (+%zu bytes)", *out, len - off) != -1) {
			free(*out);
			*out = t;
		}
	}
	for (i = 0; i < nf; i++)
		free(f[i]);
	(void)s;
	return final;
}

static int
sock_open(struct session *s)
{
	struct addrinfo		 hints, *res, *ai;
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			*copy, *host, *port, *at;
	const char		*path = NULL;
	int			 fd = -1, e = 0, family = AF_UNSPEC, flags;
	socklen_t		 elen;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		path = strchr(spec, ':') + 1;
	else if (strncmp(spec, "inet:", 5) == 0)
		family = AF_INET;
	else if (strncmp(spec, "inet6:", 6) == 0)
		family = AF_INET6;
	else
		path = spec;

	if (path != NULL) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
		    sizeof(sun.sun_path)) {
			problem(s, "%s: path too long", path);
			return -1;
		}
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			problem(s, "cannot connect to %s: %s", spec,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
	} else {
		copy = xstrdup(strchr(spec, ':') + 1);
		port = copy;
		if ((at = strchr(copy, '@')) != NULL) {
			*at = '\0';
			host = at + 1;
			if (*host == '[' && host[strlen(host) - 1] == ']') {
				host[strlen(host) - 1] = '\0';
				host++;
			}
		} else
			host = family == AF_INET6 ? "::1" : "127.0.0.1";
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = family;
		hints.ai_socktype = SOCK_STREAM;
		if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
			problem(s, "%s: %s", spec, gai_strerror(e));
			free(copy);
			return -1;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((fd = socket(ai->ai_family, ai->ai_socktype,
			    ai->ai_protocol)) == -1) {
				e = errno;
				continue;
			}
			/* Bounded connect: a dead host must not hang a test. */
			flags = fcntl(fd, F_GETFL);
			fcntl(fd, F_SETFL, flags | O_NONBLOCK);
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
			    errno != EINPROGRESS) {
				e = errno;
				close(fd);
				fd = -1;
				continue;
			}
			pfd.fd = fd;
			pfd.events = POLLOUT;
			elen = sizeof(e);
			if (poll(&pfd, 1, s->timeout_ms) != 1) {
				e = ETIMEDOUT;
				close(fd);
				fd = -1;
				continue;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
			    &elen) == -1 || e != 0) {
				close(fd);
				fd = -1;
				continue;
			}
			fcntl(fd, F_SETFL, flags);
			e = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &e,
			    sizeof(e));
			break;
		}
		freeaddrinfo(res);
		free(copy);
		if (fd == -1) {
			problem(s, "cannot connect to %s: %s", spec,
			    strerror(e));
			return -1;
		}
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	s->fd = fd;
	s->negotiated = 0;
	return 0;
}

static void
sock_close(struct session *s)
{
	struct pending	*pd;

	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->negotiated = 0;
	s->protocol = 0;
	s->connsent = 0;
	s->olen = 0;
	free(s->conndone);
	free(s->msgdone);
	s->conndone = s->msgdone = NULL;
	while ((pd = TAILQ_FIRST(&s->pending)) != NULL) {
		TAILQ_REMOVE(&s->pending, pd, entry);
		free(pd->label);
		free(pd);
	}
}

/*
 * Packets are collected and written together, as an MTA's buffered stream
 * does: macros and their command in one segment, so Nagle's algorithm and
 * delayed ACKs never add 40 ms to a step.
 */
static void
queue_pkt(struct session *s, char cmd, const void *data, size_t len)
{
	uint32_t	 n;

	if ((s->obuf = realloc(s->obuf, s->olen + 5 + len)) == NULL) {
		fprintf(stderr, "milterdrv: out of memory\n");
		exit(EXIT_PROTO);
	}
	n = htonl(len + 1);
	memcpy(s->obuf + s->olen, &n, 4);
	s->obuf[s->olen + 4] = cmd;
	if (len > 0)
		memcpy(s->obuf + s->olen + 5, data, len);
	s->olen += 5 + len;
	if (verbose) {
		char	*e = esc(data != NULL ? data : "", len);

		fprintf(stderr, "[%d] > %c %s\n", s->idx, cmd, e);
		free(e);
	}
}

static int
send_pkt(struct session *s, char cmd, const void *data, size_t len)
{
	struct pollfd	 pfd;
	size_t		 off;
	ssize_t		 w;

	if (s->fd == -1) {
		problem(s, "not connected");
		return -1;
	}
	queue_pkt(s, cmd, data, len);
	for (off = 0; off < s->olen; ) {
		pfd.fd = s->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, s->timeout_ms) <= 0) {
			s->olen = 0;
			problem(s, "milter does not read (send timed out)");
			return -1;
		}
		if ((w = write(s->fd, s->obuf + off, s->olen - off)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			s->olen = 0;
			problem(s, "send: %s", strerror(errno));
			return -1;
		}
		off += w;
	}
	s->olen = 0;
	return 0;
}

/* Reads n bytes by the deadline. */
static enum rd
read_n(struct session *s, char *buf, size_t n, long deadline)
{
	struct pollfd	 pfd;
	size_t		 off;
	ssize_t		 r;
	long		 left;

	for (off = 0; off < n; ) {
		left = deadline - now_ms();
		if (left <= 0)
			return RD_TIMEOUT;
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, left)) == -1) {
			if (errno == EINTR)
				continue;
			return RD_ERR;
		}
		if (r == 0)
			return RD_TIMEOUT;
		if ((r = read(s->fd, buf + off, n - off)) == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return RD_EOF;
			return RD_ERR;
		}
		if (r == 0)
			return RD_EOF;
		off += r;
	}
	return RD_OK;
}

static enum rd
read_pkt(struct session *s, int quiet, char *cmd, char **data, size_t *len)
{
	uint32_t	 n;
	long		 deadline;
	enum rd		 r;

	*data = NULL;
	*len = 0;
	if (s->fd == -1)
		return RD_EOF;
	deadline = now_ms() + s->timeout_ms;
	if ((r = read_n(s, (char *)&n, sizeof(n), deadline)) != RD_OK)
		return r;
	n = ntohl(n);
	if (n < 1 || n > MAXPACKET) {
		fprintf(stderr, "milterdrv: packet length %u out of range\n",
		    n);
		return RD_BAD;
	}
	*data = xmalloc(n + 1);
	if ((r = read_n(s, *data, n, deadline)) != RD_OK) {
		free(*data);
		*data = NULL;
		return r == RD_EOF ? RD_BAD : r;
	}
	/* The command byte first, then the data, NUL-terminated for safety. */
	*cmd = (*data)[0];
	*len = n - 1;
	memmove(*data, *data + 1, *len);
	(*data)[*len] = '\0';
	if (verbose && !quiet)
		fprintf(stderr, "[%d] < %c %zu bytes\n", s->idx,
		    isprint((unsigned char)*cmd) ? *cmd : '?', *len);
	return RD_OK;
}

static void
emit(struct session *s, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) == -1)
		line = xstrdup("?");
	va_end(ap);
	pthread_mutex_lock(&outmtx);
	if (ncopies > 0)
		printf("%d: %s\n", s->idx, line);
	else
		printf("%s\n", line);
	fflush(stdout);
	pthread_mutex_unlock(&outmtx);
	free(s->last);
	s->last = line;
}

static void
problem(struct session *s, const char *fmt, ...)
{
	va_list	 ap;

	pthread_mutex_lock(&outmtx);
	if (ncopies > 0)
		fprintf(stderr, "milterdrv: copy %d: line %d: ", s->idx,
		    s->line);
	else
		fprintf(stderr, "milterdrv: line %d: ", s->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	pthread_mutex_unlock(&outmtx);
}

/* Printable form of untrusted bytes, bounded. */
static char *
esc(const char *p, size_t len)
{
	char	*out, *o;
	size_t	 i, n;

	if (len == SIZE_MAX)
		len = strlen(p);
	n = len > MAXSHOW ? MAXSHOW : len;
	out = o = xmalloc(n * 4 + 32);
	for (i = 0; i < n; i++) {
		unsigned char	 c = p[i];

		if (c == '\r') {
			*o++ = '\\';
			*o++ = 'r';
		} else if (c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (c == '\t' || (c >= 0x20 && c < 0x7f))
			*o++ = c;
		else
			o += sprintf(o, "\\x%02x", c);
	}
	if (n < len)
		o += sprintf(o, "...(%zu bytes)", len);
	*o = '\0';
	return out;
}

/* {#} in a command becomes the copy's index. */
static char *
subst(const char *in, int idx)
{
	char		*out, num[16];
	const char	*p;
	size_t		 len, nlen;

	snprintf(num, sizeof(num), "%d", idx);
	nlen = strlen(num);
	len = 1;
	for (p = in; *p != '\0'; p++)
		len += strncmp(p, "{#}", 3) == 0 ? nlen : 1;
	out = xmalloc(len);
	len = 0;
	for (p = in; *p != '\0'; ) {
		if (strncmp(p, "{#}", 3) == 0) {
			memcpy(out + len, num, nlen);
			len += nlen;
			p += 3;
		} else
			out[len++] = *p++;
	}
	out[len] = '\0';
	return out;
}

static char *
word(char **p)
{
	char	*w;

	while (isspace((unsigned char)**p))
		(*p)++;
	w = *p;
	while (**p != '\0' && !isspace((unsigned char)**p))
		(*p)++;
	if (**p != '\0')
		*(*p)++ = '\0';
	while (isspace((unsigned char)**p))
		(*p)++;
	return w;
}

/*
 * The address of mail or rcpt: a word, but blanks inside a quoted local
 * part ("john doe"@example.net) do not end it.
 */
static char *
pathword(char **p)
{
	char	*w;
	int	 q = 0;

	while (isspace((unsigned char)**p))
		(*p)++;
	w = *p;
	for (; **p != '\0' && (q || !isspace((unsigned char)**p)); (*p)++)
		if (q && **p == '\\' && (*p)[1] != '\0')
			(*p)++;
		else if (**p == '"')
			q = !q;
	if (**p != '\0')
		*(*p)++ = '\0';
	while (isspace((unsigned char)**p))
		(*p)++;
	return w;
}

static char *
trim(char *p)
{
	size_t	 n;

	while (isspace((unsigned char)*p))
		p++;
	n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
	return p;
}

static int
stageof(const char *w)
{
	static const struct {
		const char	*name;
		int		 stage;
	} names[] = {
		{ "C", SMFIM_CONNECT }, { "connect", SMFIM_CONNECT },
		{ "H", SMFIM_HELO }, { "helo", SMFIM_HELO },
		{ "M", SMFIM_ENVFROM }, { "mail", SMFIM_ENVFROM },
		{ "R", SMFIM_ENVRCPT }, { "rcpt", SMFIM_ENVRCPT },
		{ "T", SMFIM_DATA }, { "D", SMFIM_DATA },
		{ "data", SMFIM_DATA },
		{ "E", SMFIM_EOM }, { "eom", SMFIM_EOM },
		{ "N", SMFIM_EOH }, { "eoh", SMFIM_EOH },
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(w, names[i].name) == 0)
			return names[i].stage;
	return -1;
}

static char *
normname(const char *n)
{
	size_t	 len = strlen(n);
	char	*out;

	if (len >= 2 && n[0] == '{' && n[len - 1] == '}') {
		out = xstrdup(n + 1);
		out[len - 2] = '\0';
		return out;
	}
	return xstrdup(n);
}

static void
names_parse(struct macros *list, const char *text)
{
	char	*copy, *p, *w, *n;

	copy = xstrdup(text);
	p = copy;
	while (*(w = word(&p)) != '\0') {
		n = normname(w);
		mac_set(list, n, NULL);
		free(n);
	}
	free(copy);
}

static struct macro *
mac_get(struct macros *list, const char *name)
{
	struct macro	*m;

	TAILQ_FOREACH(m, list, entry)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

static void
mac_set(struct macros *list, const char *name, const char *value)
{
	struct macro	*m;

	if ((m = mac_get(list, name)) == NULL) {
		m = xmalloc(sizeof(*m));
		m->name = xstrdup(name);
		m->value = NULL;
		TAILQ_INSERT_TAIL(list, m, entry);
	}
	free(m->value);
	m->value = value != NULL ? xstrdup(value) : NULL;
}

static void
mac_del(struct macros *list, const char *name)
{
	struct macro	*m;

	if ((m = mac_get(list, name)) == NULL)
		return;
	TAILQ_REMOVE(list, m, entry);
	free(m->name);
	free(m->value);
	free(m);
}

static void
mac_clear(struct macros *list)
{
	struct macro	*m;

	while ((m = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, m, entry);
		free(m->name);
		free(m->value);
		free(m);
	}
}

/* <a@b> and <@route:a@b> become a@b, as {rcpt_addr} carries it. */
static char *
stripaddr(const char *a)
{
	char	*out, *p;
	size_t	 n;

	if (*a == '<')
		a++;
	out = xstrdup(a);
	n = strlen(out);
	if (n > 0 && out[n - 1] == '>')
		out[n - 1] = '\0';
	if (out[0] == '@' && (p = strchr(out, ':')) != NULL)
		memmove(out, p + 1, strlen(p + 1) + 1);
	return out;
}

static int
hexdecode(const char *in, char **out, size_t *len)
{
	size_t	 n = 0;
	int	 hi = -1, v;

	*out = xmalloc(strlen(in) / 2 + 1);
	for (; *in != '\0'; in++) {
		if (isspace((unsigned char)*in))
			continue;
		if (!isxdigit((unsigned char)*in)) {
			free(*out);
			*out = NULL;
			return -1;
		}
		v = isdigit((unsigned char)*in) ? *in - '0' :
		    tolower((unsigned char)*in) - 'a' + 10;
		if (hi == -1)
			hi = v;
		else {
			(*out)[n++] = hi << 4 | v;
			hi = -1;
		}
	}
	if (hi != -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = n;
	return 0;
}

static void
ms_sleep(long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * All live copies meet here, so that e.g. 100 sessions send one RCPT at
 * the same moment.  A copy that ended leaves the count, so none waits for it.
 */
static void
barrier_wait(void)
{
	unsigned long	 gen;

	pthread_mutex_lock(&bar.mtx);
	gen = bar.generation;
	if (++bar.arrived >= bar.alive) {
		bar.arrived = 0;
		bar.generation++;
		pthread_cond_broadcast(&bar.cond);
	} else
		while (gen == bar.generation)
			pthread_cond_wait(&bar.cond, &bar.mtx);
	pthread_mutex_unlock(&bar.mtx);
}

static void
barrier_leave(void)
{
	pthread_mutex_lock(&bar.mtx);
	bar.alive--;
	if (bar.arrived > 0 && bar.arrived >= bar.alive) {
		bar.arrived = 0;
		bar.generation++;
		pthread_cond_broadcast(&bar.cond);
	}
	pthread_mutex_unlock(&bar.mtx);
}

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = calloc(1, n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "milterdrv: out of memory\n");
		exit(EXIT_PROTO);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "milterdrv: out of memory\n");
		exit(EXIT_PROTO);
	}
	return p;
}
