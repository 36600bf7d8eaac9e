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
 * What the parent does once, at its start, before its children serve:
 * raise its descriptor limit, and without -d go to the background while
 * the command that started it waits until the daemon serves.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <paths.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"

static int	detach_fd = -1;		/* to the starter */
static int	devnull = -1;
static int	ready;			/* 1 << proc: serving */

/*
 * Every idle MTA connection holds a descriptor in the engine, and the
 * soft limit is often 1024 (systemd's default) where the hard one is far
 * higher: take what the hard limit allows, for the children too.
 */
void
parent_raise_nofile(void)
{
	struct rlimit	rl;
	rlim_t		old;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return;
	}
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("setrlimit");
		return;
	}
	log_debug("descriptors: limit raised from %llu to %llu",
	    (unsigned long long)old, (unsigned long long)rl.rlim_max);
}

/*
 * Without -d the daemon goes to the background, but the command that
 * started it returns only once the daemon serves: it waits here, in the
 * process the shell started, until the daemon says so (exit 0) or dies
 * (exit with its status, its reasons already on standard error, where
 * every process logs too until then).
 */
void
parent_detach_begin(void)
{
	pid_t	 pid;
	ssize_t	 n;
	int	 p[2], status;
	char	 c;

	if (pipe2(p, O_CLOEXEC) == -1)
		err(1, "pipe");
	switch (pid = fork()) {
	case -1:
		err(1, "fork");
	case 0:
		break;
	default:
		close(p[1]);
		while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
			;
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) == -1)
			if (errno != EINTR)
				_exit(1);
		_exit(WIFEXITED(status) && WEXITSTATUS(status) != 0 ?
		    WEXITSTATUS(status) : 1);
	}
	close(p[0]);
	detach_fd = p[1];
	if (setsid() == -1)
		fatal("setsid");
	/* Standard error stays the starter's until parent_detach_end(). */
	if ((devnull = open(_PATH_DEVNULL, O_RDWR | O_CLOEXEC)) == -1 ||
	    dup2(devnull, STDIN_FILENO) == -1 ||
	    dup2(devnull, STDOUT_FILENO) == -1)
		fatal("%s", _PATH_DEVNULL);
	log_stderr(1);
}

/* Child p serves; once both do, the starter may return. */
void
parent_detach_end(enum scamback_proc p)
{
	ready |= 1 << p;
	if (detach_fd == -1 ||
	    ready != (1 << PROC_ENGINE | 1 << PROC_PROBER))
		return;
	log_info("serving");
	log_stderr(0);
	if (dup2(devnull, STDERR_FILENO) == -1)
		fatal("dup2");
	close(devnull);
	devnull = -1;
	if (write(detach_fd, "", 1) != 1)
		log_warn("cannot tell the starting process");
	close(detach_fd);
	detach_fd = -1;
}
