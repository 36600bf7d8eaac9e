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
 * libmilter glue only: registration, the listening socket and the
 * callbacks, which hand every decision to engine.c.  libmilter runs one
 * thread per MTA connection, so the per-connection state needs no lock.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <netdb.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "scam-back.h"
#include "log.h"
#include "engine.h"
#include "policy.h"
#include "printable.h"
#include "table.h"
#include "rules.h"
#include "dns.h"
#include "access.h"

/*
 * The macros a verdict needs, asked for at RCPT (SPEC section 6), and,
 * with access rules, those of the client at every stage: Postfix sends
 * them again after XCLIENT, and {client_resolve} only when asked.
 */
#define RCPT_MACROS	"i {rcpt_addr} {daemon_name} {auth_authen} {client_addr}"
#define CLIENT_MACROS	"{client_addr} {client_name} {client_ptr} " \
			"{client_resolve}"
#define RULES_RCPT	"i {rcpt_addr} {daemon_name} {auth_authen} " \
			CLIENT_MACROS
#define RULES_MAIL	"{auth_authen} " CLIENT_MACROS

/*
 * How long a session may say nothing before libmilter closes it, in
 * seconds: libmilter's own default is two hours, which lets idle
 * connections pile up.  Postfix gives an SMTP client 300 seconds between
 * commands (smtpd_timeout) and forwards each one at once; sendmail's
 * clients may take longer, and a session that outlives this is then the
 * MTA's to handle (its milter default action).
 */
#define MILTER_TIMEOUT	360

/*
 * Descriptors libmilter may not take: the last of them stay for the
 * cache file the parent passes, scambackctl's connections and the
 * logger.  A quarter of the limit when that is smaller.
 */
#define MILTER_FD_RESERVE	64

/*
 * Steps scam-back has no use for; the MTA skips them when it can.  The
 * access rules want HELO, and a save rule the message.
 */
#define SKIP_STEPS	(SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | \
			 SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA)
#define SKIP_SAVING	(SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY)
/*
 * Steps scam-back reads but always lets pass: the MTA need not wait for
 * an answer (a round trip per connection and per message).  Not where
 * an access rule may refuse, nor at MAIL when the rules use DNS.
 */
#define NR_STEPS	(SMFIP_NR_CONN | SMFIP_NR_MAIL)

/* An invalid recipient kept for removal at end of message (discard). */
struct drop {
	TAILQ_ENTRY(drop)	 entry;
	char			 rcpt[];
};
TAILQ_HEAD(drop_list, drop);

struct mconn {
	struct client_addr	 client;
	struct access		*access;	/* the access rules' session, if
						   there were rules at its start */
	int			 negotiated;
	unsigned long		 nr;		/* steps answered with no reply */
	char			 from[ADDR_LEN];	/* for the log */
	struct drop_list	 drops;
	unsigned int		 nrcpt;		/* recipients let through */
	unsigned int		 ndrop;
};

static void	milter_inet_check(const char *);
static struct mconn *milter_conn(SMFICTX *);
static void	milter_reset(struct mconn *);
static void	milter_macros(SMFICTX *, struct mconn *);
static sfsistat	milter_answer(SMFICTX *, const struct access_reply *);
static sfsistat	milter_negotiate(SMFICTX *, unsigned long, unsigned long,
		    unsigned long, unsigned long, unsigned long *,
		    unsigned long *, unsigned long *, unsigned long *);
static sfsistat	milter_connect(SMFICTX *, char *, struct sockaddr *);
static sfsistat	milter_pass(const struct mconn *, unsigned long);
static sfsistat	milter_helo(SMFICTX *, char *);
static sfsistat	milter_envfrom(SMFICTX *, char **);
static sfsistat	milter_envrcpt(SMFICTX *, char **);
static sfsistat	milter_header(SMFICTX *, char *, char *);
static sfsistat	milter_body(SMFICTX *, unsigned char *, size_t);
static sfsistat	milter_eom(SMFICTX *);
static sfsistat	milter_abort(SMFICTX *);
static sfsistat	milter_close(SMFICTX *);
static void	milter_fd_warn(const char *, int);

/* The engine's answer to a RCPT, set by milter_init(). */
static int	 milter_fd_limit;	/* accept() hands out fds below */
static time_t	 milter_fd_warned;

static void	(*milter_rcpt)(const struct rcpt_query *, const char *,
		    struct policy_reply *);

/*
 * The NR_STEPS the last negotiation asked for: libmilter offers them to
 * each negotiation (and answers in our place an MTA that lacks them), so
 * all ask the same unless access rules came or went at a reload.  Kept
 * here as well as per connection, because a connection the MTA goes on
 * with after QUIT_NC does not negotiate again.
 */
static unsigned long	noreply;
static int		any_negotiated, noreply_mixed;

static struct smfiDesc milter_desc = {
	.xxfi_name = "scam-back",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_DELRCPT,
	.xxfi_connect = milter_connect,
	.xxfi_helo = milter_helo,
	.xxfi_envfrom = milter_envfrom,
	.xxfi_envrcpt = milter_envrcpt,
	.xxfi_header = milter_header,
	.xxfi_body = milter_body,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
	.xxfi_negotiate = milter_negotiate,
};

/*
 * libmilter tells why it cannot listen to syslog only: bind the address
 * first, as it will, so that a start that fails says why ("Address
 * already in use") wherever it is read.  "inet:port@host" or
 * "inet6:port@[host]"; what does not parse is left to libmilter.
 */
static void
milter_inet_check(const char *spec)
{
	struct addrinfo	 hints, *res;
	char		 buf[SPEC_LEN], *port, *host;
	size_t		 len;
	int		 fd, on = 1;

	strlcpy(buf, spec, sizeof(buf));
	if ((port = strchr(buf, ':')) == NULL ||
	    (host = strchr(++port, '@')) == NULL)
		return;
	*host++ = '\0';
	len = strlen(host);
	if (len > 2 && host[0] == '[' && host[len - 1] == ']') {
		host[len - 1] = '\0';
		host++;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = strncmp(spec, "inet6:", 6) == 0 ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return;
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1) {
		freeaddrinfo(res);
		return;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1)
		fatal("cannot open milter socket %s", spec);
	close(fd);
	freeaddrinfo(res);
}

/*
 * Register and open the socket while still root.  A unix socket is put
 * in place by sockfile.c: never over one that something listens on (a
 * stale one is replaced), with its owner, group and mode set before it
 * can be reached.  What the parent needs to remove it at the end goes
 * into *ready.
 */
void
milter_init(struct listen_conf *l, void (*rcpt)(const struct rcpt_query *,
    const char *, struct policy_reply *), struct milter_ready *ready)
{
	struct sockplace	 sp;
	struct passwd		*pw;
	struct group		*gr;
	struct stat		 sb;
	struct rlimit		 rl;
	char			 spec[SPEC_LEN];
	mode_t			 omask;
	uid_t			 uid = (uid_t)-1;
	gid_t			 gid = (gid_t)-1;
	rlim_t			 reserve;

	milter_rcpt = rcpt;
	memset(ready, 0, sizeof(*ready));
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	reserve = rl.rlim_cur / 4 < MILTER_FD_RESERVE ? rl.rlim_cur / 4 :
	    MILTER_FD_RESERVE;
	milter_fd_limit = rl.rlim_cur - reserve > INT_MAX ? INT_MAX :
	    (int)(rl.rlim_cur - reserve);
	if (smfi_register(milter_desc) == MI_FAILURE)
		fatalx("smfi_register failed");
	if (smfi_settimeout(MILTER_TIMEOUT) == MI_FAILURE)
		fatalx("smfi_settimeout failed");
	if (l->family != LISTEN_UNIX) {
		milter_inet_check(l->spec);
		if (smfi_setconn(l->spec) == MI_FAILURE)
			fatalx("smfi_setconn %s failed", l->spec);
		if (smfi_opensocket(0) == MI_FAILURE)
			fatalx("cannot open milter socket %s", l->spec);
		return;
	}

	if (l->owner[0] != '\0') {
		if ((pw = getpwnam(l->owner)) == NULL)
			fatalx("unknown user %s", l->owner);
		uid = pw->pw_uid;
	}
	if (l->group[0] != '\0') {
		if ((gr = getgrnam(l->group)) == NULL)
			fatalx("unknown group %s", l->group);
		gid = gr->gr_gid;
	}
	if (sock_prepare(&sp, l->path, "milter socket") == -1)
		fatalx("cannot open milter socket %s", l->spec);
	(void)snprintf(spec, sizeof(spec), "unix:%s", sp.tmp);
	/* Root's alone until sock_place() gives it its owner and mode. */
	omask = umask(S_IRWXG | S_IRWXO);
	if (smfi_setconn(spec) == MI_FAILURE ||
	    smfi_opensocket(0) == MI_FAILURE) {
		sock_abort(&sp);
		fatalx("cannot open milter socket %s", l->spec);
	}
	umask(omask);
	if (sock_place(&sp, uid, gid, l->mode, &sb) == -1)
		fatalx("cannot open milter socket %s", l->spec);
	ready->dev = sb.st_dev;
	ready->ino = sb.st_ino;
}

int
milter_run(void)
{
	return (smfi_main() == MI_SUCCESS ? 0 : -1);
}

/*
 * libmilter's listener calls accept(2) through the dynamic linker, so
 * it gets this one.  Out of descriptors, libmilter would retry at once
 * and for ever, a core spinning while idle connections, however many a
 * local user opens, leave the engine nothing for the cache file the
 * parent passes or for scambackctl.  Here a connection that lands among
 * the last descriptors is closed at once (the MTA applies its milter
 * default action), a failure for want of descriptors waits a moment,
 * and both are logged now and then, with what to do.  libmilter takes
 * ECONNABORTED and EMFILE for "try again".
 */
int
accept(int s, struct sockaddr *addr, socklen_t *len)
{
	struct timespec	ts = { 0, 100000000 };
	int		fd, saved;

	if ((fd = accept4(s, addr, len, 0)) == -1) {
		saved = errno;
		if (saved == EMFILE || saved == ENFILE) {
			milter_fd_warn("cannot accept MTA connections", 0);
			nanosleep(&ts, NULL);
		}
		errno = saved;
		return (-1);
	}
	if (milter_fd_limit > 0 && fd >= milter_fd_limit) {
		close(fd);
		milter_fd_warn("MTA connections beyond", milter_fd_limit);
		errno = ECONNABORTED;
		return (-1);
	}
	return (fd);
}

/* At most one line an hour: an attack must not flood the log. */
static void
milter_fd_warn(const char *what, int n)
{
	struct rlimit	rl;
	time_t		now = time(NULL);

	if (milter_fd_warned != 0 && now - milter_fd_warned < 3600)
		return;
	milter_fd_warned = now;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		rl.rlim_cur = 0;
	if (n > 0)
		log_warnx("out of descriptors (limit %llu): %s %d are closed "
		    "at once; idle ones end after %d s; raise the limit "
		    "(LimitNOFILE in the systemd unit, ulimit -n)",
		    (unsigned long long)rl.rlim_cur, what, n, MILTER_TIMEOUT);
	else
		log_warnx("out of descriptors (limit %llu): %s; raise the "
		    "limit (LimitNOFILE in the systemd unit, ulimit -n)",
		    (unsigned long long)rl.rlim_cur, what);
}

/* The connection's state, made on first use. */
static struct mconn *
milter_conn(SMFICTX *ctx)
{
	struct mconn	*c;

	if ((c = smfi_getpriv(ctx)) != NULL)
		return (c);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s", __func__);
		return (NULL);
	}
	TAILQ_INIT(&c->drops);
	if (smfi_setpriv(ctx, c) == MI_FAILURE) {
		free(c);
		return (NULL);
	}
	return (c);
}

/* What the MTA says of the client and the session, at any stage. */
static void
milter_macros(SMFICTX *ctx, struct mconn *c)
{
	struct access_macros	m;

	if (c->access == NULL)
		return;
	m.client_addr = smfi_getsymval(ctx, "{client_addr}");
	m.client_name = smfi_getsymval(ctx, "{client_name}");
	m.client_ptr = smfi_getsymval(ctx, "{client_ptr}");
	m.client_resolve = smfi_getsymval(ctx, "{client_resolve}");
	m.auth = smfi_getsymval(ctx, "{auth_authen}");
	access_macros(c->access, &m);
}

/* A rule's reply: a 5xx rejects, a 4xx (421 too: the MTA hangs up) defers. */
static sfsistat
milter_answer(SMFICTX *ctx, const struct access_reply *r)
{
	if (smfi_setreply(ctx, (char *)r->rcode, r->xcode[0] != '\0' ?
	    (char *)r->xcode : NULL, (char *)r->text) == MI_FAILURE)
		log_warnx("cannot set the reply text");
	return (r->rcode[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL);
}

/* A new message, or none: forget the last one's recipients. */
static void
milter_reset(struct mconn *c)
{
	struct drop	*d;

	while ((d = TAILQ_FIRST(&c->drops)) != NULL) {
		TAILQ_REMOVE(&c->drops, d, entry);
		free(d);
	}
	c->nrcpt = 0;
	c->ndrop = 0;
}

/*
 * Ask for the macros RCPT needs, so that neither MTA needs configuring,
 * skip the steps that cannot change a verdict, and answer none of those
 * that always pass.
 */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct mconn	*c;
	unsigned long	skip = SKIP_STEPS, nr;
	int		rules, flags, failed;

	/*
	 * Without rules, only RCPT's macros: nothing else is looked at, and
	 * the session costs the rules nothing.  A reload that brings rules
	 * applies them to the sessions that start after it.
	 */
	if ((c = milter_conn(ctx)) == NULL)
		return (SMFIS_CONTINUE);
	c->negotiated = 1;
	nr = f1 & NR_STEPS;
	if ((rules = access_have_rules())) {
		if ((c->access = access_new()) == NULL)
			log_warn("%s", __func__);
		skip &= ~SMFIP_NOHELO;
		flags = access_rules_flags();
		if (flags & RF_SAVE)
			skip &= ~SKIP_SAVING;
		/* A refusal at connect or helo is repeated at MAIL. */
		if (flags & RF_CONNECT)
			nr &= ~SMFIP_NR_CONN;
		/*
		 * Postfix keeps an event that wants no reply in its buffer
		 * until the next one: the DNS lookups begun at MAIL FROM
		 * would start only at RCPT.
		 */
		if (flags & (RF_EARLY | RF_DNS))
			nr &= ~SMFIP_NR_MAIL;
	}
	*pf0 = f0 & (SMFIF_DELRCPT | SMFIF_SETSYMLIST);
	*pf1 = f1 & (skip | nr);
	c->nr = nr;
	if (__atomic_exchange_n(&noreply, nr, __ATOMIC_RELAXED) != nr &&
	    __atomic_load_n(&any_negotiated, __ATOMIC_RELAXED))
		__atomic_store_n(&noreply_mixed, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&any_negotiated, 1, __ATOMIC_RELAXED);
	*pf2 = 0;
	*pf3 = 0;
	if (!(f0 & SMFIF_SETSYMLIST))
		return (SMFIS_CONTINUE);
	if (rules)
		failed = smfi_setsymlist(ctx, SMFIM_CONNECT, CLIENT_MACROS) ==
		    MI_FAILURE ||
		    smfi_setsymlist(ctx, SMFIM_HELO, CLIENT_MACROS) ==
		    MI_FAILURE ||
		    smfi_setsymlist(ctx, SMFIM_ENVFROM, RULES_MAIL) ==
		    MI_FAILURE ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT, RULES_RCPT) ==
		    MI_FAILURE;
	else
		failed = smfi_setsymlist(ctx, SMFIM_ENVRCPT, RCPT_MACROS) ==
		    MI_FAILURE;
	if (failed)
		log_warnx("cannot ask the MTA for the macros");
	return (SMFIS_CONTINUE);
}

/*
 * A step that passes: no answer at all if the MTA expects none.  A
 * connection that did not negotiate (continued after QUIT_NC) takes what
 * every negotiation asked; if they did not all ask the same, an answer:
 * libmilter drops it where none was expected, while a missing one would
 * leave the MTA waiting.
 */
static sfsistat
milter_pass(const struct mconn *c, unsigned long step)
{
	unsigned long	nr;

	if (c != NULL && c->negotiated)
		nr = c->nr;
	else if (__atomic_load_n(&noreply_mixed, __ATOMIC_RELAXED))
		nr = 0;
	else
		nr = __atomic_load_n(&noreply, __ATOMIC_RELAXED);
	return (nr & step ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, struct sockaddr *sa)
{
	struct mconn		*c;
	struct access_reply	 r;

	if ((c = milter_conn(ctx)) == NULL)
		return (milter_pass(NULL, SMFIP_NR_CONN));
	client_from_sockaddr(&c->client, sa);
	/* An MTA too old to negotiate: the rules are looked up here. */
	if (!c->negotiated && c->access == NULL && access_have_rules() &&
	    (c->access = access_new()) == NULL)
		log_warn("%s", __func__);
	access_client(c->access, &c->client);
	milter_macros(ctx, c);
	if (access_stage(c->access, STAGE_CONNECT, NULL, POLICY_WAIT_CAP_MS,
	    &r))
		return (milter_answer(ctx, &r));
	return (milter_pass(c, SMFIP_NR_CONN));
}

static sfsistat
milter_helo(SMFICTX *ctx, char *helo)
{
	struct mconn		*c;
	struct access_reply	 r;

	if ((c = milter_conn(ctx)) == NULL)
		return (SMFIS_CONTINUE);
	milter_macros(ctx, c);
	access_helo(c->access, helo);
	if (access_stage(c->access, STAGE_HELO, NULL, POLICY_WAIT_CAP_MS,
	    &r))
		return (milter_answer(ctx, &r));
	return (SMFIS_CONTINUE);
}

static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct mconn		*c;
	struct access_reply	 r;
	const char		*s;
	size_t			 len;

	if ((c = milter_conn(ctx)) == NULL)
		return (milter_pass(NULL, SMFIP_NR_MAIL));
	milter_reset(c);
	milter_macros(ctx, c);
	access_mail(c->access, argv != NULL ? argv[0] : NULL);
	/*
	 * For the log only, without its brackets; the verdict line makes
	 * it printable.
	 */
	s = argv != NULL && argv[0] != NULL ? argv[0] : "";
	len = strlen(s);
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len > sizeof(c->from) - 1)
		len = sizeof(c->from) - 1;
	memcpy(c->from, s, len);
	c->from[len] = '\0';
	if (access_stage(c->access, STAGE_MAIL, NULL, POLICY_WAIT_CAP_MS,
	    &r))
		return (milter_answer(ctx, &r));
	return (milter_pass(c, SMFIP_NR_MAIL));
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mconn		*c;
	struct rcpt_query	 q;
	struct policy_reply	 r;
	struct access_reply	 ar;
	struct client_addr	 client;
	struct drop		*d;
	struct timespec		 t0, t1;
	const char		*rcpt;
	size_t			 len;
	uint64_t		 spent;

	if ((c = milter_conn(ctx)) == NULL)
		return (SMFIS_CONTINUE);

	/* {client_addr} may be newer than connect's (Postfix XCLIENT). */
	if (client_from_string(&client,
	    smfi_getsymval(ctx, "{client_addr}")) == -1)
		client = c->client;
	rcpt = argv != NULL && argv[0] != NULL ? argv[0] :
	    smfi_getsymval(ctx, "{rcpt_addr}");

	/* The access rules first: what they refuse is never probed. */
	milter_macros(ctx, c);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (access_stage(c->access, STAGE_RCPT, rcpt, POLICY_WAIT_CAP_MS,
	    &ar)) {
		switch (ar.action) {
		case ACC_NOVERIFY:
		case ACC_SAVE:
			c->nrcpt++;
			return (SMFIS_CONTINUE);
		case ACC_DEFER:
			break;
		default:
			return (milter_answer(ctx, &ar));
		}
	} else
		ar.action = ACC_CONTINUE;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	spent = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;

	q.client = &client;
	q.daemon = smfi_getsymval(ctx, "{daemon_name}");
	q.auth = smfi_getsymval(ctx, "{auth_authen}");
	q.qid = smfi_getsymval(ctx, "i");
	q.rcpt = rcpt;
	/* What the rules left of the time the MTA waits. */
	q.wait_ms = spent < POLICY_WAIT_CAP_MS ? POLICY_WAIT_CAP_MS - spent :
	    1;
	milter_rcpt(&q, c->from, &r);

	/* An undecided rule: 4xx, unless the recipient does not exist. */
	if (ar.action == ACC_DEFER && r.action != ACTION_REJECT &&
	    r.action != ACTION_DISCARD)
		return (milter_answer(ctx, &ar));
	/* kill-mail: verification's 4xx becomes set permanent's 5xx. */
	if (r.action == ACTION_TEMPFAIL) {
		ar.action = ACC_TEMPFAIL;
		strlcpy(ar.rcode, r.rcode, sizeof(ar.rcode));
		strlcpy(ar.xcode, r.xcode, sizeof(ar.xcode));
		strlcpy(ar.text, r.text, sizeof(ar.text));
		if (access_permanent(c->access, rcpt, &ar))
			return (milter_answer(ctx, &ar));
	}

	switch (r.action) {
	case ACTION_REJECT:
		if (smfi_setreply(ctx, (char *)r.rcode, (char *)r.xcode,
		    r.text) == MI_FAILURE)
			log_warnx("cannot set the reply text");
		return (SMFIS_REJECT);
	case ACTION_TEMPFAIL:
		if (smfi_setreply(ctx, (char *)r.rcode, (char *)r.xcode,
		    r.text) == MI_FAILURE)
			log_warnx("cannot set the reply text");
		return (SMFIS_TEMPFAIL);
	case ACTION_DISCARD:
		/* Accepted now, removed at end of message. */
		len = strlen(rcpt) + 1;
		if ((d = malloc(sizeof(*d) + len)) == NULL) {
			log_warn("%s", __func__);
			return (SMFIS_TEMPFAIL);
		}
		memcpy(d->rcpt, rcpt, len);
		TAILQ_INSERT_TAIL(&c->drops, d, entry);
		c->ndrop++;
		c->nrcpt++;
		return (SMFIS_CONTINUE);
	default:
		c->nrcpt++;
		return (SMFIS_CONTINUE);
	}
}

/* Headers and body reach scam-back only for a save rule's message. */
static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct mconn	*c;

	if ((c = smfi_getpriv(ctx)) != NULL && access_saving(c->access))
		access_save_header(c->access, name, value);
	return (SMFIS_CONTINUE);
}

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct mconn	*c;

	if ((c = smfi_getpriv(ctx)) != NULL && access_saving(c->access))
		access_save_body(c->access, data, len);
	return (SMFIS_CONTINUE);
}

/*
 * A save rule's message is kept and refused whole.  invalid discard: the
 * message goes to the valid recipients only; one with no valid
 * recipient at all is discarded whole.
 */
static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct mconn		*c;
	struct drop		*d;
	struct access_reply	 ar;
	sfsistat		 ret = SMFIS_CONTINUE;
	char			 buf[80];

	if ((c = smfi_getpriv(ctx)) == NULL)
		return (SMFIS_CONTINUE);
	if (access_save_eom(c->access, &ar)) {
		milter_reset(c);
		return (milter_answer(ctx, &ar));
	}
	if (c->ndrop > 0 && c->ndrop == c->nrcpt)
		ret = SMFIS_DISCARD;
	else
		TAILQ_FOREACH(d, &c->drops, entry)
			if (smfi_delrcpt(ctx, d->rcpt) == MI_FAILURE)
				log_warnx("cannot remove recipient %s",
				    printable(d->rcpt, buf, sizeof(buf)));
	milter_reset(c);
	return (ret);
}

static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct mconn	*c;

	if ((c = smfi_getpriv(ctx)) != NULL) {
		milter_reset(c);
		access_message_end(c->access);
	}
	return (SMFIS_CONTINUE);
}

static sfsistat
milter_close(SMFICTX *ctx)
{
	struct mconn	*c;

	if ((c = smfi_getpriv(ctx)) != NULL) {
		milter_reset(c);
		access_free(c->access);
		free(c);
		smfi_setpriv(ctx, NULL);
	}
	return (SMFIS_CONTINUE);
}
