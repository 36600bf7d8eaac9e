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
 * Process plumbing shared by the parent and the children: starting a child
 * by fork and re-exec, dropping privileges, and imsg channels on libevent.
 */

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <event.h>
#include <grp.h>
#include <paths.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"

static int	child_start_imsg(struct imsg *, enum scamback_proc,
		    struct child_start *, struct scamback_conf **);

static const char *const proc_titles[PROC_MAX] = {
	[PROC_PARENT] = "parent",
	[PROC_ENGINE] = "milter engine",
	[PROC_PROBER] = "prober",
};

static const char *const proc_args[PROC_MAX] = {
	[PROC_PARENT] = NULL,
	[PROC_ENGINE] = "engine",
	[PROC_PROBER] = "prober",
};

const char *
proc_title(enum scamback_proc p)
{
	return (proc_titles[p]);
}

/* How a child ended, from its wait(2) status, in words. */
const char *
child_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "terminated by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "stopped");
	return (buf);
}

/*
 * Fork and re-exec ourselves as a child: a fresh address space that holds
 * nothing of the parent's (no config secrets, no ASLR layout).  The child
 * finds its imsg socketpair on fd 3, and on fd 4 the datagram socket its
 * log lines go out on (the parent writes them; see log.c).
 */
pid_t
start_child(enum scamback_proc p, const char *argv0, int fd, int logfd,
    int debug, int verbose)
{
	pid_t	 pid;

	switch (pid = fork()) {
	case -1:
		fatal("cannot fork");
	case 0:
		exec_child(p, argv0, fd, logfd, debug, verbose);
	default:
		close(fd);
		close(logfd);
		return (pid);
	}
}

/*
 * In the new process: become child p, with fd as its imsg socket and
 * logfd as its log socket.
 */
void
exec_child(enum scamback_proc p, const char *argv0, int fd, int logfd,
    int debug, int verbose)
{
	char	*argv[8];
	sigset_t set;
	int	 argc = 0;

	/*
	 * A session of its own: signals for the daemon's process group (a
	 * terminal's ^C, kill -- -PGID) reach the parent only, which stops
	 * the children in order.  libmilter would take them in the engine
	 * and stop on its own.
	 */
	if (setsid() == -1)
		fatal("setsid");
	/* The parent blocks signals while it starts; a child starts clean. */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);

	if (logfd == PARENT_SOCK_FILENO && (logfd = dup(logfd)) == -1)
		fatal("cannot setup log fd");
	if (fd != PARENT_SOCK_FILENO) {
		if (dup2(fd, PARENT_SOCK_FILENO) == -1)
			fatal("cannot setup imsg fd");
	} else if (fcntl(fd, F_SETFD, 0) == -1)
		fatal("cannot setup imsg fd");
	if (logfd != LOG_SOCK_FILENO) {
		if (dup2(logfd, LOG_SOCK_FILENO) == -1)
			fatal("cannot setup log fd");
	} else if (fcntl(logfd, F_SETFD, 0) == -1)
		fatal("cannot setup log fd");
	/* Nothing but stdio and those two cross into the child. */
	closefrom(LOG_SOCK_FILENO + 1);

	argv[argc++] = (char *)argv0;
	argv[argc++] = "-P";
	argv[argc++] = (char *)proc_args[p];
	if (debug)
		argv[argc++] = "-d";
	if (verbose == 1)
		argv[argc++] = "-v";
	else if (verbose > 1)
		argv[argc++] = "-vv";
	argv[argc++] = NULL;

	execvp(argv0, argv);
	fatal("execvp %s", argv0);
}

/*
 * The fixed order of every child: user, chroot to its home, chdir,
 * title, groups and ids.  pledge follows in the caller.  Without root
 * (development, tests) only the title is set, with one warning.
 */
void
drop_privileges(enum scamback_proc p, const char *user)
{
	struct passwd	*pw;
	struct stat	 sb;

	if (geteuid() != 0) {
		log_warnx("not running as root: %s keeps uid %u, no chroot",
		    proc_title(p), (unsigned)geteuid());
		setproctitle("%s", proc_title(p));
		return;
	}

	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s", user);

	if (stat(pw->pw_dir, &sb) == -1)
		fatal("chroot directory %s", pw->pw_dir);
	if (sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatalx("bad permissions on chroot directory %s: must be "
		    "owned by root and writable by nobody else", pw->pw_dir);
	if (chroot(pw->pw_dir) == -1)
		fatal("chroot %s", pw->pw_dir);
	if (chdir("/") == -1)
		fatal("chdir(\"/\")");

	setproctitle("%s", proc_title(p));

	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		fatal("cannot drop privileges");
}

void
imsgev_init(struct imsgev *iev, int fd, void (*handler)(int, short, void *),
    void *data)
{
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev->ibuf);
	imsgev_set(iev, handler, data);
}

/* Hand an imsgbuf that was used before the event loop over to libevent. */
void
imsgev_set(struct imsgev *iev, void (*handler)(int, short, void *),
    void *data)
{
	iev->handler = handler;
	iev->data = data;
	iev->events = EV_READ | EV_PERSIST;
	event_set(&iev->ev, iev->ibuf.fd, iev->events, iev->handler, iev);
	event_add(&iev->ev, NULL);
	imsgev_add(iev);

	/*
	 * What arrived together with IMSG_START (a reload, a stop) is read
	 * already and waits in the buffer, where no read event would ever
	 * bring it: run the handler once without reading.
	 */
	event_active(&iev->ev, EV_TIMEOUT, 1);
}

/*
 * Listen for writability only while something waits to be written.  The
 * event persists: it changes (two epoll_ctl on Linux) only when what it
 * waits for does, not after every message.
 */
void
imsgev_add(struct imsgev *iev)
{
	short	events = EV_READ | EV_PERSIST;

	if (imsgbuf_queuelen(&iev->ibuf) > 0)
		events |= EV_WRITE;
	if (events == iev->events &&
	    event_pending(&iev->ev, EV_READ | EV_WRITE, NULL))
		return;

	iev->events = events;
	event_del(&iev->ev);
	event_set(&iev->ev, iev->ibuf.fd, iev->events, iev->handler, iev);
	event_add(&iev->ev, NULL);
}

void
imsgev_clear(struct imsgev *iev)
{
	event_del(&iev->ev);
	imsgbuf_clear(&iev->ibuf);
	close(iev->ibuf.fd);
	iev->ibuf.fd = -1;
}

int
imsgev_compose(struct imsgev *iev, uint32_t type, uint32_t peerid, pid_t pid,
    int fd, const void *data, size_t datalen)
{
	int	ret;

	if ((ret = imsg_compose(&iev->ibuf, type, peerid, pid, fd, data,
	    datalen)) != -1)
		imsgev_add(iev);
	return (ret);
}

/*
 * The common part of every imsg handler: read and write as libevent says.
 * Returns 0 when the peer has closed the channel or it broke, 1 otherwise.
 */
int
imsgev_read(struct imsgev *iev, short event)
{
	if (event & EV_READ) {
		switch (imsgbuf_read(&iev->ibuf)) {
		case -1:
			log_warn("%s: imsgbuf_read", __func__);
			return (0);
		case 0:
			return (0);
		}
	}
	if (event & EV_WRITE) {
		if (imsgbuf_write(&iev->ibuf) == -1) {
			if (errno != EPIPE)
				log_warn("%s: imsgbuf_write", __func__);
			return (0);
		}
	}
	return (1);
}

/*
 * Without -d, a child's messages go to the standard error it was started
 * with as well as to syslog until it serves (child_ready()): a start
 * that fails says why on the terminal or to the script that started the
 * daemon.  /dev/null is opened now, before the chroot, to take its place.
 */
static int	child_devnull = -1;

void
child_stderr(int debug)
{
	if (debug)
		return;
	if ((child_devnull = open(_PATH_DEVNULL, O_RDWR | O_CLOEXEC)) == -1)
		fatal("%s", _PATH_DEVNULL);
	log_stderr(1);
}

/*
 * The child serves: its standard error lets go of the starter's, which
 * is going away, and the parent hears it (type, with its payload).
 */
void
child_ready(struct imsgbuf *ibuf, uint32_t type, const void *data,
    size_t len)
{
	if (child_devnull != -1) {
		log_stderr(0);
		if (dup2(child_devnull, STDERR_FILENO) == -1)
			fatal("dup2");
		close(child_devnull);
		child_devnull = -1;
	}
	if (imsg_compose(ibuf, type, 0, 0, -1, data, len) == -1)
		fatal("imsg_compose");
}

/*
 * A child's start: before its event loop exists it needs the configuration
 * (its user, the milter socket), its descriptors and the go.  Read the
 * parent's messages in blocking mode until IMSG_START into *st; a message
 * this child does not take is fatal, and so is a start without the
 * configuration or the other child's socket.  The parent going away here
 * is the end.
 */
void
child_startup(struct imsgbuf *ibuf, enum scamback_proc p,
    struct child_start *st)
{
	struct scamback_conf	*pending = NULL;
	struct pollfd		 pfd;
	struct imsg		 imsg;
	ssize_t			 n;
	int			 started = 0;

	memset(st, 0, sizeof(*st));
	st->ipc_fd = st->control_fd = st->cache_fd = -1;
	while (!started) {
		pfd.fd = ibuf->fd;
		pfd.events = POLLIN;
		if (imsgbuf_queuelen(ibuf) > 0)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, INFTIM) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd.revents & POLLOUT && imsgbuf_write(ibuf) == -1)
			fatal("imsgbuf_write");
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		switch (imsgbuf_read(ibuf)) {
		case -1:
			fatal("imsgbuf_read");
		case 0:
			exit(0);	/* the parent is gone */
		}
		while (!started) {
			if ((n = imsg_get(ibuf, &imsg)) == -1)
				fatal("imsg_get");
			if (n == 0)
				break;
			started = child_start_imsg(&imsg, p, st, &pending);
			imsg_free(&imsg);
		}
	}
	if (st->conf == NULL || st->ipc_fd == -1)
		fatalx("incomplete start from the parent");
}

/* One message before the start; returns 1 for IMSG_START. */
static int
child_start_imsg(struct imsg *imsg, enum scamback_proc p,
    struct child_start *st, struct scamback_conf **pending)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_START:
		if (imsg_get_len(imsg) != 0)
			fatalx("bad IMSG_START");
		return (1);
	case IMSG_SOCKET_IPC:
		if (st->ipc_fd != -1 || (st->ipc_fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_SOCKET_IPC");
		break;
	case IMSG_CONTROL_FD:
		if (p != PROC_ENGINE || st->control_fd != -1 ||
		    (st->control_fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_CONTROL_FD");
		break;
	case IMSG_CACHE_LOAD:
		/* -1: no cache file to load. */
		if (p != PROC_ENGINE || st->cache_fd != -1)
			fatalx("bad IMSG_CACHE_LOAD");
		st->cache_fd = imsg_get_fd(imsg);
		break;
	default:
		/* IMSG_RECONF_*: any other type is fatal there. */
		if (config_recv(pending, imsg) == 1) {
			if (st->conf != NULL)
				fatalx("second configuration at start");
			st->conf = *pending;
			*pending = NULL;
		}
		break;
	}
	return (0);
}
