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
 * A process of the test build does one forbidden thing when told to:
 *
 *	SCAMBACK_SANDBOX_TEST=process:action[:argument]
 *
 * process is parent, engine or prober.  The action runs once the process
 * is confined (pledged), or right after its Landlock rules are committed
 * and before seccomp (the actions named landlock-*), so that Landlock is
 * seen on its own.  Actions:
 *
 *	open[:path]		open(2) for reading (default /etc/passwd)
 *	write[:path]		open(2) for writing (default /etc/passwd)
 *	landlock-open[:path]	open(2) for reading, before seccomp
 *	socket			socket(AF_INET, SOCK_STREAM)
 *	connect:port		TCP connect to 127.0.0.1:port
 *	bind:port		TCP bind to 127.0.0.1:port
 *	exec			execve("/bin/sh")
 *	kill			SIGTERM to the parent process
 *	signal			signal 0 to the parent process (harmless)
 *	prlimit			read the parent process's RLIMIT_NOFILE
 *	setpriority		set the parent process's priority unchanged
 *	pidfd			pidfd_open(2) the parent process
 *	listen			listen(2) on a TCP socket never bound
 *	udpbind			bind(2) a UDP socket to 127.0.0.1
 *	dest:port		the prober's dest_connect() to 127.0.0.1:port
 *	dest6:port		the same to [::1]:port
 *
 * The action is logged first ("sandbox test: ...").  A process that
 * survives it logs "sandbox test: ... refused: <error>" or "... allowed"
 * and exits 1, so every test ends with the parent's log line naming the
 * process and the parent's non-zero exit.  Killed by seccomp, the process
 * logs nothing more: the parent reports the signal.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/tree.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "smtp.h"
#include "prober.h"
#include "sandbox_test.h"

int		 __real_pledge(const char *, const char *);
int		 __real_unveil(const char *, const char *);
int		 __wrap_pledge(const char *, const char *);
int		 __wrap_unveil(const char *, const char *);
static void	 whoami(int, char *[]);
static void	 prober_hook(int, short, void *);
static int	 tcp(const char *, int);
static __dead void outcome(const char *, int);

static char	 hook_proc[16] = "parent";	/* engine, prober, parent */

/*
 * The hooks ride on the daemon's own calls: the test build links with
 * --wrap=pledge --wrap=unveil, so that the daemon's files hold no test
 * code.  unveil(NULL, NULL) commits Landlock (SANDBOX_TEST_UNVEILED);
 * pledge(2) confines (SANDBOX_TEST_PLEDGED).  The prober's hook waits for
 * the first turn of its event loop: its configuration is applied by then
 * (dest_connect() needs the addresses it was given).
 */
int
__wrap_unveil(const char *path, const char *permissions)
{
	int		 rc;

	if ((rc = __real_unveil(path, permissions)) == 0 && path == NULL &&
	    permissions == NULL)
		sandbox_test(hook_proc, SANDBOX_TEST_UNVEILED);
	return (rc);
}

int
__wrap_pledge(const char *promises, const char *execpromises)
{
	static struct timeval	 now = { 0, 0 };
	int			 rc;

	if ((rc = __real_pledge(promises, execpromises)) == 0) {
		if (strcmp(hook_proc, "prober") == 0)
			event_once(-1, EV_TIMEOUT, prober_hook, NULL, &now);
		else
			sandbox_test(hook_proc, SANDBOX_TEST_PLEDGED);
	}
	return (rc);
}

static void
prober_hook(int fd, short event, void *arg)
{
	sandbox_test("prober", SANDBOX_TEST_PLEDGED);
}

/*
 * Which process this is, from its arguments ("-P engine", "-P prober",
 * none for the parent), which glibc hands to constructors: by the time
 * of the sandbox the process may be chrooted, its /proc out of reach.
 */
__attribute__((__constructor__)) static void
whoami(int argc, char *argv[])
{
	int	i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-P") == 0)
			strlcpy(hook_proc, argv[i + 1], sizeof(hook_proc));
}

void
sandbox_test(const char *proc, int stage)
{
	char		 spec[256], *action, *arg;
	const char	*e, *path, *errstr;
	char		*argv[] = { "sh", "-c", "exit 0", NULL };
	struct rlimit	 rl;
	size_t		 len;
	int		 rc, landlock;

	if ((e = getenv("SCAMBACK_SANDBOX_TEST")) == NULL)
		return;
	len = strlen(proc);
	if (strncmp(e, proc, len) != 0 || e[len] != ':')
		return;
	strlcpy(spec, e + len + 1, sizeof(spec));
	action = spec;
	if ((arg = strchr(spec, ':')) != NULL)
		*arg++ = '\0';

	landlock = strncmp(action, "landlock-", 9) == 0;
	if (landlock != (stage == SANDBOX_TEST_UNVEILED))
		return;
	if (landlock)
		action += 9;

	log_warnx("sandbox test: %s%s %s%s", landlock ? "landlock-" : "",
	    action, arg != NULL ? arg : "", stage == SANDBOX_TEST_UNVEILED ?
	    " (before seccomp)" : "");
	path = arg != NULL ? arg : "/etc/passwd";
	if (strcmp(action, "open") == 0)
		rc = open(path, O_RDONLY | O_CLOEXEC);
	else if (strcmp(action, "write") == 0)
		rc = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	else if (strcmp(action, "socket") == 0)
		rc = socket(AF_INET, SOCK_STREAM, 0);
	else if (strcmp(action, "connect") == 0 ||
	    strcmp(action, "bind") == 0 || strcmp(action, "dest") == 0 ||
	    strcmp(action, "dest6") == 0) {
		if (arg == NULL)
			fatalx("sandbox test: %s needs a port", action);
		rc = strtonum(arg, 1, 65535, &errstr);
		if (errstr != NULL)
			fatalx("sandbox test: port %s is %s", arg, errstr);
		rc = tcp(action, rc);
	} else if (strcmp(action, "exec") == 0)
		rc = execv("/bin/sh", argv);
	else if (strcmp(action, "kill") == 0)
		rc = kill(getppid(), SIGTERM);
	/* The process that started us, never harmed: signal 0, no change. */
	else if (strcmp(action, "signal") == 0)
		rc = kill(getppid(), 0);
	else if (strcmp(action, "prlimit") == 0)
		rc = prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl);
	else if (strcmp(action, "setpriority") == 0) {
		errno = 0;
		rc = getpriority(PRIO_PROCESS, getppid());
		if (rc != -1 || errno == 0)
			rc = setpriority(PRIO_PROCESS, getppid(), rc);
	} else if (strcmp(action, "pidfd") == 0)
		rc = syscall(SYS_pidfd_open, getppid(), 0);
	else if (strcmp(action, "listen") == 0) {
		if ((rc = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1)
			rc = listen(rc, 1);
	} else if (strcmp(action, "udpbind") == 0)
		rc = tcp(action, 0);
	else
		fatalx("sandbox test: unknown action %s", action);
	outcome(action, rc);
}

/* A TCP socket to connect from or bind to 127.0.0.1:port. */
/* TCP connect or bind, or a UDP bind, to 127.0.0.1 (dest6: [::1]). */
static int
tcp(const char *action, int port)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	int			 s, rc, saved;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_loopback;
	if ((s = socket(strcmp(action, "dest6") == 0 ? AF_INET6 : AF_INET,
	    (strcmp(action, "udpbind") == 0 ? SOCK_DGRAM : SOCK_STREAM) |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (strcmp(action, "connect") == 0)
		rc = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	else if (strcmp(action, "dest") == 0)
		rc = dest_connect(s, (struct sockaddr *)&sin, sizeof(sin));
	else if (strcmp(action, "dest6") == 0)
		rc = dest_connect(s, (struct sockaddr *)&sin6, sizeof(sin6));
	else
		rc = bind(s, (struct sockaddr *)&sin, sizeof(sin));
	saved = errno;
	close(s);
	errno = saved;
	return (rc);
}

static __dead void
outcome(const char *action, int rc)
{
	if (rc == -1)
		fatal("sandbox test: %s refused", action);
	fatalx("sandbox test: %s allowed", action);
}
