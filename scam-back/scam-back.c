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
 * The privileged parent: parse the configuration, create the control
 * socket, start the milter engine and the prober, own every file, reload on
 * SIGHUP, stop everything on SIGTERM.  A child that dies takes the whole
 * daemon down: a milter that silently stopped verifying is worse than one
 * the MTA sees failing.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <paths.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "resolvconf.h"
#include "parent.h"
#include "cachefile.h"
#include "compat.h"
#include "sandbox.h"
#include "save.h"

__dead static void	usage(void);
static void		parent_sig(int, short, void *);
static void		parent_dispatch_imsg(int, short, void *);
static void		parent_reap(void);
static void		parent_reaped(pid_t, int);
static void		parent_child_lost(enum scamback_proc);
static void		parent_stop_timeout(int, short, void *);
static void		parent_quit(void);
__dead static void	parent_exit(void);
static void		parent_alarm(int);
static void		parent_send_config(struct scamback_conf *);
static void		parent_reload(void);
static void		parent_sockets_remove(void);
static void		parent_log_relay(int, short, void *);

static int			 verbose;
static struct scamback_conf	*conf;
static const char		*conffile = SCAMBACK_CONF;
static const char		*csock = SCAMBACK_SOCKET;
static const char		*argv0;
static int			 stopping;
static int			 quit;		/* leave the event loop */
static enum scamback_proc	 lost = PROC_MAX; /* the child that died */
static struct event		 stop_ev;
static struct milter_ready	 milter_ready;
static int			 milter_ready_got;
static struct stat		 control_sb;
static struct child		 children[PROC_MAX];
/* What the running prober's sandbox fixed at its start. */
static struct prober_fixed	*prober_fixed;

__dead static void
usage(void)
{
	extern char	*__progname;

	fprintf(stderr, "usage: %s [-dnv] [-D macro=value] [-f file] "
	    "[-s socket]\n", __progname);
	fprintf(stderr, "       %s -m scam.conf [-- scam-back-1.x-options]\n",
	    __progname);
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct event	 ev_sigint, ev_sigterm, ev_sighup, ev_sigchld;
	sigset_t	 startsigs;
	int		 ch, debug = 0, noaction = 0;
	int		 pipe_engine[2], pipe_prober[2], pipe_ipc[2];
	int		 log_engine[2], log_prober[2];
	int		 control_fd;
	enum scamback_proc proc = PROC_PARENT, p;
	const char	*procarg = NULL, *legacyconf = NULL;

	compat_init(argc, argv);
	/* Titles and syslog say scam-back, however it was started. */
	setprogname("scam-back");
	log_init(1, LOG_MAIL);	/* log to stderr until daemonized */

	/* The children are this program again, as bgpd's. */
	if ((argv0 = argv[0]) == NULL)
		argv0 = "scam-back";

	while ((ch = getopt(argc, argv, "dD:f:m:nP:s:v")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'D':
			if (cmdline_symset(optarg) < 0)
				errx(1, "could not parse macro definition %s",
				    optarg);
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'm':
			legacyconf = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'P':
			procarg = optarg;
			break;
		case 's':
			csock = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	/*
	 * Whatever our starter left open is not ours: a descriptor on a
	 * secret file would outlive every unveil and chroot.  A child finds
	 * its imsg socket on fd 3 and start_child() closed the rest.
	 */
	if (procarg == NULL)
		closefrom(STDERR_FILENO + 1);
	/* -m: what follows "--" is the old daemon's command line. */
	if (legacyconf != NULL)
		exit(migrate_convert(legacyconf, argc, argv));
	if (argc > 0)
		usage();

	if (procarg != NULL) {
		if (strcmp(procarg, "engine") == 0)
			proc = PROC_ENGINE;
		else if (strcmp(procarg, "prober") == 0)
			proc = PROC_PROBER;
		else
			errx(1, "unknown process %s", procarg);
	}
	switch (proc) {
	case PROC_ENGINE:
		engine_main(debug, verbose);
	case PROC_PROBER:
		prober_main(debug, verbose);
	default:
		break;
	}

	if ((conf = parse_config(conffile, (noaction ?
	    SCAMBACK_OPT_NOACTION : 0) | (verbose ? SCAMBACK_OPT_VERBOSE : 0)))
	    == NULL)
		exit(1);

	if (noaction) {
		if (verbose)
			print_config(conf);
		else
			fprintf(stderr, "configuration OK\n");
		exit(0);
	}
	/* The prober's name servers, unless the configuration names them. */
	resolvconf_load(conf, RESOLV_CONF);

	if (geteuid() == 0) {
		if (getpwnam(conf->user) == NULL)
			errx(1, "unknown user %s", conf->user);
	} else
		log_warnx("not running as root: no chroot and no change of "
		    "user for the children");

	log_init(debug, LOG_MAIL);
	log_setverbose(verbose);
	if (!debug)
		parent_detach_begin();
	/*
	 * From the control socket's creation on, a stop may come: it waits
	 * until the handlers are in place rather than kill the parent with
	 * its sockets and children left behind.
	 */
	sigemptyset(&startsigs);
	sigaddset(&startsigs, SIGTERM);
	sigaddset(&startsigs, SIGINT);
	sigaddset(&startsigs, SIGHUP);
	sigaddset(&startsigs, SIGCHLD);
	sigprocmask(SIG_BLOCK, &startsigs, NULL);
	if (parent_cache_dir(conf) == -1)
		fatalx("cannot start without the cache file's directory");
	log_procinit("parent");
	setproctitle("%s", proc_title(PROC_PARENT));

	if ((control_fd = control_init(csock, &control_sb)) == -1)
		fatalx("control socket setup failed");

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, pipe_engine) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, pipe_prober) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, pipe_ipc) == -1 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, PF_UNSPEC,
	    log_engine) == -1 ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, PF_UNSPEC,
	    log_prober) == -1)
		fatal("socketpair");

	/*
	 * The parent keeps "proc" to stop its children and nothing else:
	 * a signal scope taken now holds them, and no process that ran
	 * before us, within its reach.
	 */
	if (sandbox_scope_signals() == -1)
		fatal("signal scope");
	parent_raise_nofile();
	children[PROC_ENGINE].pid = start_child(PROC_ENGINE, argv0,
	    pipe_engine[1], log_engine[1], debug, verbose);
	children[PROC_PROBER].pid = start_child(PROC_PROBER, argv0,
	    pipe_prober[1], log_prober[1], debug, verbose);
	children[PROC_ENGINE].logfd = log_engine[0];
	children[PROC_PROBER].logfd = log_prober[0];
	log_info("startup: milter engine pid %d, prober pid %d",
	    (int)children[PROC_ENGINE].pid, (int)children[PROC_PROBER].pid);
	prober_fixed = prober_fixed_new(conf);

	event_init();

	signal_set(&ev_sigint, SIGINT, parent_sig, NULL);
	signal_set(&ev_sigterm, SIGTERM, parent_sig, NULL);
	signal_set(&ev_sighup, SIGHUP, parent_sig, NULL);
	signal_set(&ev_sigchld, SIGCHLD, parent_sig, NULL);
	signal_add(&ev_sigint, NULL);
	signal_add(&ev_sigterm, NULL);
	signal_add(&ev_sighup, NULL);
	signal_add(&ev_sigchld, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_UNBLOCK, &startsigs, NULL);

	imsgev_init(&children[PROC_ENGINE].iev, pipe_engine[0],
	    parent_dispatch_imsg, &children[PROC_ENGINE]);
	imsgev_init(&children[PROC_PROBER].iev, pipe_prober[0],
	    parent_dispatch_imsg, &children[PROC_PROBER]);
	for (p = PROC_ENGINE; p < PROC_MAX; p++) {
		event_set(&children[p].log_ev, children[p].logfd,
		    EV_READ | EV_PERSIST, parent_log_relay, &children[p]);
		event_add(&children[p].log_ev, NULL);
	}

	/* The children talk to each other directly. */
	if (imsgev_compose(&children[PROC_ENGINE].iev, IMSG_SOCKET_IPC, 0, 0,
	    pipe_ipc[0], NULL, 0) == -1 ||
	    imsgev_compose(&children[PROC_PROBER].iev, IMSG_SOCKET_IPC, 0, 0,
	    pipe_ipc[1], NULL, 0) == -1)
		fatal("cannot pass the engine/prober socket");

	parent_send_config(conf);

	if (imsgev_compose(&children[PROC_ENGINE].iev, IMSG_CONTROL_FD, 0, 0,
	    control_fd, NULL, 0) == -1)
		fatal("cannot pass the control socket");

	parent_cache_init(conf, &children[PROC_ENGINE].iev);
	parent_save_init(conf);

	if (imsgev_compose(&children[PROC_ENGINE].iev, IMSG_START, 0, 0, -1,
	    NULL, 0) == -1 ||
	    imsgev_compose(&children[PROC_PROBER].iev, IMSG_START, 0, 0, -1,
	    NULL, 0) == -1)
		fatal("imsg_compose");

	/* A reload may have to start the prober again: not from a sandbox. */
	spawner_init(argv0, debug, verbose);
	parent_restart_init(children, parent_dispatch_imsg, parent_log_relay);
	parent_sandbox(conffile, csock, conf, argv0);

	event_dispatch();
	if (!quit)
		fatalx("event loop ended");
	parent_exit();
}

static void
parent_sig(int sig, short event, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		parent_shutdown();
		break;
	case SIGHUP:
		log_info("SIGHUP: reloading %s", conffile);
		parent_reload();
		break;
	case SIGCHLD:
		parent_reap();
		break;
	default:
		fatalx("unexpected signal");
	}
}

/* SIGCHLD: which child, and how. */
static void
parent_reap(void)
{
	pid_t	pid;
	int	status;

	while ((pid = waitpid(WAIT_ANY, &status, WNOHANG)) > 0)
		parent_reaped(pid, status);
}

/*
 * A child has ended.  During a stop this is expected, and the loop ends
 * with the last one; otherwise the first to die is named and the daemon
 * stops.  The other is said to end only when it was not our doing (its
 * pipe closed, SIGTERM, SIGKILL), so that the log names the first death.
 */
static void
parent_reaped(pid_t pid, int status)
{
	enum scamback_proc	 p;
	char			 how[64];

	if (spawner_reaped(pid, status) || parent_retire_reaped(pid, status))
		return;
	for (p = PROC_ENGINE; p < PROC_MAX; p++)
		if (children[p].pid == pid)
			break;
	if (p == PROC_MAX)
		return;
	children[p].exited = 1;
	if (children[p].killed && p == lost)
		strlcpy(how, "closed its pipe", sizeof(how));
	else
		child_status(status, how, sizeof(how));
	if (stopping && lost == PROC_MAX) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_debug("%s exited", proc_title(p));
		else
			log_warnx("%s %s during shutdown", proc_title(p), how);
		if (children[PROC_ENGINE].exited &&
		    children[PROC_PROBER].exited)
			parent_quit();
		return;
	}
	if (lost == PROC_MAX) {
		lost = p;
		parent_quit();
	}
	if (p == lost)
		log_warnx("%s (pid %d) %s; stopping", proc_title(p),
		    (int)pid, how);
	else if (!children[p].killed && !(WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) && !(WIFSIGNALED(status) &&
	    WTERMSIG(status) == SIGTERM))
		log_warnx("%s (pid %d) %s", proc_title(p), (int)pid, how);
}

/*
 * A child closed its pipe without a stop: it is dying, parent_exit()
 * waits for how it ended, stops the other and exits non-zero.
 */
static void
parent_child_lost(enum scamback_proc p)
{
	if (lost != PROC_MAX)
		return;
	lost = p;
	parent_quit();
}

static void
parent_quit(void)
{
	quit = 1;
	event_loopbreak();
}

static void
parent_alarm(int sig)
{
	enum scamback_proc	p;

	for (p = PROC_ENGINE; p < PROC_MAX; p++)
		if (!children[p].exited) {
			children[p].killed = 1;
			kill(children[p].pid, SIGKILL);
		}
	parent_retire_kill();
}

/*
 * The loop has ended: wait(2) for every child still there, and kill those
 * that outstay PARENT_WAIT.  After a stop they are leaving already; after
 * a death, the one that died is waited for first, so that the log names
 * it, and the other is told to go.
 */
__dead static void
parent_exit(void)
{
	enum scamback_proc	 q;
	pid_t			 pid;
	int			 status;

	signal(SIGALRM, parent_alarm);
	alarm(PARENT_WAIT);
	/* Those that are not our children's leave when their pipe closes. */
	spawner_stop();
	parent_retire_close();
	if (lost != PROC_MAX && !children[lost].exited) {
		while ((pid = waitpid(children[lost].pid, &status, 0)) == -1 &&
		    errno == EINTR)
			;
		if (pid == -1)
			fatal("waitpid");
		parent_reaped(pid, status);
	}
	/* The engine blocks SIGTERM; both leave when their pipe closes. */
	if (lost != PROC_MAX)
		for (q = PROC_ENGINE; q < PROC_MAX; q++)
			if (!children[q].exited) {
				kill(children[q].pid, SIGTERM);
				close(children[q].iev.ibuf.fd);
			}
	for (;;) {
		if ((pid = wait(&status)) != -1)
			parent_reaped(pid, status);
		else if (errno == ECHILD)
			break;
		else if (errno != EINTR)
			fatal("wait");
	}
	/* A daemon that failed to start leaves nothing behind either. */
	parent_sockets_remove();
	if (lost != PROC_MAX)
		exit(1);
	log_info("terminating");
	exit(0);
}

/*
 * Orderly stop: the cache is saved first (parent_cache_shutdown() calls
 * parent_stop_children() when done, or at once without a cache file).
 */
void
parent_shutdown(void)
{
	if (stopping)
		return;
	stopping = 1;
	log_info("stopping");
	parent_cache_shutdown(parent_stop_children);
}

void
parent_stop_children(void)
{
	struct timeval	 tv = { 5, 0 };
	enum scamback_proc p;

	stopping = 1;
	spawner_stop();
	parent_retire_close();
	for (p = PROC_ENGINE; p < PROC_MAX; p++)
		if (!children[p].exited)
			imsgev_compose(&children[p].iev, IMSG_STOP, 0, 0, -1,
			    NULL, 0);
	evtimer_set(&stop_ev, parent_stop_timeout, NULL);
	evtimer_add(&stop_ev, &tv);
}

/* Children that do not leave on request are killed. */
static void
parent_stop_timeout(int fd, short event, void *arg)
{
	enum scamback_proc p;

	for (p = PROC_ENGINE; p < PROC_MAX; p++)
		if (!children[p].exited) {
			log_warnx("%s did not stop; killing it",
			    proc_title(p));
			children[p].killed = 1;
			kill(children[p].pid, SIGKILL);
		}
	parent_quit();
}

static void
parent_send_config(struct scamback_conf *c)
{
	enum scamback_proc p;

	for (p = PROC_ENGINE; p < PROC_MAX; p++) {
		if (config_send(&children[p].iev.ibuf, c,
		    p == PROC_ENGINE) == -1)
			fatal("cannot send the configuration");
		imsgev_add(&children[p].iev);
	}
}

/*
 * Parse the file again.  On any error the running configuration stays,
 * and the reply (for scambackctl reload) carries every file:line error.
 * What only a restart changes (listen on, user and cache file: the
 * engine's socket, the children's ids and the parent's sandbox are set
 * at start) keeps its running value, and the reply says so.  msg gets
 * the reply; returns 0 when the new configuration runs, else -1.
 */
int
parent_reload_config(char *msg, size_t len)
{
	struct scamback_conf	*nconf;
	char			 errs[sizeof(((struct ctl_result *)0)->text)];
	char			 later[256], why[256];
	int			 restart, failed = 0;

	conf_capture(errs, sizeof(errs));
	nconf = parse_config(conffile, 0);
	conf_capture(NULL, 0);
	if (nconf == NULL) {
		log_warnx("reload of %s failed; keeping the running "
		    "configuration", conffile);
		snprintf(msg, len, "configuration has errors; the running "
		    "one is kept:\n%s", errs[0] != '\0' ? errs :
		    "(see the log)");
		return (-1);
	}
	resolvconf_load(nconf, RESOLV_CONF);

	later[0] = '\0';
	if (strcmp(nconf->listen.spec, conf->listen.spec) != 0 ||
	    nconf->listen.mode != conf->listen.mode ||
	    strcmp(nconf->listen.owner, conf->listen.owner) != 0 ||
	    strcmp(nconf->listen.group, conf->listen.group) != 0)
		strlcat(later, ", listen on", sizeof(later));
	if (strcmp(nconf->user, conf->user) != 0)
		strlcat(later, ", user", sizeof(later));
	if (strcmp(nconf->cache_file, conf->cache_file) != 0)
		strlcat(later, ", cache file", sizeof(later));
	nconf->listen = conf->listen;
	strlcpy(nconf->user, conf->user, sizeof(nconf->user));

	/* Ports, CA files: what only a new prober's sandbox allows. */
	if ((restart = !prober_fixed_covers(prober_fixed, nconf, why,
	    sizeof(why))) && parent_retiring()) {
		config_free(nconf);
		log_warnx("reload of %s: the prober's restart before this one "
		    "is still under way; keeping the running configuration",
		    conffile);
		snprintf(msg, len, "the prober's last restart is still under "
		    "way; the running configuration is kept: reload again "
		    "in a moment");
		return (-1);
	}
	if (restart && parent_prober_restart(nconf, why) == 0) {
		prober_fixed_free(prober_fixed);
		prober_fixed = prober_fixed_new(nconf);
	} else {
		/* The prober warns of each port its sandbox refuses. */
		failed = restart;
		restart = 0;
		parent_send_config(nconf);
	}
	parent_cache_reconf(nconf);
	/* The cache goes on being saved where it was. */
	strlcpy(nconf->cache_file, conf->cache_file,
	    sizeof(nconf->cache_file));
	/* The sandbox fixed the save directory at start. */
	if (parent_save_reconf(nconf))
		strlcat(later, ", save directory", sizeof(later));
	config_free(conf);
	conf = nconf;
	snprintf(msg, len, "configuration reloaded");
	if (restart) {
		strlcat(msg, "; the prober was restarted for ", len);
		strlcat(msg, why, len);
	} else if (failed) {
		strlcat(msg, "; the prober could not be restarted for ", len);
		strlcat(msg, why, len);
		strlcat(msg, ": restart scam-back", len);
	}
	if (later[0] != '\0') {
		log_warnx("only a restart changes %s: the running values "
		    "are kept", later + 2);
		strlcat(msg, "; only a restart changes ", len);
		strlcat(msg, later + 2, len);
		strlcat(msg, ": the running values are kept", len);
	}
	log_info("configuration reloaded");
	return (0);
}

static void
parent_reload(void)
{
	char	msg[sizeof(((struct ctl_result *)0)->text)];

	(void)parent_reload_config(msg, sizeof(msg));
}

/*
 * Every message from the children: each type comes from one of them
 * only.  Anything else, or a malformed payload, is a bug or a compromise:
 * fatal.
 */
static void
parent_dispatch_imsg(int fd, short event, void *arg)
{
	struct imsgev		*iev = arg;
	struct child		*c = iev->data;
	enum scamback_proc	 p = c - children;
	struct imsg		 imsg;
	struct cache_save_done	 done;
	struct save_hdr		 sh;
	struct ibuf		 ib;
	struct ctl_result	 res;
	ssize_t			 n;
	int			 v;

	if (!imsgev_read(iev, event)) {
		event_del(&iev->ev);
		if (stopping) {
			if (p == PROC_ENGINE)
				parent_cache_abort();
			parent_reap();
			return;
		}
		parent_child_lost(p);
		return;
	}

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get from %s", __func__,
			    proc_title(p));
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		case IMSG_CACHE_SAVE_REQ:
			if (p != PROC_ENGINE || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_CACHE_SAVE_REQ");
			parent_cache_save(imsg_get_id(&imsg));
			break;
		case IMSG_CACHE_SAVE_DONE:
			if (p != PROC_ENGINE ||
			    imsg_get_data(&imsg, &done, sizeof(done)) == -1)
				fatalx("bad IMSG_CACHE_SAVE_DONE");
			parent_cache_saved(&done);
			break;
		case IMSG_RELOAD_REQ:
			if (p != PROC_ENGINE || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_RELOAD_REQ");
			memset(&res, 0, sizeof(res));
			res.ok = parent_reload_config(res.text,
			    sizeof(res.text)) == 0;
			imsgev_compose(iev, IMSG_RELOAD_RESULT,
			    imsg_get_id(&imsg), 0, -1, &res, sizeof(res));
			break;
		case IMSG_LOG_VERBOSE:
			if (p != PROC_ENGINE ||
			    imsg_get_data(&imsg, &v, sizeof(v)) == -1)
				fatalx("bad IMSG_LOG_VERBOSE");
			log_setverbose(v);
			imsgev_compose(&children[PROC_PROBER].iev,
			    IMSG_LOG_VERBOSE, 0, 0, -1, &v, sizeof(v));
			break;
		case IMSG_SAVE_START:
			if (p != PROC_ENGINE ||
			    imsg_get_data(&imsg, &sh, sizeof(sh)) == -1 ||
			    sh.len > MAX_SAVE_SIZE)
				fatalx("bad IMSG_SAVE_START");
			parent_save_start(&sh);
			break;
		case IMSG_SAVE_DATA:
			if (p != PROC_ENGINE ||
			    imsg_get_ibuf(&imsg, &ib) == -1)
				fatalx("bad IMSG_SAVE_DATA");
			parent_save_data(ibuf_data(&ib), ibuf_size(&ib));
			break;
		case IMSG_SAVE_END:
			if (p != PROC_ENGINE || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_SAVE_END");
			parent_save_end();
			break;
		case IMSG_MILTER_READY:
			if (p != PROC_ENGINE || milter_ready_got ||
			    imsg_get_data(&imsg, &milter_ready,
			    sizeof(milter_ready)) == -1)
				fatalx("bad IMSG_MILTER_READY");
			/* Kept to remove the socket at a clean stop. */
			milter_ready_got = 1;
			parent_detach_end(p);
			break;
		case IMSG_PROBER_READY:
			if (p != PROC_PROBER || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_PROBER_READY");
			parent_detach_end(p);
			break;
		case IMSG_PROBER_SWITCHED:
			if (p != PROC_ENGINE || imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_PROBER_SWITCHED");
			parent_prober_switched();
			break;
		default:
			fatalx("%s: unexpected imsg %u from %s", __func__,
			    imsg_get_type(&imsg), proc_title(p));
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

/*
 * The parent's end takes the sockets with it: the MTA then finds no
 * socket rather than one that nobody answers, and the next start no
 * stale one.  Only while each path is still the socket we made, not one
 * of a daemon started since.
 */
static void
parent_sockets_remove(void)
{
	if (milter_ready_got && conf->listen.family == LISTEN_UNIX)
		sock_remove(conf->listen.path, milter_ready.dev,
		    milter_ready.ino, "milter socket");
	sock_remove(csock, control_sb.st_dev, control_sb.st_ino,
	    "control socket");
}

/*
 * A child's log lines, one datagram each: its priority, then the text.
 * The chrooted children cannot reach the log daemon, the parent can
 * (sendsyslog(2)), and a child's lines are its own process's still: its
 * pid, our facility, nothing but printable text.  A few at a time, so
 * that a child cannot keep the parent busy.
 */
static void
parent_log_relay(int fd, short event, void *arg)
{
	struct child	*c = arg;

	log_relay_read(fd, c->pid, proc_title(c - children));
}

