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
 * fakebackend: a scriptable SMTP server playing the mailbox server that
 * scam-back probes.  One process, libevent, many connections; each mode
 * is one way a real backend behaves or fails.  Every event goes to the
 * log file as one line, flushed at once, so that tests can count.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <tls.h>

#define HOSTNAME	"fakebackend.test"
#define MAXLINE		(64 * 1024)	/* a command line longer is hostile */
#define MAXDATA		(1024 * 1024)	/* message bytes held while in DATA */
#define OVERLONG	(100 * 1024)
#define RESET_DELAY_MS	200
#define LINGER_MS	2000		/* wait for the client's FIN this long */

#define M_GREYLIST	0x00001
#define M_CATCHALL	0x00002
#define M_REFUSE	0x00004
#define M_NOBANNER	0x00008
#define M_DRIP		0x00010
#define M_421		0x00020
#define M_RESET		0x00040
#define M_MULTILINE	0x00080
#define M_MAILREFUSE	0x00100
#define M_452		0x00200
#define M_BARELF	0x00400
#define M_GARBAGE	0x00800
#define M_OVERLONG	0x01000
#define M_TLS		0x02000
#define M_TLSBROKEN	0x04000
#define M_NOEHLO	0x08000
#define M_TLSHANG	0x10000

static const struct mode {
	const char	*name;
	int		 flag;
} modes[] = {
	{ "normal",	0 },
	{ "greylist",	M_GREYLIST },
	{ "catchall",	M_CATCHALL },
	{ "refuse",	M_REFUSE },
	{ "nobanner",	M_NOBANNER },
	{ "drip",	M_DRIP },
	{ "421",	M_421 },
	{ "reset",	M_RESET },
	{ "multiline",	M_MULTILINE },
	{ "mailrefuse",	M_MAILREFUSE },
	{ "452",	M_452 },
	{ "bareLF",	M_BARELF },
	{ "garbage",	M_GARBAGE },
	{ "overlong",	M_OVERLONG },
	{ "tls",	M_TLS },
	{ "tlsbroken",	M_TLSBROKEN },
	{ "noehlo",	M_NOEHLO },
	{ "tlshang",	M_TLSHANG },
};

enum tlsstate { T_NONE, T_HANDSHAKE, T_ON, T_BROKEN };

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	unsigned int		 id;
	int			 fd;
	struct tls		*tls;
	enum tlsstate		 tlsstate;
	struct event		*rev;
	struct event		*wev;
	struct event		*tev;		/* delay and drip */
	struct event		*kev;		/* reset after the half reply */
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct evbuffer		*pend;		/* reply held back by -d */
	struct evbuffer		*drip;		/* reply still dripping */
	int			 busy;		/* a reply is on its way */
	int			 closing;	/* close once flushed */
	int			 lingering;	/* FIN sent, draining input */
	int			 reset;		/* RST once flushed */
	int			 starttls;	/* handshake once flushed */
	int			 readwantswrite;
	int			 indata;
	size_t			 datasize;
	int			 hasmail;
	int			 nrcpt;
	int			 nvalid;
	char			 addr[NI_MAXHOST];
};
TAILQ_HEAD(conns, conn);

struct valid {
	RB_ENTRY(valid)		 entry;
	char			*addr;		/* domain lowercased */
};
RB_HEAD(validtree, valid);

static __dead void usage(void);
static int	 valid_cmp(struct valid *, struct valid *);
RB_PROTOTYPE_STATIC(validtree, valid, entry, valid_cmp)
static void	 logev(const char *, ...)
		    __attribute__((__format__ (printf, 1, 2)));
static void	 parsemodes(const char *);
static char	*normaddr(const char *);
static void	 addvalid(const char *);
static void	 readvalid(const char *);
static int	 isvalid(const char *);
static int	 listen_on(const char *, const char *, int);
static void	 accept_cb(int, short, void *);
static void	 resume_cb(int, short, void *);
static void	 signal_cb(int, short, void *);
static void	 conn_close(struct conn *, int);
static void	 read_cb(int, short, void *);
static void	 write_cb(int, short, void *);
static void	 timer_cb(int, short, void *);
static void	 kill_cb(int, short, void *);
static void	 do_read(struct conn *);
static void	 do_write(struct conn *);
static void	 handshake(struct conn *);
static void	 flushed(struct conn *);
static void	 process(struct conn *);
static void	 command(struct conn *, char *);
static void	 datablock(struct conn *, char *);
static int	 getpath(const char *, const char *, char *, size_t);
static void	 reply(struct conn *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 reply_raw(struct conn *, const char *, size_t);
static void	 reply_ehlo(struct conn *);
static void	 deliver(struct conn *);
static void	 want_write(struct conn *);
static void	 start_timer(struct conn *, int);

static struct event_base	*base;
static struct event		*lev, *resume_ev;
static struct conns		 conns = TAILQ_HEAD_INITIALIZER(conns);
static struct validtree		 validtree = RB_INITIALIZER(&validtree);
static struct tls		*tls_srv;
static FILE			*logfp;
static int			 echo;
static int			 mode;
static int			 delay_ms;
static int			 drip_ms = 1000;
static int			 limit452 = 10;
static int			 maxconn;
static int			 active;
static int			 peak;
static unsigned int		 nconn;
static int			 lfd = -1;

RB_GENERATE_STATIC(validtree, valid, entry, valid_cmp)

static __dead void
usage(void)
{
	fprintf(stderr, "usage: fakebackend [-46e] [-b addr] [-C maxconn] "
	    "[-c cert -k key] [-d delay_ms]\n"
	    "                   [-l logfile] [-m mode[,mode...]] [-P pidfile] "
	    "[-p port]\n"
	    "                   [-U addr] [-u validlist]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct event	*sigterm, *sigint;
	const char	*bindaddr = NULL, *port = "0", *cert = NULL;
	const char	*key = NULL, *pidfile = NULL, *errstr;
	struct tls_config *cfg;
	FILE		*pf;
	int		 ch, family = AF_INET;

	while ((ch = getopt(argc, argv, "46b:C:c:d:ek:l:m:P:p:U:u:")) != -1) {
		switch (ch) {
		case '4':
			family = AF_INET;
			break;
		case '6':
			family = AF_INET6;
			break;
		case 'b':
			bindaddr = optarg;
			break;
		case 'C':
			maxconn = strtonum(optarg, 1, 1000000, &errstr);
			if (errstr != NULL)
				errx(1, "-C %s: %s", optarg, errstr);
			break;
		case 'c':
			cert = optarg;
			break;
		case 'd':
			delay_ms = strtonum(optarg, 0, 3600000, &errstr);
			if (errstr != NULL)
				errx(1, "-d %s: %s", optarg, errstr);
			break;
		case 'e':
			echo = 1;
			break;
		case 'k':
			key = optarg;
			break;
		case 'l':
			if ((logfp = fopen(optarg, "a")) == NULL)
				err(1, "%s", optarg);
			setvbuf(logfp, NULL, _IOLBF, 0);
			break;
		case 'm':
			parsemodes(optarg);
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'p':
			strtonum(optarg, 0, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "-p %s: %s", optarg, errstr);
			port = optarg;
			break;
		case 'U':
			addvalid(optarg);
			break;
		case 'u':
			readvalid(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
	if ((mode & (M_TLS | M_TLSBROKEN | M_TLSHANG)) == M_TLS &&
	    (cert == NULL || key == NULL))
		errx(1, "mode tls needs -c cert and -k key");

	signal(SIGPIPE, SIG_IGN);
	if (cert != NULL && key != NULL) {
		if ((cfg = tls_config_new()) == NULL)
			errx(1, "tls_config_new failed");
		if (tls_config_set_cert_file(cfg, cert) == -1 ||
		    tls_config_set_key_file(cfg, key) == -1)
			errx(1, "%s", tls_config_error(cfg));
		if ((tls_srv = tls_server()) == NULL)
			errx(1, "tls_server failed");
		if (tls_configure(tls_srv, cfg) == -1)
			errx(1, "%s", tls_error(tls_srv));
		tls_config_free(cfg);
	}

	if (bindaddr == NULL)
		bindaddr = family == AF_INET6 ? "::1" : "127.0.0.1";
	if ((base = event_base_new()) == NULL)
		errx(1, "event_base_new failed");
	lfd = listen_on(bindaddr, port, !(mode & M_REFUSE));

	if (pidfile != NULL) {
		if ((pf = fopen(pidfile, "w")) == NULL)
			err(1, "%s", pidfile);
		fprintf(pf, "%ld\n", (long)getpid());
		fclose(pf);
	}

	sigterm = evsignal_new(base, SIGTERM, signal_cb, NULL);
	sigint = evsignal_new(base, SIGINT, signal_cb, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	/* In refuse mode the port stays bound but nobody listens: RST. */
	if (!(mode & M_REFUSE)) {
		lev = event_new(base, lfd, EV_READ | EV_PERSIST, accept_cb,
		    NULL);
		event_add(lev, NULL);
		resume_ev = evtimer_new(base, resume_cb, NULL);
	}

	event_base_dispatch(base);

	while (!TAILQ_EMPTY(&conns))
		conn_close(TAILQ_FIRST(&conns), 0);
	logev("exit");
	if (lev != NULL)
		event_free(lev);
	if (resume_ev != NULL)
		event_free(resume_ev);
	event_free(sigterm);
	event_free(sigint);
	close(lfd);
	if (pidfile != NULL)
		unlink(pidfile);
	event_base_free(base);
	if (tls_srv != NULL)
		tls_free(tls_srv);
	return 0;
}

static void
logev(const char *fmt, ...)
{
	va_list	 ap;

	if (logfp != NULL) {
		va_start(ap, fmt);
		vfprintf(logfp, fmt, ap);
		va_end(ap);
		fputc('\n', logfp);
		fflush(logfp);
	}
	if (echo) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static void
parsemodes(const char *arg)
{
	char		*copy, *p, *tok, *val;
	const char	*errstr;
	size_t		 i;

	if ((copy = strdup(arg)) == NULL)
		err(1, NULL);
	p = copy;
	while ((tok = strsep(&p, ",")) != NULL) {
		if (*tok == '\0')
			continue;
		if ((val = strchr(tok, '=')) != NULL)
			*val++ = '\0';
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (strcasecmp(tok, modes[i].name) == 0)
				break;
		if (i == sizeof(modes) / sizeof(modes[0]))
			errx(1, "unknown mode \"%s\"", tok);
		mode |= modes[i].flag;
		if (val == NULL)
			continue;
		if (modes[i].flag == M_452)
			limit452 = strtonum(val, 0, 1000000, &errstr);
		else if (modes[i].flag == M_DRIP)
			drip_ms = strtonum(val, 1, 3600000, &errstr);
		else
			errx(1, "mode %s takes no value", tok);
		if (errstr != NULL)
			errx(1, "mode %s=%s: %s", tok, val, errstr);
	}
	free(copy);
}

static int
valid_cmp(struct valid *a, struct valid *b)
{
	return strcmp(a->addr, b->addr);
}

/*
 * The form a real backend compares: brackets and source route gone, the
 * domain in lower case, the local part exactly as sent.
 */
static char *
normaddr(const char *in)
{
	char	*a, *p;
	size_t	 n;

	while (isspace((unsigned char)*in))
		in++;
	if (*in == '<')
		in++;
	if ((a = strdup(in)) == NULL)
		err(1, NULL);
	n = strlen(a);
	while (n > 0 && isspace((unsigned char)a[n - 1]))
		a[--n] = '\0';
	if (n > 0 && a[n - 1] == '>')
		a[--n] = '\0';
	if (a[0] == '@' && (p = strchr(a, ':')) != NULL)
		memmove(a, p + 1, strlen(p + 1) + 1);
	if ((p = strrchr(a, '@')) != NULL)
		for (p++; *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
	return a;
}

static void
addvalid(const char *addr)
{
	struct valid	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		err(1, NULL);
	v->addr = normaddr(addr);
	if (*v->addr == '\0' || RB_INSERT(validtree, &validtree, v) != NULL) {
		free(v->addr);
		free(v);
	}
}

static void
readvalid(const char *path)
{
	FILE	*f;
	char	*line = NULL, *p;
	size_t	 size = 0;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	while (getline(&line, &size, f) != -1) {
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		addvalid(p);
	}
	free(line);
	fclose(f);
}

/* A listed address, or any address of a domain listed as "@domain". */
static int
isvalid(const char *addr)
{
	struct valid	 key, *found;
	char		*at;
	int		 r;

	key.addr = normaddr(addr);
	found = RB_FIND(validtree, &validtree, &key);
	if (found == NULL && (at = strrchr(key.addr, '@')) != NULL) {
		struct valid	 dom;

		dom.addr = at;
		found = RB_FIND(validtree, &validtree, &dom);
	}
	r = found != NULL;
	free(key.addr);
	return r;
}

static int
listen_on(const char *addr, const char *port, int dolisten)
{
	struct addrinfo		 hints, *res;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 sport[NI_MAXSERV];
	int			 fd, e, on = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((e = getaddrinfo(addr, port, &hints, &res)) != 0)
		errx(1, "%s port %s: %s", addr, port, gai_strerror(e));
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		err(1, "bind %s port %s", addr, port);
	freeaddrinfo(res);
	if (dolisten && listen(fd, SOMAXCONN) == -1)
		err(1, "listen");
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, NULL, 0, sport,
	    sizeof(sport), NI_NUMERICSERV) != 0)
		err(1, "getsockname");
	printf("port %s\n", sport);
	fflush(stdout);
	return fd;
}

static void
signal_cb(int sig, short ev, void *arg)
{
	event_base_loopbreak(base);
}

/* Out of descriptors: stop accepting for a moment instead of spinning. */
static void
resume_cb(int fd, short ev, void *arg)
{
	event_add(lev, NULL);
}

static void
accept_cb(int fd, short ev, void *arg)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct conn		*c;
	struct timeval		 tv = { 0, 100000 };
	char			 host[NI_MAXHOST];
	static const char	 busy[] = "421 4.7.0 " HOSTNAME
				    " Error: too many connections\r\n";
	ssize_t			 w;
	int			 s, on = 1;

	for (;;) {
		sslen = sizeof(ss);
		if ((s = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				logev("accept: %s", strerror(errno));
				event_del(lev);
				evtimer_add(resume_ev, &tv);
			}
			return;
		}
		if (getnameinfo((struct sockaddr *)&ss, sslen, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			strlcpy(host, "?", sizeof(host));
		nconn++;
		if (maxconn > 0 && active >= maxconn) {
			logev("refused %u from %s maxconn", nconn, host);
			/* Best effort: the client may be gone already. */
			w = write(s, busy, sizeof(busy) - 1);
			(void)w;
			close(s);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(s);
			continue;
		}
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		c->id = nconn;
		c->fd = s;
		strlcpy(c->addr, host, sizeof(c->addr));
		c->in = evbuffer_new();
		c->out = evbuffer_new();
		c->pend = evbuffer_new();
		c->drip = evbuffer_new();
		c->rev = event_new(base, s, EV_READ | EV_PERSIST, read_cb, c);
		c->wev = event_new(base, s, EV_WRITE | EV_PERSIST, write_cb, c);
		c->tev = evtimer_new(base, timer_cb, c);
		c->kev = evtimer_new(base, kill_cb, c);
		if (c->in == NULL || c->out == NULL || c->pend == NULL ||
		    c->drip == NULL || c->rev == NULL || c->wev == NULL ||
		    c->tev == NULL || c->kev == NULL)
			errx(1, "out of memory");
		TAILQ_INSERT_TAIL(&conns, c, entry);
		active++;
		logev("connect %u from %s", c->id, c->addr);
		if (active > peak) {
			peak = active;
			logev("maxconn %d", peak);
		}
		event_add(c->rev, NULL);

		if (mode & M_NOBANNER)
			continue;
		if (mode & M_421) {
			reply(c, 421, "4.3.2 Service not available");
			c->closing = 1;
		} else
			reply(c, 220, HOSTNAME " ESMTP fakebackend");
	}
}

/* how: 0 orderly, 1 with RST */
static void
conn_close(struct conn *c, int how)
{
	struct linger	 l = { 1, 0 };

	logev("close %u", c->id);
	if (how) {
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	} else if (c->tls != NULL && c->tlsstate == T_ON && !c->lingering)
		tls_close(c->tls);	/* best effort, non-blocking */
	if (c->tls != NULL)
		tls_free(c->tls);
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->tev);
	event_free(c->kev);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	evbuffer_free(c->pend);
	evbuffer_free(c->drip);
	close(c->fd);
	TAILQ_REMOVE(&conns, c, entry);
	active--;
	free(c);
}

static void
read_cb(int fd, short ev, void *arg)
{
	do_read(arg);
}

static void
write_cb(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	if (c->tlsstate == T_HANDSHAKE) {
		handshake(c);
		return;
	}
	if (c->readwantswrite) {
		c->readwantswrite = 0;
		if (evbuffer_get_length(c->out) == 0)
			event_del(c->wev);
		do_read(c);
		return;
	}
	do_write(c);
}

static void
do_read(struct conn *c)
{
	char	 buf[16384];
	ssize_t	 n;

	if (c->lingering) {
		n = read(c->fd, buf, sizeof(buf));
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			conn_close(c, 0);
		return;
	}
	if (c->tlsstate == T_HANDSHAKE) {
		handshake(c);
		return;
	}
	if (c->tls != NULL && c->tlsstate == T_ON) {
		n = tls_read(c->tls, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN)
			return;
		if (n == TLS_WANT_POLLOUT) {
			c->readwantswrite = 1;
			event_add(c->wev, NULL);
			return;
		}
		if (n == -1) {
			logev("tls %u error %s", c->id, tls_error(c->tls));
			conn_close(c, 0);
			return;
		}
	} else {
		n = read(c->fd, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
	}
	if (n <= 0) {
		conn_close(c, 0);
		return;
	}
	/* Without a banner, or after a broken handshake, input is ignored. */
	if ((mode & M_NOBANNER) || c->tlsstate == T_BROKEN)
		return;
	evbuffer_add(c->in, buf, n);
	process(c);
}

static void
do_write(struct conn *c)
{
	unsigned char	*p;
	size_t		 len;
	ssize_t		 n;

	len = evbuffer_get_length(c->out);
	if (len > 0 && c->tls != NULL && c->tlsstate == T_ON) {
		if (len > 16384)
			len = 16384;
		p = evbuffer_pullup(c->out, len);
		n = tls_write(c->tls, p, len);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
			return;
		if (n == -1) {
			conn_close(c, 0);
			return;
		}
		evbuffer_drain(c->out, n);
	} else if (len > 0) {
		/* evbuffer_write drains what it wrote. */
		n = evbuffer_write(c->out, c->fd);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			conn_close(c, 0);
			return;
		}
	}
	if (evbuffer_get_length(c->out) > 0)
		return;
	event_del(c->wev);
	flushed(c);
}

/* Everything written: the deferred part of the last reply's job. */
static void
flushed(struct conn *c)
{
	struct timeval	 tv;
	/* A handshake record with nonsense inside: clients fail at once. */
	static const char junk[] = "\x16\x03\x03\x00\x04\xff\xff\xff\xff"
	    "this is not a TLS handshake\r\n\x00\x01\x02\xff\xfe garbage\r\n";

	if (c->busy || evbuffer_get_length(c->out) > 0)
		return;
	if (c->reset) {
		c->reset = 0;
		tv.tv_sec = RESET_DELAY_MS / 1000;
		tv.tv_usec = (RESET_DELAY_MS % 1000) * 1000;
		evtimer_add(c->kev, &tv);
		return;
	}
	if (c->closing) {
		/*
		 * Half-close and drain what the client still sends, so that
		 * unread input does not turn the close into a RST that could
		 * destroy the last reply in the client's buffer.
		 */
		c->closing = 0;
		c->lingering = 1;
		if (c->tls != NULL && c->tlsstate == T_ON)
			tls_close(c->tls);
		shutdown(c->fd, SHUT_WR);
		tv.tv_sec = LINGER_MS / 1000;
		tv.tv_usec = (LINGER_MS % 1000) * 1000;
		evtimer_add(c->kev, &tv);
		return;
	}
	if (c->starttls) {
		c->starttls = 0;
		/* Commands sent before the handshake are an injection. */
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
		if (mode & M_TLSHANG) {
			c->tlsstate = T_BROKEN;
			logev("tls %u fail hang on purpose", c->id);
			return;
		}
		if (mode & M_TLSBROKEN) {
			c->tlsstate = T_BROKEN;
			evbuffer_add(c->out, junk, sizeof(junk) - 1);
			logev("tls %u fail broken on purpose", c->id);
			want_write(c);
			return;
		}
		if (tls_accept_socket(tls_srv, &c->tls, c->fd) == -1) {
			logev("tls %u fail %s", c->id, tls_error(tls_srv));
			conn_close(c, 0);
			return;
		}
		c->tlsstate = T_HANDSHAKE;
		handshake(c);
	}
}

static void
handshake(struct conn *c)
{
	int	 r;

	r = tls_handshake(c->tls);
	if (r == TLS_WANT_POLLIN) {
		event_del(c->wev);
		return;
	}
	if (r == TLS_WANT_POLLOUT) {
		event_add(c->wev, NULL);
		return;
	}
	event_del(c->wev);
	if (r == -1) {
		logev("tls %u fail %s", c->id, tls_error(c->tls));
		conn_close(c, 0);
		return;
	}
	logev("tls %u ok", c->id);
	c->tlsstate = T_ON;
	/* RFC 3207: the session starts over after the handshake. */
	c->hasmail = c->nrcpt = c->nvalid = 0;
	process(c);
}

/* The RST after a half reply, or the end of a lingering close. */
static void
kill_cb(int fd, short ev, void *arg)
{
	struct conn	*c = arg;

	conn_close(c, !c->lingering);
}

/* A reply held back by -d is due, or the next byte of a dripping one. */
static void
timer_cb(int fd, short ev, void *arg)
{
	struct conn	*c = arg;
	char		 byte;

	if (evbuffer_get_length(c->pend) > 0) {
		deliver(c);
	} else if (evbuffer_get_length(c->drip) > 0) {
		evbuffer_remove(c->drip, &byte, 1);
		evbuffer_add(c->out, &byte, 1);
		want_write(c);
		if (evbuffer_get_length(c->drip) > 0) {
			start_timer(c, drip_ms);
			return;
		}
		c->busy = 0;
	}
	if (!c->busy)
		process(c);
}

static void
start_timer(struct conn *c, int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->tev, &tv);
}

static void
want_write(struct conn *c)
{
	if (evbuffer_get_length(c->out) > 0)
		event_add(c->wev, NULL);
}

/* Hands the held reply on: at once, or byte by byte in drip mode. */
static void
deliver(struct conn *c)
{
	if (mode & M_DRIP) {
		evbuffer_add_buffer(c->drip, c->pend);
		c->busy = 1;
		start_timer(c, 0);
		return;
	}
	evbuffer_add_buffer(c->out, c->pend);
	c->busy = 0;
	want_write(c);
}

/* Queues raw reply bytes; the command loop waits until they are out. */
static void
reply_raw(struct conn *c, const char *p, size_t len)
{
	evbuffer_add(c->pend, p, len);
	if (delay_ms > 0) {
		c->busy = 1;
		start_timer(c, delay_ms);
		return;
	}
	deliver(c);
}

static void
reply(struct conn *c, int code, const char *fmt, ...)
{
	va_list		 ap;
	char		*text, *r;
	const char	*eol = (mode & M_BARELF) ? "\n" : "\r\n";
	int		 n;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) == -1)
		err(1, NULL);
	va_end(ap);
	if (mode & M_MULTILINE)
		n = asprintf(&r, "%d-%s%s%d-multi-line reply%s%d %s%s", code,
		    text, eol, code, eol, code, text, eol);
	else
		n = asprintf(&r, "%d %s%s", code, text, eol);
	if (n == -1)
		err(1, NULL);
	reply_raw(c, r, n);
	free(r);
	free(text);
}

static void
reply_ehlo(struct conn *c)
{
	const char	*eol = (mode & M_BARELF) ? "\n" : "\r\n";
	char		*r;
	int		 n;

	n = asprintf(&r, "250-%s%s250-PIPELINING%s250-SIZE 10240000%s%s"
	    "250-ENHANCEDSTATUSCODES%s250 8BITMIME%s", HOSTNAME, eol, eol, eol,
	    (mode & (M_TLS | M_TLSBROKEN | M_TLSHANG)) && c->tlsstate == T_NONE ?
	    ((mode & M_BARELF) ? "250-STARTTLS\n" : "250-STARTTLS\r\n") : "",
	    eol, eol);
	if (n == -1)
		err(1, NULL);
	reply_raw(c, r, n);
	free(r);
}

/* Runs complete command lines while no reply is on its way. */
static void
process(struct conn *c)
{
	char	*line;
	size_t	 len;

	while (!c->busy && !c->closing && !c->lingering && !c->reset &&
	    !c->starttls &&
	    c->tlsstate != T_HANDSHAKE && c->tlsstate != T_BROKEN) {
		line = evbuffer_readln(c->in, &len, EVBUFFER_EOL_CRLF);
		if (line == NULL) {
			len = evbuffer_get_length(c->in);
			if (c->indata && len > MAXDATA)
				evbuffer_drain(c->in, len);
			else if (!c->indata && len > MAXLINE) {
				evbuffer_drain(c->in, len);
				logev("overlong %u", c->id);
				reply(c, 500, "5.5.0 Error: line too long");
				c->closing = 1;
			}
			break;
		}
		if (c->indata)
			datablock(c, line);
		else
			command(c, line);
		free(line);
	}
}

static void
datablock(struct conn *c, char *line)
{
	if (strcmp(line, ".") == 0) {
		c->indata = 0;
		logev("data %u end %zu", c->id, c->datasize);
		reply(c, 250, "2.0.0 Ok: queued as FAKE%u (discarded)", c->id);
		c->hasmail = c->nrcpt = c->nvalid = 0;
		return;
	}
	c->datasize += strlen(line) + 2;
}

/* Extracts <path> after "FROM:" or "TO:"; -1 on a syntax error. */
static int
getpath(const char *args, const char *prefix, char *path, size_t size)
{
	size_t		 n = strlen(prefix);
	const char	*p, *e;
	int		 q;

	if (strncasecmp(args, prefix, n) != 0)
		return -1;
	p = args + n;
	while (*p == ' ')
		p++;
	if (*p == '<') {
		/* A '>' in a quoted local part ("x>y"@b) ends nothing. */
		for (e = p + 1, q = 0; *e != '\0' && (q || *e != '>'); e++)
			if (q && *e == '\\' && e[1] != '\0')
				e++;
			else if (*e == '"')
				q = !q;
		if (*e != '>')
			return -1;
		e++;
	} else {
		e = p + strcspn(p, " ");
		if (e == p)
			return -1;
	}
	if ((size_t)(e - p) + 3 > size)
		return -1;
	if (*p == '<')
		snprintf(path, size, "%.*s", (int)(e - p), p);
	else
		snprintf(path, size, "<%.*s>", (int)(e - p), p);
	return 0;
}

static void
command(struct conn *c, char *line)
{
	char		 verb[16], path[1024], *args, *p;
	size_t		 n;
	static const char junk[] = "this is not an SMTP reply\r\n"
	    "\x00\x01\x02\xff binary junk\r\n2x5 almost a code\r\n"
	    "-250 minus\r\n";

	/* Tabs separate words as spaces do. */
	for (p = line; *p != '\0'; p++)
		if (*p == '\t')
			*p = ' ';
	n = strcspn(line, " ");
	if (n >= sizeof(verb))
		n = sizeof(verb) - 1;
	memcpy(verb, line, n);
	verb[n] = '\0';
	args = line + strcspn(line, " ");
	while (*args == ' ')
		args++;

	if (strcasecmp(verb, "EHLO") == 0) {
		logev("ehlo %u %s", c->id, args);
		if (mode & M_NOEHLO) {
			reply(c, 502, "5.5.2 Error: command not recognized");
			return;
		}
		if (*args == '\0') {
			reply(c, 501, "Syntax: EHLO hostname");
			return;
		}
		c->hasmail = c->nrcpt = c->nvalid = 0;
		reply_ehlo(c);
	} else if (strcasecmp(verb, "HELO") == 0) {
		logev("helo %u %s", c->id, args);
		if (*args == '\0') {
			reply(c, 501, "Syntax: HELO hostname");
			return;
		}
		c->hasmail = c->nrcpt = c->nvalid = 0;
		reply(c, 250, HOSTNAME);
	} else if (strcasecmp(verb, "MAIL") == 0) {
		if (getpath(args, "FROM:", path, sizeof(path)) == -1) {
			logev("mail %u syntax", c->id);
			reply(c, 501, "5.5.4 Syntax: MAIL FROM:<address>");
			return;
		}
		logev("mail %u %s", c->id, path);
		if (c->hasmail) {
			reply(c, 503, "5.5.1 Error: nested MAIL command");
			return;
		}
		if ((mode & M_MAILREFUSE) && strcmp(path, "<>") == 0) {
			reply(c, 550, "5.7.1 <>: Sender address rejected: "
			    "Access denied");
			return;
		}
		c->hasmail = 1;
		c->nrcpt = c->nvalid = 0;
		reply(c, 250, "2.1.0 Ok");
	} else if (strcasecmp(verb, "RCPT") == 0) {
		if (getpath(args, "TO:", path, sizeof(path)) == -1) {
			logev("rcpt %u syntax 501", c->id);
			reply(c, 501, "5.5.4 Syntax: RCPT TO:<address>");
			return;
		}
		if (!c->hasmail) {
			logev("rcpt %u %s 503", c->id, path);
			reply(c, 503, "5.5.1 Error: need MAIL command");
			return;
		}
		c->nrcpt++;
		if ((mode & M_452) && c->nrcpt > limit452) {
			logev("rcpt %u %s 452", c->id, path);
			reply(c, 452, "4.5.3 Error: too many recipients");
		} else if (mode & M_RESET) {
			logev("rcpt %u %s reset", c->id, path);
			reply_raw(c, "250 2.1", 7);
			c->reset = 1;
		} else if (mode & M_GARBAGE) {
			logev("rcpt %u %s garbage", c->id, path);
			reply_raw(c, junk, sizeof(junk) - 1);
		} else if (mode & M_OVERLONG) {
			char	*r;

			logev("rcpt %u %s overlong", c->id, path);
			if ((r = malloc(OVERLONG + 16)) == NULL)
				err(1, NULL);
			memcpy(r, "250 2.1.5 ", 10);
			memset(r + 10, 'x', OVERLONG);
			memcpy(r + 10 + OVERLONG, "\r\n", 2);
			reply_raw(c, r, OVERLONG + 12);
			free(r);
		} else if (mode & M_GREYLIST) {
			logev("rcpt %u %s 451", c->id, path);
			reply(c, 451, "4.7.1 %s: Recipient address rejected: "
			    "Greylisted, try again later", path);
		} else if ((mode & M_CATCHALL) || isvalid(path)) {
			logev("rcpt %u %s 250", c->id, path);
			c->nvalid++;
			reply(c, 250, "2.1.5 Ok");
		} else {
			logev("rcpt %u %s 550", c->id, path);
			reply(c, 550, "5.1.1 %s: Recipient address rejected: "
			    "User unknown in virtual mailbox table", path);
		}
	} else if (strcasecmp(verb, "RSET") == 0) {
		logev("rset %u", c->id);
		c->hasmail = c->nrcpt = c->nvalid = 0;
		reply(c, 250, "2.0.0 Ok");
	} else if (strcasecmp(verb, "NOOP") == 0) {
		logev("noop %u", c->id);
		reply(c, 250, "2.0.0 Ok");
	} else if (strcasecmp(verb, "QUIT") == 0) {
		logev("quit %u", c->id);
		reply(c, 221, "2.0.0 Bye");
		c->closing = 1;
	} else if (strcasecmp(verb, "DATA") == 0) {
		logev("data %u", c->id);
		if (!c->hasmail)
			reply(c, 503, "5.5.1 Error: need RCPT command");
		else if (c->nvalid == 0)
			reply(c, 554, "5.5.1 Error: no valid recipients");
		else {
			c->indata = 1;
			c->datasize = 0;
			reply(c, 354, "End data with <CR><LF>.<CR><LF>");
		}
	} else if (strcasecmp(verb, "STARTTLS") == 0) {
		logev("starttls %u", c->id);
		if (!(mode & (M_TLS | M_TLSBROKEN | M_TLSHANG)) ||
		    c->tlsstate != T_NONE)
			reply(c, 502, "5.5.1 Error: command not implemented");
		else if (*args != '\0')
			reply(c, 501, "5.5.4 Syntax: STARTTLS");
		else {
			reply(c, 220, "2.0.0 Ready to start TLS");
			c->starttls = 1;
		}
	} else if (strcasecmp(verb, "VRFY") == 0) {
		logev("vrfy %u", c->id);
		reply(c, 252, "2.0.0 Cannot VRFY user");
	} else {
		for (p = verb; *p != '\0'; p++)
			if (!isprint((unsigned char)*p))
				*p = '?';
		logev("unknown %u %s", c->id, verb);
		reply(c, 502, "5.5.2 Error: command not recognized");
	}
}
