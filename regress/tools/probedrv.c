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
 * probedrv: plays the parent and the milter engine for a real prober
 * process, for regress tests.  It reads a configuration with the daemon's
 * own parser, starts `scam-back -P prober -d' with the two socketpairs,
 * sends the configuration, the engine's socket and the start, then works
 * through its items:
 *
 *	address		probe it (on the current backend, by name and id)
 *	+address	probe it with bypass (scambackctl check)
 *	backend=NAME	later probes go to this backend (default: the first)
 *	wait		until every probe sent is answered
 *	sleep=MS	pause (answers are printed meanwhile)
 *	backends	print the prober's backend figures
 *	reload		send the configuration again (-r file if given)
 *	dns:KIND:NAME	ask the access rules' DNS question (IMSG_DNS_REQ):
 *			KIND resolvable, parent (resolvable with DNS_PARENT),
 *			mx or ns; it counts as a probe for -c and wait
 *	imsg=TYPE@PEER	send an empty message of this type (STOP, LOG_VERBOSE,
 *			RECONF_CONF, PROBE_REQ, PROBE_BACKENDS, PROBE_RES,
 *			CTL_END) as the parent or the engine would, then
 *			wait for the prober to go; it must, fatally
 *
 * Each answer is one line:  <addr> valid 250 2.1.5 "Ok" 3ms [catchall]
 * (the enhanced code is "-" when there is none).  A DNS answer is
 *	dns KIND NAME RESULT ttl N at FOUND names A,B addrs X,Y Nms
 * ("-" for no names or addresses).  `backends' prints
 *	backend NAME sessions OPEN/IDLE/LIMIT queued N probes N valid N
 *	    invalid N unknown N mean Nms p99 Nms
 *	host NAME PORT up|backoff Ns|unresolved "last error"
 *
 *	-c n	at most n probes unanswered at a time (default 1)
 *	-p file	write the prober's pid there
 *	-r file	the configuration `reload' sends (default: -f again)
 *	-t s	how long to wait for answers (default 30)
 *	-v	-v to the prober (its log goes to our stderr)
 *	-X path	the scam-back binary (default $SCAMBACK, scam-back/scam-back)
 *
 * At the end it waits for every answer, stops the prober and exits 0;
 * 1 when answers are missing after -t seconds, 2 when the prober died.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "dns.h"
#include "policy.h"
#include "resolvconf.h"

#define MAXPROBES	100000

struct outstanding {
	char		 address[ADDR_LEN];	/* or "dns KIND NAME" */
	uint64_t	 start;
	int		 answered;
};

static __dead void usage(void);
static uint64_t	 now_ms(void);
static __dead void send_imsg(const char *);
static void	 start_prober(const char *, int);
static void	 send_config(struct scamback_conf *);
static void	 flush(struct imsgbuf *);
static int	 pump(int);
static void	 handle_engine(struct imsg *);
static struct outstanding *answered(uint32_t, uint32_t, int);
static void	 probe(const char *, int);
static void	 dns(const char *);
static void	 print_dns(struct outstanding *, struct dns_res *);
static void	 wait_all(void);
static void	 backends(void);
static void	 stop(int);
static const char *host_state_name(enum host_state);

static struct imsgbuf		 ibuf_parent, ibuf_engine;
static pid_t			 prober_pid = -1;
static struct outstanding	*probes;
static uint32_t			 nprobes, nanswered;
static int			 concurrency = 1;
static int			 timeout_s = 30;
static uint32_t			 backend_id;
static uint32_t			 dns_timeout = DEFAULT_DNS_TIMEOUT;
static const char		*backend_name = "";
static int			 backends_done;

static __dead void
usage(void)
{
	fprintf(stderr, "usage: probedrv [-v] [-c concurrency] [-p pidfile] "
	    "[-r reload.conf] [-t timeout]\n"
	    "                [-X scam-back] -f scam-back.conf item ...\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct scamback_conf	*conf, *rconf;
	struct backend_conf	*bc;
	const char		*conffile = NULL, *reloadfile = NULL;
	const char		*pidfile = NULL;
	FILE			*pf;
	const char		*prober = getenv("SCAMBACK"), *errstr;
	int			 ch, i, verbose = 0;

	if (prober == NULL)
		prober = "scam-back/scam-back";
	while ((ch = getopt(argc, argv, "c:f:p:r:t:vX:")) != -1) {
		switch (ch) {
		case 'c':
			concurrency = strtonum(optarg, 1, MAXPROBES, &errstr);
			if (errstr != NULL)
				errx(1, "-c %s: %s", optarg, errstr);
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'r':
			reloadfile = optarg;
			break;
		case 't':
			timeout_s = strtonum(optarg, 1, 3600, &errstr);
			if (errstr != NULL)
				errx(1, "-t %s: %s", optarg, errstr);
			break;
		case 'v':
			verbose++;
			break;
		case 'X':
			prober = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (conffile == NULL)
		usage();

	if ((conf = parse_config(conffile, SCAMBACK_OPT_NOACTION)) == NULL)
		errx(1, "%s: configuration errors", conffile);
	resolvconf_load(conf, RESOLV_CONF);
	dns_timeout = conf->dns_timeout;
	if ((bc = TAILQ_FIRST(&conf->backends)) != NULL) {
		backend_id = bc->id;
		backend_name = bc->name;
	}
	if ((probes = calloc(MAXPROBES, sizeof(*probes))) == NULL)
		err(1, NULL);

	signal(SIGPIPE, SIG_IGN);
	start_prober(prober, verbose);
	if (pidfile != NULL) {
		if ((pf = fopen(pidfile, "w")) == NULL)
			err(1, "%s", pidfile);
		fprintf(pf, "%ld\n", (long)prober_pid);
		fclose(pf);
	}
	send_config(conf);
	if (imsg_compose(&ibuf_parent, IMSG_START, 0, 0, -1, NULL, 0) == -1)
		err(1, "imsg_compose");
	flush(&ibuf_parent);

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "wait") == 0)
			wait_all();
		else if (strncmp(argv[i], "sleep=", 6) == 0) {
			uint64_t end = now_ms() + strtonum(argv[i] + 6, 0,
			    3600000, &errstr);
			if (errstr != NULL)
				errx(1, "%s: %s", argv[i], errstr);
			while (now_ms() < end)
				pump(end - now_ms());
		} else if (strcmp(argv[i], "backends") == 0)
			backends();
		else if (strcmp(argv[i], "reload") == 0) {
			if (reloadfile == NULL)
				rconf = parse_config(conffile,
				    SCAMBACK_OPT_NOACTION);
			else
				rconf = parse_config(reloadfile,
				    SCAMBACK_OPT_NOACTION);
			if (rconf == NULL)
				errx(1, "reload: configuration errors");
			resolvconf_load(rconf, RESOLV_CONF);
			dns_timeout = rconf->dns_timeout;
			send_config(rconf);
			flush(&ibuf_parent);
			if ((bc = config_backend_byname(rconf,
			    backend_name)) != NULL)
				backend_id = bc->id;
			printf("reloaded\n");
			fflush(stdout);
		} else if (strncmp(argv[i], "backend=", 8) == 0) {
			if ((bc = config_backend_byname(conf, argv[i] + 8)) ==
			    NULL)
				errx(1, "no backend %s", argv[i] + 8);
			backend_id = bc->id;
			backend_name = bc->name;
		} else if (strncmp(argv[i], "imsg=", 5) == 0)
			send_imsg(argv[i] + 5);
		else if (strncmp(argv[i], "dns:", 4) == 0)
			dns(argv[i] + 4);
		else if (argv[i][0] == '+')
			probe(argv[i] + 1, 1);
		else
			probe(argv[i], 0);
	}
	wait_all();
	stop(0);
}

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
start_prober(const char *path, int verbose)
{
	int	 parent[2], ipc[2];
	char	*args[8];
	int	 n = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, PF_UNSPEC, parent) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, PF_UNSPEC, ipc) == -1)
		err(1, "socketpair");

	switch (prober_pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		close(parent[0]);
		close(ipc[0]);
		if (dup2(parent[1], PARENT_SOCK_FILENO) == -1)
			err(1, "dup2");
		if (parent[1] != PARENT_SOCK_FILENO)
			close(parent[1]);
		args[n++] = (char *)path;
		args[n++] = "-P";
		args[n++] = "prober";
		args[n++] = "-d";
		if (verbose > 0)
			args[n++] = verbose > 1 ? "-vv" : "-v";
		args[n] = NULL;
		execv(path, args);
		err(1, "execv %s", path);
	}
	close(parent[1]);
	if (imsgbuf_init(&ibuf_parent, parent[0]) == -1 ||
	    imsgbuf_init(&ibuf_engine, ipc[0]) == -1)
		err(1, "imsgbuf_init");
	imsgbuf_allow_fdpass(&ibuf_parent);
	if (imsg_compose(&ibuf_parent, IMSG_SOCKET_IPC, 0, 0, ipc[1],
	    NULL, 0) == -1)
		err(1, "imsg_compose");
	flush(&ibuf_parent);
}

static void
send_config(struct scamback_conf *conf)
{
	if (config_send(&ibuf_parent, conf, 0) == -1)
		err(1, "config_send");
}

static void
flush(struct imsgbuf *ibuf)
{
	while (imsgbuf_queuelen(ibuf) > 0)
		if (imsgbuf_write(ibuf) == -1)
			err(2, "write to the prober");
}

/* Read what the prober sends for up to ms; returns 0 on timeout. */
static int
pump(int ms)
{
	struct pollfd	 pfd[2];
	struct imsg	 imsg;
	ssize_t		 n;

	flush(&ibuf_engine);
	pfd[0].fd = ibuf_engine.fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = ibuf_parent.fd;
	pfd[1].events = POLLIN;
	if ((n = poll(pfd, 2, ms)) == -1) {
		if (errno == EINTR)
			return (1);
		err(2, "poll");
	}
	if (n == 0)
		return (0);
	if (pfd[1].revents & (POLLIN | POLLHUP)) {
		char	buf[256];

		if (read(ibuf_parent.fd, buf, sizeof(buf)) <= 0) {
			warnx("the prober closed its parent channel");
			stop(2);
		}
	}
	if (pfd[0].revents & (POLLIN | POLLHUP)) {
		switch (imsgbuf_read(&ibuf_engine)) {
		case -1:
			err(2, "read from the prober");
		case 0:
			warnx("the prober closed the engine channel");
			stop(2);
		}
		for (;;) {
			if ((n = imsg_get(&ibuf_engine, &imsg)) == -1)
				err(2, "imsg_get");
			if (n == 0)
				break;
			handle_engine(&imsg);
			imsg_free(&imsg);
		}
	}
	return (1);
}

/* The request an answer is for: known, a probe or DNS, not answered. */
static struct outstanding *
answered(uint32_t id, uint32_t imsgid, int dns)
{
	struct outstanding	*o;

	if (id == 0 || id > nprobes || imsgid != id ||
	    (strncmp(probes[id - 1].address, "dns ", 4) == 0) != dns)
		errx(2, "answer to unknown %s %u", dns ? "DNS request" :
		    "probe", id);
	o = &probes[id - 1];
	if (o->answered)
		errx(2, "second answer to %u (%s)", id, o->address);
	o->answered = 1;
	nanswered++;
	return (o);
}

static void
handle_engine(struct imsg *imsg)
{
	struct probe_res	 res;
	struct dns_res		 dres;
	struct ctl_backend	 cb;
	struct outstanding	*o;
	uint32_t		 i;

	switch (imsg_get_type(imsg)) {
	case IMSG_DNS_RES:
		if (imsg_get_data(imsg, &dres, sizeof(dres)) == -1 ||
		    !dns_answer_sane(&dres.answer))
			errx(2, "bad IMSG_DNS_RES");
		o = answered(dres.id, imsg_get_id(imsg), 1);
		print_dns(o, &dres);
		break;
	case IMSG_PROBE_RES:
		if (imsg_get_data(imsg, &res, sizeof(res)) == -1)
			errx(2, "bad IMSG_PROBE_RES");
		res.text[sizeof(res.text) - 1] = '\0';
		res.enhanced[sizeof(res.enhanced) - 1] = '\0';
		o = answered(res.id, imsg_get_id(imsg), 0);
		printf("%s %s %d %s \"%s\" %llums%s\n", o->address,
		    policy_verdict_name(res.verdict), res.code,
		    res.enhanced[0] != '\0' ? res.enhanced : "-", res.text,
		    (unsigned long long)(now_ms() - o->start),
		    res.catchall ? " catchall" : "");
		fflush(stdout);
		break;
	case IMSG_PROBE_BACKEND:
		if (imsg_get_data(imsg, &cb, sizeof(cb)) == -1)
			errx(2, "bad IMSG_PROBE_BACKEND");
		cb.name[sizeof(cb.name) - 1] = '\0';
		printf("backend %s sessions %u/%u/%u queued %u probes %llu "
		    "shortcuts %llu valid %llu invalid %llu unknown %llu "
		    "mean %ums p99 %ums\n", cb.name, cb.sessions_open,
		    cb.sessions_idle, cb.sessions_limit, cb.queued,
		    (unsigned long long)cb.probes,
		    (unsigned long long)cb.shortcuts,
		    (unsigned long long)cb.valid,
		    (unsigned long long)cb.invalid,
		    (unsigned long long)cb.unknown,
		    cb.latency_mean_ms, cb.latency_p99_ms);
		for (i = 0; i < cb.nhosts && i < CTL_MAX_HOSTS; i++) {
			cb.hosts[i].name[sizeof(cb.hosts[i].name) - 1] = '\0';
			cb.hosts[i].last_error[
			    sizeof(cb.hosts[i].last_error) - 1] = '\0';
			printf("host %s %u %s", cb.hosts[i].name,
			    cb.hosts[i].port,
			    host_state_name(cb.hosts[i].state));
			if (cb.hosts[i].state == HOST_BACKOFF)
				printf(" %llds", (long long)
				    (cb.hosts[i].backoff_until - time(NULL)));
			printf(" \"%s\"\n", cb.hosts[i].last_error);
		}
		fflush(stdout);
		break;
	case IMSG_PROBE_BACKENDS_END:
		backends_done = 1;
		break;
	default:
		errx(2, "unexpected imsg %u from the prober",
		    imsg_get_type(imsg));
	}
}

/*
 * A message the prober must refuse: a type it does not take, or one from
 * the other peer.  It has to die of it, with a fatal line in its log.
 */
static void
send_imsg(const char *spec)
{
	static const struct {
		const char	*name;
		uint32_t	 type;
	} names[] = {
		{ "STOP",		IMSG_STOP },
		{ "LOG_VERBOSE",	IMSG_LOG_VERBOSE },
		{ "RECONF_CONF",	IMSG_RECONF_CONF },
		{ "PROBE_REQ",		IMSG_PROBE_REQ },
		{ "PROBE_BACKENDS",	IMSG_PROBE_BACKENDS },
		{ "PROBE_RES",		IMSG_PROBE_RES },
		{ "CTL_END",		IMSG_CTL_END }
	};
	struct imsgbuf	*ibuf;
	const char	*at;
	uint64_t	 end = now_ms() + timeout_s * 1000;
	size_t		 i, len;

	if ((at = strchr(spec, '@')) == NULL)
		errx(1, "imsg=%s: no @parent or @engine", spec);
	if (strcmp(at + 1, "parent") == 0)
		ibuf = &ibuf_parent;
	else if (strcmp(at + 1, "engine") == 0)
		ibuf = &ibuf_engine;
	else
		errx(1, "imsg=%s: @parent or @engine", spec);
	len = at - spec;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len &&
		    strncmp(names[i].name, spec, len) == 0)
			break;
	if (i == sizeof(names) / sizeof(names[0]))
		errx(1, "imsg=%s: unknown type", spec);
	if (imsg_compose(ibuf, names[i].type, 0, 0, -1, NULL, 0) == -1)
		err(1, "imsg_compose");
	flush(ibuf);
	/* pump() stops us with 2 once the prober has closed a channel. */
	while (now_ms() < end)
		pump(1000);
	errx(1, "imsg=%s: the prober did not go", spec);
}

static void
probe(const char *address, int bypass)
{
	struct probe_req	 req;
	uint64_t		 end = now_ms() + timeout_s * 1000;

	if (nprobes == MAXPROBES)
		errx(1, "too many probes");
	while (nprobes - nanswered >= (uint32_t)concurrency)
		if (!pump(1000) && now_ms() > end)
			wait_all();	/* reports and exits */

	memset(&req, 0, sizeof(req));
	req.id = ++nprobes;
	req.backend_id = backend_id;
	strlcpy(req.backend, backend_name, sizeof(req.backend));
	req.bypass = bypass;
	strlcpy(req.address, address, sizeof(req.address));
	strlcpy(probes[req.id - 1].address, address,
	    sizeof(probes[req.id - 1].address));
	probes[req.id - 1].start = now_ms();
	if (imsg_compose(&ibuf_engine, IMSG_PROBE_REQ, 0, 0, -1, &req,
	    sizeof(req)) == -1)
		err(1, "imsg_compose");
	flush(&ibuf_engine);
}

/* "resolvable:example.net", "parent:...", "mx:...", "ns:..." */
static void
dns(const char *spec)
{
	struct dns_req	 req;
	const char	*name;
	uint64_t	 end = now_ms() + timeout_s * 1000;

	if (nprobes == MAXPROBES)
		errx(1, "too many probes");
	if ((name = strchr(spec, ':')) == NULL)
		errx(1, "dns:%s: dns:KIND:NAME", spec);
	name++;
	memset(&req, 0, sizeof(req));
	if (strncmp(spec, "resolvable:", 11) == 0)
		req.kind = DNS_RESOLVABLE;
	else if (strncmp(spec, "parent:", 7) == 0) {
		req.kind = DNS_RESOLVABLE;
		req.flags = DNS_PARENT;
	} else if (strncmp(spec, "mx:", 3) == 0)
		req.kind = DNS_MX;
	else if (strncmp(spec, "ns:", 3) == 0)
		req.kind = DNS_NS;
	else
		errx(1, "dns:%s: kind resolvable, parent, mx or ns", spec);
	while (nprobes - nanswered >= (uint32_t)concurrency)
		if (!pump(1000) && now_ms() > end)
			wait_all();	/* reports and exits */

	req.id = ++nprobes;
	req.timeout_ms = dns_timeout * 1000;
	strlcpy(req.name, name, sizeof(req.name));
	snprintf(probes[req.id - 1].address,
	    sizeof(probes[req.id - 1].address), "dns %.*s %s",
	    (int)(name - spec - 1), spec, name);
	probes[req.id - 1].start = now_ms();
	if (imsg_compose(&ibuf_engine, IMSG_DNS_REQ, req.id, 0, -1, &req,
	    sizeof(req)) == -1)
		err(1, "imsg_compose");
	flush(&ibuf_engine);
}

static void
print_dns(struct outstanding *o, struct dns_res *res)
{
	struct dns_answer	*a = &res->answer;
	char			 buf[INET6_ADDRSTRLEN];
	uint32_t		 i;

	printf("%s %s ttl %u at %s names ", o->address,
	    dns_result_name(a->result), a->ttl, a->name);
	for (i = 0; i < a->nnames; i++)
		printf("%s%s", i > 0 ? "," : "", a->names[i]);
	printf("%s addrs ", a->nnames == 0 ? "-" : "");
	for (i = 0; i < a->naddrs; i++)
		printf("%s%s", i > 0 ? "," : "", inet_ntop(a->addrs[i].af,
		    &a->addrs[i].addr, buf, sizeof(buf)));
	printf("%s %llums\n", a->naddrs == 0 ? "-" : "",
	    (unsigned long long)(now_ms() - o->start));
	fflush(stdout);
}

static void
wait_all(void)
{
	uint64_t	end = now_ms() + timeout_s * 1000;
	uint32_t	i;

	while (nanswered < nprobes && now_ms() < end)
		pump(end - now_ms());
	if (nanswered == nprobes)
		return;
	for (i = 0; i < nprobes; i++)
		if (!probes[i].answered)
			printf("%s noanswer\n", probes[i].address);
	fflush(stdout);
	warnx("%u probes without an answer after %d s", nprobes - nanswered,
	    timeout_s);
	stop(1);
}

static void
backends(void)
{
	uint64_t	end = now_ms() + timeout_s * 1000;

	backends_done = 0;
	if (imsg_compose(&ibuf_engine, IMSG_PROBE_BACKENDS, 4242, 0, -1,
	    NULL, 0) == -1)
		err(1, "imsg_compose");
	while (!backends_done && now_ms() < end)
		pump(end - now_ms());
	if (!backends_done)
		errx(1, "no backend figures after %d s", timeout_s);
}

/* Stop the prober as the parent would, then for sure. */
static void
stop(int status)
{
	int	i, ws;

	if (imsg_compose(&ibuf_parent, IMSG_STOP, 0, 0, -1, NULL, 0) != -1)
		(void)imsgbuf_write(&ibuf_parent);
	for (i = 0; i < 100; i++) {
		if (waitpid(prober_pid, &ws, WNOHANG) == prober_pid) {
			if (WIFSIGNALED(ws)) {
				warnx("the prober was killed by signal %d",
				    WTERMSIG(ws));
				status = 2;
			} else if (WIFEXITED(ws) && WEXITSTATUS(ws) != 0 &&
			    status == 0) {
				warnx("the prober exited %d",
				    WEXITSTATUS(ws));
				status = 2;
			}
			exit(status);
		}
		usleep(20000);
	}
	kill(prober_pid, SIGKILL);
	waitpid(prober_pid, NULL, 0);
	warnx("the prober did not stop");
	exit(2);
}

static const char *
host_state_name(enum host_state s)
{
	switch (s) {
	case HOST_UP:
		return ("up");
	case HOST_BACKOFF:
		return ("backoff");
	default:
		return ("unresolved");
	}
}
