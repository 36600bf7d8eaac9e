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

/* Small pieces of compat/ that need no file of their own. */

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char	*title_start;
static size_t	 title_len;

static void	 malloc_prepare(void);
#ifdef __GLIBC__
static void	*malloc_warmup(void *);
#endif

/*
 * What main() needs first on Linux.  malloc is readied for the sandbox
 * (malloc_prepare).  argv[0] becomes the running program's absolute path
 * (/proc/self/exe), so that re-executing argv[0], as bgpd does for its
 * children, starts this very program whatever the daemon was started
 * as.  And setproctitle(3): the title is written over
 * the argument vector, the rest of it cleared, so ps shows "scam-back:
 * prober" and nothing else.  libbsd's version marks its end with a '.',
 * which is why it is not used.  A short command line ("scam-back") leaves
 * too little room: the environment's strings, which follow the arguments,
 * serve too once the environment has moved to the heap.
 */
/*
 * What compat_init() moved to the heap lives as long as the process; kept
 * here too (volatile: never read, but not to be optimised away), so that
 * nothing replacing environ or the program's names (setprogname) makes
 * it look lost to valgrind.
 */
static char	**volatile moved_env;
static char	 *volatile moved_name, *volatile moved_short_name;

void
compat_init(int argc, char *argv[])
{
	extern char	**environ;
	char		 *end, *name, *short_name, **env, *self;
	int		  i, n;

	malloc_prepare();
	if (argc < 1 || argv[0] == NULL)
		return;
	end = argv[0] + strlen(argv[0]);
	for (i = 1; i < argc; i++) {
		if (argv[i] != end + 1)
			break;
		end = argv[i] + strlen(argv[i]);
	}
	if (i == argc && environ != NULL) {
		for (n = 0; environ[n] != NULL; n++)
			;
		if ((env = calloc(n + 1, sizeof(*env))) == NULL)
			return;
		moved_env = env;
		for (i = 0; i < n; i++) {
			if (environ[i] == end + 1)
				end = environ[i] + strlen(environ[i]);
			if ((env[i] = strdup(environ[i])) == NULL)
				return;
		}
		environ = env;
	}
	title_start = argv[0];
	title_len = end - argv[0];	/* without the last NUL */

	/*
	 * The strings move, so that optarg and friends survive a title; so
	 * do the program's names, which point into argv[0] too.
	 */
	for (i = 0; i < argc; i++)
		if ((argv[i] = strdup(argv[i])) == NULL) {
			title_start = NULL;
			return;
		}
	if ((self = realpath("/proc/self/exe", NULL)) != NULL) {
		free(argv[0]);
		argv[0] = self;
	}
	if ((name = strdup(program_invocation_name)) == NULL ||
	    (short_name = strdup(program_invocation_short_name)) == NULL) {
		title_start = NULL;
		return;
	}
	program_invocation_name = moved_name = name;
	program_invocation_short_name = moved_short_name = short_name;
}

void
setproctitle(const char *fmt, ...)
{
	char		 buf[256];
	va_list		 ap;
	int		 n;

	if (fmt == NULL)
		return;
	n = snprintf(buf, sizeof(buf), "%s: ", getprogname());
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);

	if (title_start == NULL)
		return;
	memset(title_start, '\0', title_len + 1);
	strlcpy(title_start, buf, title_len + 1);
}

/*
 * glibc's malloc reads files the sandbox refuses, later, in threads:
 * /sys/devices/system/cpu/online to size its arenas when a new thread
 * (libmilter's) first allocates, /proc/sys/vm/overcommit_memory the
 * first time it shrinks a thread's arena (seccomp would kill the
 * process).  Fix the arena limit now, and make the second read happen in
 * a thread that frees enough; wait until that thread is gone: Landlock
 * refuses rules while other threads exist.
 */
static void
malloc_prepare(void)
{
#ifdef __GLIBC__
	pthread_t	 tid;
	pid_t		 t;
	int		 i;

	(void)mallopt(M_ARENA_MAX, 8);
	if (pthread_create(&tid, NULL, malloc_warmup, &t) != 0)
		return;
	if (pthread_join(tid, NULL) != 0)
		return;
	for (i = 0; i < 1000 && tgkill(getpid(), t, 0) == 0; i++)
		usleep(1000);
#endif
}

#ifdef __GLIBC__
static void *
malloc_warmup(void *arg)
{
	void *volatile	 p[8];
	int		 i;

	*(pid_t *)arg = gettid();
	for (i = 0; i < 8; i++)
		p[i] = malloc(64 * 1024);
	for (i = 0; i < 8; i++)
		free(p[i]);
	return (NULL);
}
#endif
