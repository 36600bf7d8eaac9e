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
 * pledge(2) and unveil(2) on Linux (compat/pledge.c, compat/unveil.c).
 * Every case runs in a child of its own, which either exits 0 or must die
 * of SIGSYS.  Built with -DSANDBOX_DEBUG a forbidden call returns ENOSYS
 * instead and the child exits VIOLATED after logging the syscall's name,
 * which is checked too.  Landlock cases need the ABI they test and say
 * "skip" below it.  Children leave with _exit(2): a pledged process
 * cannot run LeakSanitizer's exit-time check.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

#define VIOLATED	86	/* debug build: the forbidden call returned */
#define SURVIVED	87	/* the forbidden call returned otherwise */

enum expect {
	EXPECT_OK,
	EXPECT_KILLED
};

struct tcase {
	const char	*name;
	void		(*fn)(void);
	enum expect	 expect;
	const char	*syscall;	/* named in the debug build's log */
	int		 abi;		/* Landlock ABI needed */
	const char	*log;		/* must appear on stderr */
};

/*
 * make SANITIZE=1 lets every process read, for the sanitizers' reports
 * (compat/pledge.c): there the open that "stdio" forbids is one for
 * writing, and stat(2) is allowed.
 */
#ifdef SANDBOX_SANITIZE
#define STDIO_OPEN	O_WRONLY
#else
#define STDIO_OPEN	O_RDONLY
#endif

static char	 dir_in[64], dir_out[64], file_in[96], file_out[96];
static uint16_t	 port_a, port_b;
static char	 abstract_name[64];
static int	 landlock_abi;

static void	 check(int, const char *);
static __dead void forbidden(void);
static int	 tcp_connect(uint16_t);
static int	 listener(uint16_t *);
static void	*idle_thread(void *);

/* In a child: a failed expectation ends the child with a message. */
static void
check(int ok, const char *what)
{
	if (!ok) {
		dprintf(STDERR_FILENO, "check failed: %s (errno %d %s)\n",
		    what, errno, strerror(errno));
		_exit(1);
	}
}

/* Reached only when a forbidden call returned. */
static __dead void
forbidden(void)
{
	_exit(errno == ENOSYS ? VIOLATED : SURVIVED);
}

static void
must_pledge(const char *promises)
{
	check(pledge(promises, NULL) == 0, promises);
}

static int
tcp_connect(uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 s, rc, saved;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(s, (struct sockaddr *)&sin, sizeof(sin));
	saved = errno;
	close(s);
	errno = saved;
	return (rc);
}

static int
listener(uint16_t *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 16) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1)
		err(1, "listener");
	*port = ntohs(sin.sin_port);
	return (s);
}

static void *
idle_thread(void *arg)
{
	int	*fd = arg;
	char	 c;

	/* Wait for the main thread, then try what the case wants. */
	if (read(fd[0], &c, 1) != 1)
		return (NULL);
	if (c == 'o') {
		if (open("/etc/passwd", STDIO_OPEN) == -1 && errno == ENOSYS)
			return ((void *)1);
		return ((void *)2);
	}
	return (NULL);
}

/* Cases: seccomp. */

static void
t_stdio_open(void)
{
	must_pledge("stdio");
	open("/etc/passwd", STDIO_OPEN);
	forbidden();
}

#ifdef SANDBOX_SANITIZE
static void
t_sanitizer_reads(void)
{
	struct stat	 sb;
	char		 buf[PATH_MAX];
	int		 fd;

	must_pledge("stdio");
	check(readlink("/proc/self/exe", buf, sizeof(buf)) > 0, "readlink");
	check(stat("/proc/self/exe", &sb) == 0, "stat");
	check((fd = open("/proc/self/maps", O_RDONLY)) != -1, "maps");
	check(read(fd, buf, sizeof(buf)) > 0, "read maps");
	/* clang's symbolizer: refused, not killed; glibc's fork still is. */
	check(syscall(SYS_fork) == -1 && errno == EACCES, "raw fork");
	_exit(0);
}
#endif

#ifndef SANDBOX_SANITIZE
static void
t_stdio_stat(void)
{
	struct stat	 sb;

	must_pledge("stdio");
	check(fstat(STDERR_FILENO, &sb) == 0, "fstat");
	stat("/etc/passwd", &sb);
	forbidden();
}
#endif

static void
t_stdio_works(void)
{
	struct tm	 tm;
	time_t		 now;
	char		 buf[64], *big;
	int		 p[2], sv[2], n;
	unsigned int	 r;

	openlog("test_sandbox", LOG_PID | LOG_NDELAY, LOG_USER);
	must_pledge("stdio");
	now = time(NULL);
	check(localtime_r(&now, &tm) != NULL, "localtime_r");
	check(strftime(buf, sizeof(buf), "%c", &tm) > 0, "strftime");
	check((big = malloc(64 << 20)) != NULL, "malloc");
	memset(big, 1, 64 << 20);
	free(big);
	check(pipe2(p, O_CLOEXEC) == 0, "pipe2");
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	check(write(sv[0], "x", 1) == 1 && read(sv[1], buf, 1) == 1, "io");
	check(ioctl(sv[1], FIONREAD, &n) == 0 && n == 0, "FIONREAD");
	n = 1;
	check(ioctl(sv[1], FIONBIO, &n) == 0, "FIONBIO");
	check(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0, "fcntl");
	check(getentropy(&r, sizeof(r)) == 0, "getentropy");
	check(getrlimit(RLIMIT_NOFILE, &(struct rlimit){ 0, 0 }) == 0,
	    "getrlimit");
	/* No /dev/log here, or a connected one: neither may kill. */
	syslog(LOG_DEBUG, "pledged");
	check(socket(AF_UNIX, SOCK_DGRAM, 0) == -1 && errno == EACCES,
	    "socket(AF_UNIX) answers EACCES");
	_exit(0);
}

static void
t_stdio_inet(void)
{
	must_pledge("stdio");
	socket(AF_INET, SOCK_STREAM, 0);
	forbidden();
}

static void
t_inet_sockets(void)
{
	int	 s;

	must_pledge("stdio inet");
	check((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) != -1, "AF_INET stream");
	close(s);
	check((s = socket(AF_INET6, SOCK_DGRAM, 0)) != -1, "AF_INET6 dgram");
	close(s);
	socket(AF_NETLINK, SOCK_RAW, 0);
	forbidden();
}

static void
t_inet_raw(void)
{
	must_pledge("stdio inet");
	socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	forbidden();
}

static void
t_inet_sctp(void)
{
	int	 s;

	must_pledge("stdio inet");
	check((s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) != -1,
	    "IPPROTO_TCP");
	close(s);
	check((s = socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)) != -1,
	    "IPPROTO_UDP");
	close(s);
	socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
	forbidden();
}

static void
t_dns(void)
{
	struct addrinfo	 hints, *res;

	must_pledge("stdio dns");
	check(socket(AF_NETLINK, SOCK_RAW, 0) == -1 &&
	    errno == EAFNOSUPPORT, "netlink answers EAFNOSUPPORT");
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	check(getaddrinfo("localhost", "25", &hints, &res) == 0,
	    "getaddrinfo localhost");
	freeaddrinfo(res);
	_exit(0);
}

static void
t_getpw(void)
{
	must_pledge("stdio getpw");
	check(getpwnam("root") != NULL, "getpwnam root");
	check(getpwnam("no-such-user-scamback") == NULL, "getpwnam unknown");
	_exit(0);
}

static void
t_fork(void)
{
	must_pledge("stdio");
	fork();
	forbidden();
}

static void *
t_threads_worker(void *arg)
{
	static pthread_mutex_t	 m = PTHREAD_MUTEX_INITIALIZER;
	static int		 count;
	char			*p;

	pthread_mutex_lock(&m);
	count++;
	pthread_mutex_unlock(&m);
	if ((p = malloc(1 << 20)) == NULL)
		return (NULL);
	memset(p, 0, 1 << 20);
	free(p);
	return (arg);
}

static void
t_threads(void)
{
	pthread_t	 t[8];
	int		 ids[8];
	void		*ret;
	int		 i;

	must_pledge("stdio");
	for (i = 0; i < 8; i++)
		check(pthread_create(&t[i], NULL, t_threads_worker,
		    &ids[i]) == 0, "pthread_create");
	for (i = 0; i < 8; i++)
		check(pthread_join(t[i], &ret) == 0 && ret == &ids[i],
		    "pthread_join");
	_exit(0);
}

static void
t_thread_before(void)
{
	pthread_t	 t;
	void		*ret;
	int		 fd[2];

	check(pipe(fd) == 0, "pipe");
	check(pthread_create(&t, NULL, idle_thread, fd) == 0,
	    "pthread_create");
	must_pledge("stdio");
	check(write(fd[1], "o", 1) == 1, "write");
	pthread_join(t, &ret);
	_exit(ret == (void *)1 ? VIOLATED : SURVIVED);
}

static void
t_proc_status(void)
{
	pthread_t	 t;
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	char		 path[300], line[256];
	int		 fd[2], tasks = 0, seccomp = 0, nnp = 0;

	check(pipe(fd) == 0, "pipe");
	check(pthread_create(&t, NULL, idle_thread, fd) == 0,
	    "pthread_create");
	must_pledge("stdio rpath");
	check((d = opendir("/proc/self/task")) != NULL, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		tasks++;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
		    de->d_name);
		check((f = fopen(path, "r")) != NULL, path);
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strcmp(line, "Seccomp:\t2\n") == 0)
				seccomp++;
			if (strcmp(line, "NoNewPrivs:\t1\n") == 0)
				nnp++;
		}
		fclose(f);
	}
	closedir(d);
	check(tasks == 2, "two threads");
	check(seccomp == tasks, "Seccomp: 2 in every thread (TSYNC)");
	check(nnp == tasks, "NoNewPrivs: 1 in every thread");
	_exit(0);
}

static void
t_kill_other(void)
{
	must_pledge("stdio");
	kill(getppid(), 0);
	forbidden();
}

/* sandbox_net_client(): inet for connect(2) only. */
static void
t_client_listen(void)
{
	int	s;

	check(sandbox_net_client() == 0, "sandbox_net_client");
	must_pledge("stdio inet");
	check((s = socket(AF_INET, SOCK_STREAM, 0)) != -1, "socket");
	check(tcp_connect(port_a) == 0, "connect still works");
	listen(s, 1);
	forbidden();
}

static void
t_client_bind(void)
{
	struct sockaddr_in	 sin;
	int			 s;

	check(sandbox_net_client() == 0, "sandbox_net_client");
	must_pledge("stdio inet");
	check((s = socket(AF_INET, SOCK_DGRAM, 0)) != -1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&sin, sizeof(sin));
	forbidden();
}

/* proc: itself, and processes by pid; never a group or everyone. */
static void
t_proc_self_works(void)
{
	struct rlimit	 rl;

	must_pledge("stdio proc");
	check(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	rl.rlim_cur = rl.rlim_max;
	check(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
	errno = 0;
	check(getpriority(PRIO_PROCESS, 0) != -1 || errno == 0,
	    "getpriority(self)");
	check(setpriority(PRIO_PROCESS, 0, 1) == 0, "setpriority(self)");
	check(kill(getppid(), 0) == 0, "kill another process by pid");
	_exit(0);
}

static void
t_proc_prlimit_other(void)
{
	struct rlimit	 rl;

	must_pledge("stdio proc");
	prlimit(getppid(), RLIMIT_NOFILE, NULL, &rl);
	forbidden();
}

static void
t_proc_setpriority_other(void)
{
	must_pledge("stdio proc");
	setpriority(PRIO_PROCESS, getppid(), 1);
	forbidden();
}

static void
t_proc_pidfd(void)
{
	must_pledge("stdio proc");
	syscall(SYS_pidfd_open, getppid(), 0);
	forbidden();
}

static void
t_proc_kill_all(void)
{
	must_pledge("stdio proc");
	kill(-1, 0);		/* 0: were it allowed, no harm done */
	forbidden();
}

/* As root: pledge leaves only the capabilities the promises need. */
static void
t_proc_caps(void)
{
	char	 path[64], line[128];
	FILE	*fp;
	pid_t	 pid;
	int	 p[2], q[2], n = 0, status;
	char	 c;

	if (geteuid() != 0) {
		printf("(not root: no capabilities to narrow) ");
		_exit(0);
	}
	check(pipe(p) == 0 && pipe(q) == 0, "pipe");
	if ((pid = fork()) == 0) {
		must_pledge("stdio proc");
		(void)write(q[1], "x", 1);
		(void)read(p[0], &c, 1);
		_exit(0);
	}
	check(pid != -1 && read(q[0], &c, 1) == 1, "pledged child");
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	check((fp = fopen(path, "r")) != NULL, path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strcmp(line, "CapInh:\t0000000000000000\n") == 0 ||
		    strcmp(line, "CapPrm:\t0000000000000020\n") == 0 ||
		    strcmp(line, "CapEff:\t0000000000000020\n") == 0 ||
		    strcmp(line, "CapBnd:\t0000000000000020\n") == 0 ||
		    strcmp(line, "CapAmb:\t0000000000000000\n") == 0)
			n++;
		else if (strncmp(line, "Cap", 3) == 0)
			dprintf(STDERR_FILENO, "%s", line);
	}
	fclose(fp);
	(void)write(p[1], "x", 1);
	check(waitpid(pid, &status, 0) == pid, "waitpid");
	check(n == 5, "CAP_KILL alone in every set, nothing inherited");
	_exit(0);
}

static volatile sig_atomic_t	 got_usr1;

static void
on_usr1(int sig)
{
	got_usr1++;
}

static void
t_kill_self(void)
{
	must_pledge("stdio");
	signal(SIGUSR1, on_usr1);
	check(raise(SIGUSR1) == 0, "raise");
	check(kill(getpid(), SIGUSR1) == 0, "kill self");
	check(pthread_kill(pthread_self(), SIGUSR1) == 0, "pthread_kill");
	check(got_usr1 == 3, "three signals");
	_exit(0);
}

static void
t_narrow(void)
{
	must_pledge("stdio inet");
	check(pledge("stdio inet unix", NULL) == -1 && errno == EPERM,
	    "widening to unix refused with EPERM");
	check(pledge("stdio rpath", NULL) == -1 && errno == EPERM,
	    "widening to rpath refused with EPERM");
	close(socket(AF_INET, SOCK_STREAM, 0));
	must_pledge("stdio");
	socket(AF_INET, SOCK_STREAM, 0);
	forbidden();
}

static void
t_bad_args(void)
{
	check(pledge("stdio bogus", NULL) == -1 && errno == EINVAL,
	    "unknown promise: EINVAL");
	check(pledge("stdio", "stdio") == -1 && errno == EINVAL,
	    "execpromises: EINVAL");
	check(pledge(NULL, NULL) == 0, "pledge(NULL, NULL)");
	/* Nothing was installed: this must still work. */
	close(open("/etc/passwd", O_RDONLY));
	must_pledge("");
	check(pledge("stdio", NULL) == -1 && errno == EPERM,
	    "after \"\" nothing can be added");
	_exit(0);
}

static void
t_rpath_write(void)
{
	int	 fd;

	must_pledge("stdio rpath");
	check((fd = open(file_in, O_RDONLY)) != -1, "read open");
	close(fd);
	open(file_in, O_WRONLY);
	forbidden();
}

static void
t_rpath_creat(void)
{
	char	 path[128];

	snprintf(path, sizeof(path), "%s/created", dir_out);
	must_pledge("stdio rpath wpath");
	open(path, O_WRONLY | O_CREAT, 0644);
	forbidden();
}

static void
t_wpath_cpath(void)
{
	char	 a[128], b[128];
	int	 fd;

	snprintf(a, sizeof(a), "%s/a", dir_out);
	snprintf(b, sizeof(b), "%s/b", dir_out);
	must_pledge("stdio rpath wpath cpath");
	check((fd = open(a, O_RDWR | O_CREAT | O_TRUNC, 0644)) != -1,
	    "create");
	check(write(fd, "x", 1) == 1 && fsync(fd) == 0, "write");
	close(fd);
	check(rename(a, b) == 0, "rename");
	check(unlink(b) == 0, "unlink");
	check((fd = open(file_out, O_WRONLY | O_TRUNC)) != -1, "truncate");
	close(fd);
	_exit(0);
}

static void
t_prot_exec(void)
{
	must_pledge("stdio");
	check(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0) != MAP_FAILED, "mmap rw");
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	forbidden();
}

static void
t_exec(void)
{
	char	*argv[] = { "true", NULL };

	must_pledge("stdio rpath proc");
	execv("/bin/true", argv);
	forbidden();
}

static void
t_ioctl(void)
{
	int	 p[2], on = 1;

	check(pipe(p) == 0, "pipe");
	must_pledge("stdio");
	ioctl(p[0], FIOASYNC, &on);
	forbidden();
}

static void
t_setuid(void)
{
	must_pledge("stdio");
	setuid(getuid());
	forbidden();
}

/* Cases: Landlock files. */

static void
t_unveil_dir(void)
{
	char	 path[128];

	check(unveil(dir_in, "r") == 0, "unveil");
	check(unveil(NULL, NULL) == 0, "commit");
	check(close(open(file_in, O_RDONLY)) == 0, "read inside");
	check(open(file_out, O_RDONLY) == -1 && errno == EACCES,
	    "read outside: EACCES");
	check(open(file_in, O_WRONLY) == -1 && errno == EACCES,
	    "write to an \"r\" directory: EACCES");
	snprintf(path, sizeof(path), "%s/new", dir_in);
	check(open(path, O_WRONLY | O_CREAT, 0644) == -1 && errno == EACCES,
	    "create in an \"r\" directory: EACCES");
	check(unveil(dir_out, "r") == -1 && errno == EPERM,
	    "unveil after commit: EPERM");
	check(unveil(NULL, NULL) == -1 && errno == EPERM,
	    "second commit: EPERM");
	_exit(0);
}

static void
t_unveil_rwc(void)
{
	char	 a[128], b[128];
	int	 fd;

	snprintf(a, sizeof(a), "%s/tmp", dir_in);
	snprintf(b, sizeof(b), "%s/final", dir_in);
	check(unveil(dir_in, "r") == 0, "unveil r");
	check(unveil(dir_in, "rwc") == 0, "unveil again replaces");
	check(unveil(NULL, NULL) == 0, "commit");
	check((fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644)) != -1,
	    "create inside");
	close(fd);
	check(rename(a, b) == 0, "rename inside");
	check(unlink(b) == 0, "unlink inside");
	check(open(file_out, O_RDONLY) == -1 && errno == EACCES,
	    "outside: EACCES");
	_exit(0);
}

static void
t_unveil_file(void)
{
	char	 other[128];
	int	 fd;

	snprintf(other, sizeof(other), "%s/other", dir_in);
	check((fd = open(other, O_WRONLY | O_CREAT, 0644)) != -1, "setup");
	close(fd);
	/* "c" means nothing on a file and must not make the rule fail. */
	check(unveil(file_in, "rwc") == 0, "unveil file");
	check(unveil(NULL, NULL) == 0, "commit");
	check(close(open(file_in, O_RDWR)) == 0, "the file itself");
	check(open(other, O_RDONLY) == -1 && errno == EACCES,
	    "its sibling: EACCES");
	_exit(0);
}

static void
t_unveil_pledge(void)
{
	check(unveil(dir_in, "r") == 0, "unveil");
	must_pledge("stdio rpath");
	check(close(open(file_in, O_RDONLY)) == 0, "read inside");
	check(open(file_out, O_RDONLY) == -1 && errno == EACCES,
	    "pledge committed the rules");
	check(unveil(dir_out, "r") == -1 && errno == EPERM,
	    "unveil after pledge: EPERM");
	_exit(0);
}

static void
t_unveil_promise(void)
{
	int	 fd;

	check(unveil(dir_in, "r") == 0, "unveil");
	must_pledge("stdio rpath unveil");
	check((fd = open(file_out, O_RDONLY)) != -1,
	    "with \"unveil\" pledge leaves the rules open");
	close(fd);
	check(unveil(dir_in, "rw") == 0, "unveil after pledge");
	check(unveil(NULL, NULL) == 0, "commit");
	check(open(file_out, O_RDONLY) == -1 && errno == EACCES,
	    "committed by unveil(NULL, NULL)");
	check((fd = open(file_in, O_RDONLY)) != -1, "inside");
	close(fd);
	check(unveil(dir_out, "r") == -1 && errno == EPERM,
	    "unveil after commit: EPERM");
	_exit(0);
}

static void
t_unveil_opath(void)
{
	/* O_PATH opens need "unveil", not "rpath". */
	must_pledge("stdio unveil");
	check(unveil(dir_in, "r") == 0, "unveil without rpath");
	check(unveil(NULL, NULL) == 0, "commit");
	_exit(0);
}

static void
t_unveil_args(void)
{
	check(unveil("/nonexistent/scamback", "r") == -1 && errno == ENOENT,
	    "missing path: ENOENT");
	check(unveil(dir_in, "rz") == -1 && errno == EINVAL,
	    "bad perms: EINVAL");
	check(unveil(dir_in, NULL) == -1 && errno == EINVAL,
	    "NULL perms: EINVAL");
	check(unveil(NULL, "r") == -1 && errno == EINVAL,
	    "NULL path: EINVAL");
	_exit(0);
}

static void
t_unveil_threads(void)
{
	pthread_t	 t;
	int		 fd[2], rc;

	check(pipe(fd) == 0, "pipe");
	check(pthread_create(&t, NULL, idle_thread, fd) == 0,
	    "pthread_create");
	check(unveil(dir_in, "r") == 0, "unveil");
	rc = unveil(NULL, NULL);
	if (landlock_abi >= 8)
		check(rc == 0, "commit with TSYNC");
	else
		check(rc == -1 && errno == EBUSY,
		    "commit with a second thread: EBUSY");
	_exit(0);
}

static void
t_ports_threads(void)
{
	pthread_t	 t;
	int		 fd[2], rc;

	check(pipe(fd) == 0, "pipe");
	check(pthread_create(&t, NULL, idle_thread, fd) == 0,
	    "pthread_create");
	check(sandbox_net_connect(port_a) == 0, "register port");
	rc = pledge("stdio inet", NULL);
	if (landlock_abi >= 8)
		check(rc == 0, "pledge with TSYNC");
	else
		check(rc == -1 && errno == EBUSY,
		    "ports with a second thread: EBUSY");
	_exit(0);
}

/*
 * A kernel without Landlock, or one that refuses it, faked with a seccomp
 * errno for one Landlock syscall.  Runs in a fresh image (see main) so
 * that the ABI is not known yet.
 */
static __dead void
fake_landlock(const char *how)
{
	scmp_filter_ctx	 ctx;
	const char	*sys;
	int		 rc;

	sys = strcmp(how, "none") == 0 ? "landlock_create_ruleset" :
	    "landlock_restrict_self";
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(strcmp(how, "none") == 0 ?
	    ENOSYS : EPERM), seccomp_syscall_resolve_name(sys), 0) != 0 ||
	    seccomp_load(ctx) != 0)
		check(0, "fake landlock filter");
	seccomp_release(ctx);

	check(unveil(dir_in, "r") == 0, "unveil");
	rc = pledge("stdio rpath", NULL);
	if (strcmp(how, "none") == 0) {
		check(rc == 0, "pledge goes on without Landlock");
		check(sandbox_landlock_abi() == 0, "ABI 0");
		check(close(open(file_out, O_RDONLY)) == 0,
		    "files are not confined");
		must_pledge("stdio");
	} else
		check(rc == -1 && errno == EPERM,
		    "a Landlock error fails pledge");
	_exit(0);
}

static void
reexec(const char *how)
{
	char	*argv[] = { "test_sandbox", "-L", (char *)how, dir_in,
		    dir_out, NULL };

	execv("/proc/self/exe", argv);
	check(0, "execv");
}

static void
t_no_landlock(void)
{
	reexec("none");
}

static void
t_landlock_error(void)
{
	reexec("error");
}

/* Cases: Landlock network and scopes. */

static void
t_tcp_ports(void)
{
	struct sockaddr_in	 sin;
	int			 s;

	check(sandbox_net_connect(port_a) == 0, "register port");
	check(sandbox_net_allowed(port_b), "before pledge: every port allowed");
	must_pledge("stdio inet");
	check(sandbox_net_connect(port_b) == -1 && errno == EPERM,
	    "register after pledge: EPERM");
	check(sandbox_net_allowed(port_a), "registered port: allowed");
	check(!sandbox_net_allowed(port_b), "other port: not allowed");
	check(tcp_connect(port_a) == 0, "connect to the registered port");
	check(tcp_connect(port_b) == -1 && errno == EACCES,
	    "connect elsewhere: EACCES");
	check((s = socket(AF_INET, SOCK_STREAM, 0)) != -1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno == EACCES, "bind: EACCES");
	_exit(0);
}

static void
t_tcp_none(void)
{
	struct sockaddr_in	 sin;
	int			 s;

	check((s = socket(AF_INET, SOCK_STREAM, 0)) != -1, "socket");
	must_pledge("stdio unix");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port_a);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	check(connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno == EACCES, "no inet: no TCP connect at all");
	_exit(0);
}

static void
t_tcp_deny(void)
{
	check(sandbox_net_deny() == 0, "sandbox_net_deny");
	must_pledge("stdio inet");
	check(sandbox_net_deny() == -1 && errno == EPERM,
	    "sandbox_net_deny after pledge: EPERM");
	check(tcp_connect(port_a) == -1 && errno == EACCES,
	    "inet with sandbox_net_deny: no TCP connect");
	_exit(0);
}

static void
t_tcp_open(void)
{
	must_pledge("stdio inet");
	check(tcp_connect(port_b) == 0, "inet without ports: unconfined");
	check(sandbox_net_allowed(port_b), "inet without ports: allowed");
	_exit(0);
}

static void
t_tcp_dns(void)
{
	must_pledge("stdio dns");
	check(tcp_connect(port_a) == -1 && errno == EACCES,
	    "dns: TCP to port 53 only");
	_exit(0);
}

static void
t_scope_signal(void)
{
	pid_t	 pid;
	int	 status;

	/* A process group of our own: kill(0) reaches nobody else. */
	check(setpgid(0, 0) == 0, "setpgid");
	signal(SIGUSR1, on_usr1);
	if ((pid = fork()) == 0) {
		signal(SIGUSR1, SIG_IGN);
		must_pledge("stdio");
		check(kill(0, SIGUSR1) == 0, "kill(0) reaches ourselves");
		_exit(0);
	}
	check(pid != -1, "fork");
	check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "child");
	check(got_usr1 == 0, "the group outside the domain got no signal");
	_exit(0);
}

/* proc: the children started after sandbox_scope_signals() only. */
static void
t_scope_children(void)
{
	pid_t	 pid;
	int	 p[2], status;
	char	 c;

	check(pipe(p) == 0, "pipe");
	check(sandbox_scope_signals() == 0, "sandbox_scope_signals");
	if ((pid = fork()) == 0) {
		close(p[1]);
		must_pledge("stdio");
		(void)read(p[0], &c, 1);
		_exit(0);
	}
	check(pid != -1, "fork");
	close(p[0]);
	must_pledge("stdio proc");
	check(kill(pid, 0) == 0, "the child is reachable");
	check(kill(getppid(), 0) == -1 && errno == EPERM,
	    "a process started before is not");
	close(p[1]);
	check(waitpid(pid, &status, 0) == pid, "waitpid");
	_exit(0);
}

static void
t_scope_abstract(void)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 s;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, abstract_name, strlen(abstract_name));
	len = offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(abstract_name);
	check((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1, "socket");
	check(connect(s, (struct sockaddr *)&sun, len) == 0,
	    "connect before pledge");
	close(s);
	must_pledge("stdio unix");
	check((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1, "socket");
	check(connect(s, (struct sockaddr *)&sun, len) == -1 &&
	    errno == EPERM, "abstract socket outside the domain: EPERM");
	_exit(0);
}

static const struct tcase cases[] = {
	{ "stdio: open killed",
	    t_stdio_open, EXPECT_KILLED, "openat", 0, NULL },
#ifdef SANDBOX_SANITIZE
	{ "stdio: a sanitizer's report may read (SANITIZE=1 only)",
	    t_sanitizer_reads, EXPECT_OK, NULL, 0, NULL },
#endif
#ifndef SANDBOX_SANITIZE
	{ "stdio: stat killed",
	    t_stdio_stat, EXPECT_KILLED, "newfstatat", 0, NULL },
#endif
	{ "stdio: the basics work",
	    t_stdio_works, EXPECT_OK, NULL, 0, NULL },
	{ "stdio: socket(AF_INET) killed",
	    t_stdio_inet, EXPECT_KILLED, "socket", 0, NULL },
	{ "inet: AF_INET ok, AF_NETLINK killed",
	    t_inet_sockets, EXPECT_KILLED, "socket", 0, NULL },
	{ "inet: SOCK_RAW killed",
	    t_inet_raw, EXPECT_KILLED, "socket", 0, NULL },
	{ "inet: SCTP killed",
	    t_inet_sctp, EXPECT_KILLED, "socket", 0, NULL },
	{ "dns: getaddrinfo works",
	    t_dns, EXPECT_OK, NULL, 0, NULL },
	{ "getpw: getpwnam works",
	    t_getpw, EXPECT_OK, NULL, 0, NULL },
	{ "stdio: fork killed",
	    t_fork, EXPECT_KILLED, "clone", 0, NULL },
	{ "stdio: threads work",
	    t_threads, EXPECT_OK, NULL, 0, NULL },
	{ "stdio: older threads confined (TSYNC)",
	    t_thread_before, EXPECT_KILLED, "openat", 0, NULL },
	{ "Seccomp: 2, NoNewPrivs: 1 in all threads",
	    t_proc_status, EXPECT_OK, NULL, 0, NULL },
	{ "stdio: kill(other) killed",
	    t_kill_other, EXPECT_KILLED, "kill", 0, NULL },
	{ "stdio: signals to self work",
	    t_kill_self, EXPECT_OK, NULL, 0, NULL },
	{ "second pledge narrows, never widens",
	    t_narrow, EXPECT_KILLED, "socket", 0, NULL },
	{ "bad arguments",
	    t_bad_args, EXPECT_OK, NULL, 0, NULL },
	{ "rpath: write open killed",
	    t_rpath_write, EXPECT_KILLED, "openat", 0, NULL },
	{ "rpath wpath: O_CREAT killed",
	    t_rpath_creat, EXPECT_KILLED, "openat", 0, NULL },
	{ "wpath cpath: create, rename, unlink",
	    t_wpath_cpath, EXPECT_OK, NULL, 0, NULL },
	{ "stdio: PROT_EXEC killed",
	    t_prot_exec, EXPECT_KILLED, "mmap", 0, NULL },
	{ "exec killed without exec",
	    t_exec, EXPECT_KILLED, "execve", 0, NULL },
	{ "stdio: other ioctls killed",
	    t_ioctl, EXPECT_KILLED, "ioctl", 0, NULL },
	{ "stdio: setuid killed",
	    t_setuid, EXPECT_KILLED, "setuid", 0, NULL },
	{ "unveil: \"r\" directory",
	    t_unveil_dir, EXPECT_OK, NULL, 1, NULL },
	{ "unveil: \"rwc\" directory",
	    t_unveil_rwc, EXPECT_OK, NULL, 1, NULL },
	{ "unveil: a file",
	    t_unveil_file, EXPECT_OK, NULL, 1, NULL },
	{ "unveil: committed by pledge",
	    t_unveil_pledge, EXPECT_OK, NULL, 1, NULL },
	{ "unveil: the unveil promise",
	    t_unveil_promise, EXPECT_OK, NULL, 1, NULL },
	{ "unveil: O_PATH with the unveil promise",
	    t_unveil_opath, EXPECT_OK, NULL, 1, NULL },
	{ "unveil: bad arguments",
	    t_unveil_args, EXPECT_OK, NULL, 0, NULL },
	{ "unveil: threads",
	    t_unveil_threads, EXPECT_OK, NULL, 1, NULL },
	{ "no Landlock: one line, then go on",
	    t_no_landlock, EXPECT_OK, NULL, 0,
	    "landlock unavailable: files are not confined\n" },
	{ "a Landlock error is fatal",
	    t_landlock_error, EXPECT_OK, NULL, 1, NULL },
	{ "landlock: ports with threads",
	    t_ports_threads, EXPECT_OK, NULL, 4, NULL },
	{ "landlock: TCP to registered ports only",
	    t_tcp_ports, EXPECT_OK, NULL, 4, NULL },
	{ "landlock: no TCP without inet",
	    t_tcp_none, EXPECT_OK, NULL, 4, NULL },
	{ "landlock: inet without ports",
	    t_tcp_open, EXPECT_OK, NULL, 4, NULL },
	{ "landlock: inet with sandbox_net_deny",
	    t_tcp_deny, EXPECT_OK, NULL, 4, NULL },
	{ "landlock: dns without inet",
	    t_tcp_dns, EXPECT_OK, NULL, 4, NULL },
	{ "landlock: signals scoped",
	    t_scope_signal, EXPECT_OK, NULL, 6, NULL },
	{ "landlock: abstract sockets scoped",
	    t_scope_abstract, EXPECT_OK, NULL, 6, NULL },
	{ "landlock: proc reaches only later children",
	    t_scope_children, EXPECT_OK, NULL, 6, NULL },
	{ "inet client: connect works, listen killed",
	    t_client_listen, EXPECT_KILLED, "listen", 0, NULL },
	{ "inet client: UDP bind killed",
	    t_client_bind, EXPECT_KILLED, "bind", 0, NULL },
	{ "proc: limits, priority and signals of its own work",
	    t_proc_self_works, EXPECT_OK, NULL, 0, NULL },
	{ "proc: prlimit64 of another process killed",
	    t_proc_prlimit_other, EXPECT_KILLED, "prlimit64", 0, NULL },
	{ "proc: setpriority of another process killed",
	    t_proc_setpriority_other, EXPECT_KILLED, "setpriority", 0, NULL },
	{ "proc: pidfd_open killed",
	    t_proc_pidfd, EXPECT_KILLED, "pidfd_open", 0, NULL },
	{ "proc: kill(-1) killed",
	    t_proc_kill_all, EXPECT_KILLED, "kill", 0, NULL },
	{ "proc: root keeps CAP_KILL alone",
	    t_proc_caps, EXPECT_OK, NULL, 0, NULL },
};

static int
run(const struct tcase *tc)
{
	char	 out[4096], want[128];
	ssize_t	 n;
	size_t	 len = 0;
	pid_t	 pid;
	int	 p[2], status, ok;

	if (landlock_abi < tc->abi) {
		printf("skip %s: Landlock ABI %d < %d\n", tc->name,
		    landlock_abi, tc->abi);
		return (0);
	}
	if (pipe(p) == -1)
		err(1, "pipe");
	fflush(stdout);
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDERR_FILENO) == -1)
			_exit(2);
		alarm(20);
		tc->fn();
		_exit(3);
	}
	close(p[1]);
	while ((n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");

	if (tc->expect == EXPECT_OK)
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    (tc->log == NULL || strstr(out, tc->log) != NULL);
	else {
#ifdef SANDBOX_DEBUG
		snprintf(want, sizeof(want), "sandbox violation: %s\n",
		    tc->syscall);
		ok = WIFEXITED(status) && WEXITSTATUS(status) == VIOLATED &&
		    strstr(out, want) != NULL;
#else
		(void)want;
		ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
#endif
	}
	if (ok) {
		printf("ok   %s\n", tc->name);
		return (0);
	}
	if (WIFSIGNALED(status))
		printf("FAIL %s: killed by signal %d\n", tc->name,
		    WTERMSIG(status));
	else
		printf("FAIL %s: exit %d\n", tc->name, WEXITSTATUS(status));
	if (len > 0)
		printf("%s", out);
	return (1);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	char			 cmd[256];
	size_t			 i;
	int			 fd, la, lb, ab, failed = 0;

	if (argc == 5 && strcmp(argv[1], "-L") == 0) {
		strlcpy(dir_in, argv[3], sizeof(dir_in));
		strlcpy(dir_out, argv[4], sizeof(dir_out));
		snprintf(file_in, sizeof(file_in), "%s/file", dir_in);
		snprintf(file_out, sizeof(file_out), "%s/file", dir_out);
		fake_landlock(argv[2]);
	}
	if ((landlock_abi = sandbox_landlock_abi()) == -1)
		err(1, "landlock ABI");
	printf("Landlock ABI %d\n", landlock_abi);

	strlcpy(dir_in, "/tmp/sandbox-in.XXXXXX", sizeof(dir_in));
	strlcpy(dir_out, "/tmp/sandbox-out.XXXXXX", sizeof(dir_out));
	if (mkdtemp(dir_in) == NULL || mkdtemp(dir_out) == NULL)
		err(1, "mkdtemp");
	snprintf(file_in, sizeof(file_in), "%s/file", dir_in);
	snprintf(file_out, sizeof(file_out), "%s/file", dir_out);
	if ((fd = open(file_in, O_WRONLY | O_CREAT, 0644)) == -1 ||
	    close(fd) == -1 ||
	    (fd = open(file_out, O_WRONLY | O_CREAT, 0644)) == -1 ||
	    close(fd) == -1)
		err(1, "test files");

	la = listener(&port_a);
	lb = listener(&port_b);
	snprintf(abstract_name, sizeof(abstract_name), "scamback-sandbox-%d",
	    (int)getpid());
	if ((ab = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, abstract_name, strlen(abstract_name));
	if (bind(ab, (struct sockaddr *)&sun, offsetof(struct sockaddr_un,
	    sun_path) + 1 + strlen(abstract_name)) == -1 || listen(ab, 8) == -1)
		err(1, "abstract socket");

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc > 1 && strstr(cases[i].name, argv[1]) == NULL)
			continue;
		failed += run(&cases[i]);
	}

	close(la);
	close(lb);
	close(ab);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir_in, dir_out);
	if (system(cmd) != 0)
		warnx("could not remove %s and %s", dir_in, dir_out);
	if (failed) {
		printf("%d case(s) failed\n", failed);
		return (1);
	}
	return (0);
}
