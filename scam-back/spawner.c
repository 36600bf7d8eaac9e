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
 * Starting a child after the parent confined itself.  On OpenBSD the
 * parent keeps "proc exec" and does it itself.  On Linux a child would
 * inherit the parent's seccomp filter and Landlock domain, and exec(2)
 * would give it no capability the parent lost: the parent forks, before
 * its sandbox, a spawner that keeps what a start needs and does nothing
 * but start a prober with the descriptor the parent passes, as a child
 * of the parent (fork_sibling()), and answer its pid.  It asks nothing,
 * reads no file but what exec(2) loads, and leaves when the parent's
 * end of its socket closes.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <event.h>
#include <paths.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"
#include "sandbox.h"

#define SPAWN_WAIT_MS	5000	/* for the spawner's answer */

__dead static void	spawner_main(int);

static struct imsgbuf	 spawner_ibuf;
static int		 spawner_fd = -1;	/* the parent's end */
static pid_t		 spawner_pid = -1;
static const char	*spawn_argv0;
static int		 spawn_debug;
static int		 spawn_verbose;

/*
 * In the parent, before its sandbox and after the signal scope: the
 * spawner and what it starts stay within the parent's reach.
 */
void
spawner_init(const char *argv0, int debug, int verbose)
{
	int	sp[2];

	spawn_argv0 = argv0;
	spawn_debug = debug;
	spawn_verbose = verbose;
	if (!SANDBOX_SPAWNER)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, PF_UNSPEC,
	    sp) == -1)
		fatal("socketpair");
	switch (spawner_pid = fork()) {
	case -1:
		fatal("cannot fork");
	case 0:
		close(sp[0]);
		spawner_main(sp[1]);
	default:
		break;
	}
	close(sp[1]);
	spawner_fd = sp[0];
	if (imsgbuf_init(&spawner_ibuf, spawner_fd) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&spawner_ibuf);
	log_debug("spawner pid %d", (int)spawner_pid);
}

__dead static void
spawner_main(int fd)
{
	struct imsgbuf	 ibuf;
	struct imsg	 imsg;
	ssize_t		 n;
	pid_t		 pid;
	int		 proc, cfd, logfd = -1, devnull;

	log_procinit("spawner");
	setproctitle("spawner");
	/* Signals for the daemon's process group are the parent's. */
	if (setsid() == -1)
		fatal("setsid");
	/* libevent's handlers would write to descriptors closed below. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* Standard error is the starter's only until the daemon serves. */
	if (!spawn_debug) {
		if ((devnull = open(_PATH_DEVNULL, O_RDWR)) == -1 ||
		    dup2(devnull, STDIN_FILENO) == -1 ||
		    dup2(devnull, STDOUT_FILENO) == -1 ||
		    dup2(devnull, STDERR_FILENO) == -1)
			fatal("%s", _PATH_DEVNULL);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	/* Nothing of the parent's but this socket. */
	if (dup2(fd, PARENT_SOCK_FILENO) == -1)
		fatal("dup2");
	closefrom(PARENT_SOCK_FILENO + 1);
	if (sandbox_spawner(spawn_argv0) == -1)
		fatal("sandbox_spawner");
	if (imsgbuf_init(&ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&ibuf);

	for (;;) {
		if ((n = imsgbuf_read(&ibuf)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("imsgbuf_read");
		}
		if (n == 0)
			exit(0);	/* the parent is gone */
		while ((n = imsg_get(&ibuf, &imsg)) != 0) {
			if (n == -1)
				fatal("imsg_get");
			if (imsg_get_type(&imsg) == IMSG_SPAWN_LOG) {
				if (logfd != -1 || imsg_get_len(&imsg) != 0 ||
				    (logfd = imsg_get_fd(&imsg)) == -1)
					fatalx("bad IMSG_SPAWN_LOG");
				imsg_free(&imsg);
				continue;
			}
			/* A prober, nothing else, is ever restarted. */
			if (imsg_get_type(&imsg) != IMSG_SPAWN ||
			    imsg_get_data(&imsg, &proc, sizeof(proc)) == -1 ||
			    proc != PROC_PROBER || logfd == -1 ||
			    (cfd = imsg_get_fd(&imsg)) == -1)
				fatalx("bad IMSG_SPAWN");
			if ((pid = fork_sibling()) == 0)
				exec_child(proc, spawn_argv0, cfd, logfd,
				    spawn_debug, spawn_verbose);
			if (pid == -1)
				log_warn("cannot fork");
			close(cfd);
			close(logfd);
			logfd = -1;
			if (imsg_compose(&ibuf, IMSG_SPAWNED, 0, 0, -1, &pid,
			    sizeof(pid)) == -1 || imsgbuf_flush(&ibuf) == -1)
				fatal("imsg_compose");
			imsg_free(&imsg);
		}
	}
}

/*
 * Start child p with fd as its socket to the parent and logfd as its log
 * socket (both are closed).  Returns its pid, a child of the parent's,
 * or -1.
 */
pid_t
spawner_start(enum scamback_proc p, int fd, int logfd)
{
	struct pollfd	 pfd;
	struct imsg	 imsg;
	ssize_t		 n;
	pid_t		 pid = -1;
	int		 proc = p;

	if (!SANDBOX_SPAWNER && spawn_argv0[0] != '/') {
		log_warnx("started by a relative path, %s cannot start the "
		    "%s again", spawn_argv0, proc_title(p));
		close(fd);
		close(logfd);
		return (-1);
	}
	if (!SANDBOX_SPAWNER)
		return (start_child(p, spawn_argv0, fd, logfd, spawn_debug,
		    spawn_verbose));
	if (spawner_fd == -1) {
		log_warnx("no spawner to start the %s", proc_title(p));
		close(fd);
		close(logfd);
		return (-1);
	}
	if (imsg_compose(&spawner_ibuf, IMSG_SPAWN_LOG, 0, 0, logfd, NULL,
	    0) == -1 || imsg_compose(&spawner_ibuf, IMSG_SPAWN, 0, 0, fd,
	    &proc, sizeof(proc)) == -1 || imsgbuf_flush(&spawner_ibuf) == -1) {
		log_warn("spawner");
		return (-1);
	}
	pfd.fd = spawner_fd;
	pfd.events = POLLIN;
	for (;;) {
		if ((n = imsg_get(&spawner_ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n > 0)
			break;
		switch (poll(&pfd, 1, SPAWN_WAIT_MS)) {
		case -1:
			if (errno == EINTR)
				continue;
			fatal("poll");
		case 0:
			log_warnx("the spawner does not answer");
			return (-1);
		}
		if ((n = imsgbuf_read(&spawner_ibuf)) == -1 && errno != EINTR) {
			log_warn("spawner");
			return (-1);
		}
		if (n == 0) {
			log_warnx("the spawner is gone");
			return (-1);
		}
	}
	if (imsg_get_type(&imsg) != IMSG_SPAWNED ||
	    imsg_get_data(&imsg, &pid, sizeof(pid)) == -1)
		fatalx("bad answer from the spawner");
	imsg_free(&imsg);
	return (pid);
}

/*
 * Returns 1 when pid was the spawner's.  Unless told to go, it died: no
 * prober can be restarted from now on, which is no reason to stop.
 */
int
spawner_reaped(pid_t pid, int status)
{
	if (spawner_pid == -1 || pid != spawner_pid)
		return (0);
	spawner_pid = -1;
	if (spawner_fd != -1) {
		log_warnx("the spawner (pid %d) has gone (status %d): a "
		    "reload can no longer restart the prober", (int)pid,
		    status);
		spawner_stop();
	}
	return (1);
}

/* The spawner leaves when its socket closes. */
void
spawner_stop(void)
{
	if (spawner_fd == -1)
		return;
	imsgbuf_clear(&spawner_ibuf);
	close(spawner_fd);
	spawner_fd = -1;
}
