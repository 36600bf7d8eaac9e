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
 * pledge(2) on Linux: each promise is a seccomp allowlist (libseccomp),
 * with argument checks where a syscall serves both a promise and a
 * violation: open flags, socket families, clone flags, signal targets,
 * fcntl and ioctl commands, PROT_EXEC.  Anything else kills the whole
 * process (SCMP_ACT_KILL_PROCESS).
 *
 * The filter is installed with TSYNC, so threads that already exist are
 * covered, and with no_new_privs.  Filters stack: a second pledge adds a
 * filter that can only take away, and promises not held before are
 * refused with EPERM as on OpenBSD.  Pending unveil(2) rules and the
 * Landlock network and signal layer are committed first (unveil.c).
 *
 * A few calls fail with an errno instead of killing, because libraries
 * make them behind the caller's back and cope with the failure: clone3,
 * openat2 and statx answer ENOSYS (glibc falls back to clone, openat and
 * newfstatat, which can be checked); socket(AF_UNIX) without "unix" answers
 * EACCES (glibc's syslog(3) reconnects to /dev/log, its nscd client
 * probes /var/run/nscd/socket); with "dns", socket(AF_NETLINK) answers
 * EAFNOSUPPORT (getaddrinfo's AI_ADDRCONFIG probe, which then assumes
 * both families); with "getpw", PROT_EXEC answers EACCES (a late dlopen
 * of an NSS module fails instead of killing).
 *
 * "stdio" also lets sendsyslog(2)'s socket (compat/syslog.c, made at
 * the first pledge) send to the log daemon by name, as on OpenBSD.
 *
 * A process that is still root when it pledges keeps only the
 * capabilities its promises need (caps_narrow()): "proc" CAP_KILL, "id"
 * CAP_SETUID and CAP_SETGID, "chown" CAP_CHOWN, "fattr" CAP_FOWNER.
 * Root without capabilities still owns root's files, which is all that
 * rpath, wpath and cpath need of it.  Process calls that take a pid
 * other than a signal's target (prlimit64, setpriority) act on the
 * caller only; pidfds are not needed and not allowed.
 *
 * Built with -DSANDBOX_SANITIZE (make SANITIZE=1, never a production
 * build), every process may also read: readlink(2), stat(2) and
 * read-only opens, which a sanitizer's report needs (the executable's name, /proc/self/maps
 * for the stack's bounds and the modules, the binaries' debug information
 * for the symbols).  Without them the filter killed a process at its
 * first report, before a line of it was out (sanitizer_rules()).
 * Landlock and the chroot still decide which files those calls reach.
 *
 * Built with -DSANDBOX_DEBUG, a violation is trapped instead: the process
 * logs "sandbox violation: <syscall>" on stderr (and to /dev/log when it
 * could be reached at the first pledge) and the call returns ENOSYS, so
 * a whole test run lists every violation instead of dying at the first.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <linux/capability.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "sandbox.h"

#define PLEDGE_STDIO	0x00000001U
#define PLEDGE_RPATH	0x00000002U
#define PLEDGE_WPATH	0x00000004U
#define PLEDGE_CPATH	0x00000008U
#define PLEDGE_DPATH	0x00000010U
#define PLEDGE_TMPPATH	0x00000020U
#define PLEDGE_FATTR	0x00000040U
#define PLEDGE_CHOWN	0x00000080U
#define PLEDGE_FLOCK	0x00000100U
#define PLEDGE_INET	0x00000200U
#define PLEDGE_UNIX	0x00000400U
#define PLEDGE_DNS	0x00000800U
#define PLEDGE_GETPW	0x00001000U
#define PLEDGE_SENDFD	0x00002000U
#define PLEDGE_RECVFD	0x00004000U
#define PLEDGE_PROC	0x00008000U
#define PLEDGE_EXEC	0x00010000U
#define PLEDGE_ID	0x00020000U
#define PLEDGE_PROTEXEC	0x00040000U
#define PLEDGE_UNVEIL	0x00080000U
#define PLEDGE_ALL	0x000fffffU

/*
 * seccomp sees no paths, so the promises that OpenBSD limits to a few
 * files (dns: resolv.conf and hosts; getpw: the password files; tmppath:
 * /tmp) allow the whole kind of open here; unveil narrows the paths.
 */
#define P_READ		(PLEDGE_RPATH | PLEDGE_TMPPATH | PLEDGE_DNS | \
			    PLEDGE_GETPW)
#define P_WRITE		(PLEDGE_WPATH | PLEDGE_TMPPATH)
#define P_CREATE	(PLEDGE_CPATH | PLEDGE_TMPPATH)
#define P_STAT		(P_READ | P_WRITE | P_CREATE)
#define P_SOCKET	(PLEDGE_INET | PLEDGE_UNIX)
#define P_CONNECT	(PLEDGE_INET | PLEDGE_UNIX | PLEDGE_DNS)
#define P_ALWAYS	0

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define PR_SET_VMA_	0x53564d41	/* glibc >= 2.39 names its mappings */
#define CAPBIT(c)	(1ULL << (c))
#define SIGN32		0x80000000ULL	/* a negative pid_t */

static const struct {
	const char	*name;
	uint32_t	 flag;
} promise_names[] = {
	{ "chown",	PLEDGE_CHOWN },
	{ "cpath",	PLEDGE_CPATH },
	{ "dns",	PLEDGE_DNS },
	{ "dpath",	PLEDGE_DPATH },
	{ "exec",	PLEDGE_EXEC },
	{ "fattr",	PLEDGE_FATTR },
	{ "flock",	PLEDGE_FLOCK },
	{ "getpw",	PLEDGE_GETPW },
	{ "id",		PLEDGE_ID },
	{ "inet",	PLEDGE_INET },
	{ "proc",	PLEDGE_PROC },
	{ "prot_exec",	PLEDGE_PROTEXEC },
	{ "recvfd",	PLEDGE_RECVFD },
	{ "rpath",	PLEDGE_RPATH },
	{ "sendfd",	PLEDGE_SENDFD },
	{ "stdio",	PLEDGE_STDIO },
	{ "tmppath",	PLEDGE_TMPPATH },
	{ "unix",	PLEDGE_UNIX },
	{ "unveil",	PLEDGE_UNVEIL },
	{ "wpath",	PLEDGE_WPATH },
};

/*
 * Syscalls allowed whatever their arguments when any of the promises is
 * held (P_ALWAYS: in every filter).  Those that need argument checks are
 * in build_filter().  Names the running libseccomp does not know, or that
 * do not exist on this architecture, are skipped.
 */
static const struct {
	const char	*name;
	uint32_t	 promises;
} simple[] = {
	{ "exit",		P_ALWAYS },
	{ "exit_group",		P_ALWAYS },
	{ "rt_sigreturn",	P_ALWAYS },
	{ "restart_syscall",	P_ALWAYS },
	{ "sigaltstack",	P_ALWAYS },	/* ASan's _exit(2) */

	/* descriptors already open */
	{ "read",		PLEDGE_STDIO },
	{ "readv",		PLEDGE_STDIO },
	{ "pread64",		PLEDGE_STDIO },
	{ "preadv",		PLEDGE_STDIO },
	{ "preadv2",		PLEDGE_STDIO },
	{ "write",		PLEDGE_STDIO },
	{ "writev",		PLEDGE_STDIO },
	{ "pwrite64",		PLEDGE_STDIO },
	{ "pwritev",		PLEDGE_STDIO },
	{ "pwritev2",		PLEDGE_STDIO },
	{ "close",		PLEDGE_STDIO },
	{ "close_range",	PLEDGE_STDIO },
	{ "dup",		PLEDGE_STDIO },
	{ "dup2",		PLEDGE_STDIO },
	{ "dup3",		PLEDGE_STDIO },
	{ "lseek",		PLEDGE_STDIO },
	{ "fstat",		PLEDGE_STDIO },
	{ "ftruncate",		PLEDGE_STDIO },
	{ "fsync",		PLEDGE_STDIO },
	{ "fdatasync",		PLEDGE_STDIO },
	{ "pipe",		PLEDGE_STDIO },
	{ "pipe2",		PLEDGE_STDIO },

	/* sockets already open; socketpair makes only AF_UNIX pairs */
	{ "socketpair",		PLEDGE_STDIO },
	{ "sendmsg",		PLEDGE_STDIO },
	{ "recvmsg",		PLEDGE_STDIO },
	{ "recvfrom",		PLEDGE_STDIO },
	{ "recvmmsg",		PLEDGE_STDIO },
	{ "shutdown",		PLEDGE_STDIO },
	{ "getsockopt",		PLEDGE_STDIO },
	{ "setsockopt",		PLEDGE_STDIO },
	{ "getsockname",	PLEDGE_STDIO },
	{ "getpeername",	PLEDGE_STDIO },

	/* waiting: poll, epoll (libevent), eventfd and timerfd */
	{ "poll",		PLEDGE_STDIO },
	{ "ppoll",		PLEDGE_STDIO },
	{ "select",		PLEDGE_STDIO },
	{ "pselect6",		PLEDGE_STDIO },
	{ "epoll_create",	PLEDGE_STDIO },
	{ "epoll_create1",	PLEDGE_STDIO },
	{ "epoll_ctl",		PLEDGE_STDIO },
	{ "epoll_wait",		PLEDGE_STDIO },
	{ "epoll_pwait",	PLEDGE_STDIO },
	{ "epoll_pwait2",	PLEDGE_STDIO },
	{ "eventfd",		PLEDGE_STDIO },
	{ "eventfd2",		PLEDGE_STDIO },
	{ "timerfd_create",	PLEDGE_STDIO },
	{ "timerfd_settime",	PLEDGE_STDIO },
	{ "timerfd_gettime",	PLEDGE_STDIO },

	/* time */
	{ "clock_gettime",	PLEDGE_STDIO },
	{ "clock_getres",	PLEDGE_STDIO },
	{ "clock_nanosleep",	PLEDGE_STDIO },
	{ "nanosleep",		PLEDGE_STDIO },
	{ "gettimeofday",	PLEDGE_STDIO },
	{ "time",		PLEDGE_STDIO },
	{ "getitimer",		PLEDGE_STDIO },
	{ "setitimer",		PLEDGE_STDIO },
	{ "alarm",		PLEDGE_STDIO },

	/* about ourselves */
	{ "getpid",		PLEDGE_STDIO },
	{ "getppid",		PLEDGE_STDIO },
	{ "gettid",		PLEDGE_STDIO },
	{ "getuid",		PLEDGE_STDIO },
	{ "geteuid",		PLEDGE_STDIO },
	{ "getgid",		PLEDGE_STDIO },
	{ "getegid",		PLEDGE_STDIO },
	{ "getresuid",		PLEDGE_STDIO },
	{ "getresgid",		PLEDGE_STDIO },
	{ "getgroups",		PLEDGE_STDIO },
	{ "getpgrp",		PLEDGE_STDIO },
	{ "getpgid",		PLEDGE_STDIO },
	{ "getsid",		PLEDGE_STDIO },
	{ "getrusage",		PLEDGE_STDIO },
	{ "getrlimit",		PLEDGE_STDIO },
	{ "times",		PLEDGE_STDIO },
	{ "sysinfo",		PLEDGE_STDIO },
	{ "uname",		PLEDGE_STDIO },
	{ "umask",		PLEDGE_STDIO },
	{ "getrandom",		PLEDGE_STDIO },
	{ "wait4",		PLEDGE_STDIO },
	{ "waitid",		PLEDGE_STDIO },

	/* memory; mmap and mprotect are checked for PROT_EXEC */
	{ "brk",		PLEDGE_STDIO },
	{ "munmap",		PLEDGE_STDIO },
	{ "mremap",		PLEDGE_STDIO },
	{ "madvise",		PLEDGE_STDIO },
	{ "msync",		PLEDGE_STDIO },

	/* signals; kill and tgkill are checked for the target */
	{ "rt_sigaction",	PLEDGE_STDIO },
	{ "rt_sigprocmask",	PLEDGE_STDIO },
	{ "rt_sigpending",	PLEDGE_STDIO },
	{ "rt_sigsuspend",	PLEDGE_STDIO },
	{ "rt_sigtimedwait",	PLEDGE_STDIO },
	{ "pause",		PLEDGE_STDIO },

	/* threads: glibc needs rseq, or new threads die */
	{ "futex",		PLEDGE_STDIO },
	{ "set_robust_list",	PLEDGE_STDIO },
	{ "set_tid_address",	PLEDGE_STDIO },
	{ "rseq",		PLEDGE_STDIO },
	{ "sched_yield",	PLEDGE_STDIO },
	{ "sched_getaffinity",	PLEDGE_STDIO },
	{ "getcpu",		PLEDGE_STDIO },

	/* confining oneself further is always allowed (a later pledge) */
	{ "seccomp",		PLEDGE_STDIO },
	{ "capset",		PLEDGE_STDIO },	/* lowers only: caps_narrow() */
	{ "landlock_create_ruleset", PLEDGE_STDIO },
	{ "landlock_add_rule",	PLEDGE_STDIO },
	{ "landlock_restrict_self", PLEDGE_STDIO },

	/* paths: seccomp cannot see them, unveil confines them */
	{ "stat",		P_STAT },
	{ "lstat",		P_STAT },
	{ "access",		P_STAT },
	{ "faccessat",		P_STAT },
	{ "faccessat2",		P_STAT },
	{ "readlink",		P_STAT },
	{ "readlinkat",		P_STAT },
	{ "statfs",		P_STAT },
	{ "fstatfs",		P_STAT },
	{ "getcwd",		P_STAT },
	{ "getdents",		PLEDGE_RPATH | PLEDGE_TMPPATH },
	{ "getdents64",		PLEDGE_RPATH | PLEDGE_TMPPATH },
	{ "chdir",		PLEDGE_RPATH },
	{ "fchdir",		PLEDGE_RPATH },
	{ "truncate",		P_WRITE },
	{ "creat",		PLEDGE_TMPPATH },
	{ "unlink",		P_CREATE },
	{ "unlinkat",		P_CREATE },
	{ "mkdir",		PLEDGE_CPATH },
	{ "mkdirat",		PLEDGE_CPATH },
	{ "rmdir",		PLEDGE_CPATH },
	{ "rename",		PLEDGE_CPATH },
	{ "renameat",		PLEDGE_CPATH },
	{ "renameat2",		PLEDGE_CPATH },
	{ "link",		PLEDGE_CPATH },
	{ "linkat",		PLEDGE_CPATH },
	{ "symlink",		PLEDGE_CPATH },
	{ "symlinkat",		PLEDGE_CPATH },
	{ "mknod",		PLEDGE_DPATH },
	{ "mknodat",		PLEDGE_DPATH },
	{ "chmod",		PLEDGE_FATTR },
	{ "fchmod",		PLEDGE_FATTR },
	{ "fchmodat",		PLEDGE_FATTR },
	{ "utime",		PLEDGE_FATTR },
	{ "utimes",		PLEDGE_FATTR },
	{ "utimensat",		PLEDGE_FATTR },
	{ "futimesat",		PLEDGE_FATTR },
	{ "chown",		PLEDGE_CHOWN },
	{ "fchown",		PLEDGE_CHOWN },
	{ "fchownat",		PLEDGE_CHOWN },
	{ "lchown",		PLEDGE_CHOWN },
	{ "flock",		PLEDGE_FLOCK },

	/*
	 * network; socket() is checked for the family.  Exactly P_SOCKET:
	 * left out with sandbox_net_client().
	 */
	{ "bind",		P_SOCKET },
	{ "listen",		P_SOCKET },
	{ "accept",		P_SOCKET },
	{ "accept4",		P_SOCKET },
	{ "connect",		P_CONNECT },
	{ "sendmmsg",		P_CONNECT },

	/* processes */
	{ "fork",		PLEDGE_PROC },
	{ "vfork",		PLEDGE_PROC },
	{ "setpgid",		PLEDGE_PROC },
	{ "setsid",		PLEDGE_PROC },
	{ "setrlimit",		PLEDGE_PROC | PLEDGE_ID },
	{ "execve",		PLEDGE_EXEC },
	{ "execveat",		PLEDGE_EXEC },
	{ "setuid",		PLEDGE_ID },
	{ "setgid",		PLEDGE_ID },
	{ "setreuid",		PLEDGE_ID },
	{ "setregid",		PLEDGE_ID },
	{ "setresuid",		PLEDGE_ID },
	{ "setresgid",		PLEDGE_ID },
	{ "setgroups",		PLEDGE_ID },
	{ "setfsuid",		PLEDGE_ID },
	{ "setfsgid",		PLEDGE_ID },
	{ "capget",		PLEDGE_ID },
};

/* Arguments compared as the kernel reads them: int-sized, or masked. */
#define ARG32(n, v)	((struct scmp_arg_cmp){ (n), SCMP_CMP_MASKED_EQ, \
			    0xffffffffULL, (uint32_t)(v) })
#define ARGMASK(n, m, v) ((struct scmp_arg_cmp){ (n), SCMP_CMP_MASKED_EQ, \
			    (m), (v) })
#define ARGEQ(n, v)	((struct scmp_arg_cmp){ (n), SCMP_CMP_EQ, (v), 0 })

#define CLONE_NS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
			    CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
			    CLONE_NEWNET)
#define CLONE_THR	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
			    CLONE_THREAD)
#define O_TMPFILE_BIT	(O_TMPFILE & ~O_DIRECTORY)
#define OPEN_MASK	(O_ACCMODE | O_CREAT | O_TRUNC | O_TMPFILE_BIT)

#ifdef SANDBOX_DEBUG
#define VIOLATION	SCMP_ACT_TRAP
#else
#define VIOLATION	SCMP_ACT_KILL_PROCESS
#endif

static int	 parse_promises(const char *, uint32_t *);
static scmp_filter_ctx build_filter(uint32_t);
static int	 rule(scmp_filter_ctx, uint32_t, const char *, unsigned int,
		    const struct scmp_arg_cmp *);
static int	 open_allow(scmp_filter_ctx, uint64_t, uint64_t);
static int	 open_rules(scmp_filter_ctx, uint32_t);
static int	 socket_rules(scmp_filter_ctx, uint32_t);
static int	 signal_rules(scmp_filter_ctx, uint32_t);
static int	 misc_rules(scmp_filter_ctx, uint32_t);
#ifdef SANDBOX_SANITIZE
static int	 sanitizer_rules(scmp_filter_ctx, uint32_t);
#endif
static int	 caps_narrow(uint32_t);
#ifdef SANDBOX_DEBUG
static void	 debug_init(void);
static void	 debug_sigsys(int, siginfo_t *, void *);
#endif

static int	 pledged;
static int	 net_client;		/* no bind, listen, accept */
static int	 syslog_fd = -1;	/* sendsyslog()'s */
static uint32_t	 held = PLEDGE_ALL;
static int	 caps_known;		/* caps_kept is what we hold */
static uint64_t	 caps_kept;

int
pledge(const char *promises, const char *execpromises)
{
	scmp_filter_ctx	 ctx;
	uint32_t	 want;
	int		 rc, flags, saved;

	/*
	 * An exec'd program inherits the seccomp filter and cannot be given
	 * other promises: only NULL is accepted.
	 */
	if (execpromises != NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (promises == NULL)
		return (0);
	if (parse_promises(promises, &want) == -1) {
		errno = EINVAL;
		return (-1);
	}
	if ((want & ~held) != 0) {
		errno = EPERM;
		return (-1);
	}

	if (!pledged) {
		/* localtime(3) would open /etc/localtime on first use. */
		tzset();
		/* Made now: later, socket(2) may be refused. */
		syslog_fd = sandbox_syslog_fd();
#ifdef SANDBOX_DEBUG
		debug_init();
#endif
	}
	if ((ctx = build_filter(want)) == NULL)
		return (-1);

	flags = 0;
	if (want & PLEDGE_INET)
		flags |= SANDBOX_INET;
	if (want & PLEDGE_DNS)
		flags |= SANDBOX_DNS;
	if (want & PLEDGE_PROC)
		flags |= SANDBOX_PROC;
	if (want & PLEDGE_UNVEIL)
		flags |= SANDBOX_UNVEIL;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    sandbox_landlock_commit(flags) == -1 ||
	    caps_narrow(want) == -1)
		goto fail;
	if ((rc = seccomp_load(ctx)) != 0) {
		errno = -rc;
		goto fail;
	}
	seccomp_release(ctx);
	held = want;
	pledged = 1;
	return (0);

 fail:
	saved = errno;
	seccomp_release(ctx);
	errno = saved;
	return (-1);
}

int
sandbox_net_client(void)
{
	net_client = 1;
	return (0);
}

static int
parse_promises(const char *s, uint32_t *want)
{
	size_t	 len, i;

	*want = 0;
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			return (0);
		len = strcspn(s, " \t");
		for (i = 0; i < nitems(promise_names); i++) {
			if (strlen(promise_names[i].name) == len &&
			    strncmp(promise_names[i].name, s, len) == 0)
				break;
		}
		if (i == nitems(promise_names))
			return (-1);
		*want |= promise_names[i].flag;
		s += len;
	}
}

static scmp_filter_ctx
build_filter(uint32_t p)
{
	scmp_filter_ctx	 ctx;
	size_t		 i;
	int		 rc;

	if ((ctx = seccomp_init(VIOLATION)) == NULL) {
		errno = ENOMEM;
		return (NULL);
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) != 0)
		goto fail;

	for (i = 0; i < nitems(simple); i++) {
		if (simple[i].promises != P_ALWAYS &&
		    (simple[i].promises & p) == 0)
			continue;
		if (net_client && simple[i].promises == P_SOCKET)
			continue;
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, simple[i].name, 0,
		    NULL)) != 0)
			goto fail;
	}
	if ((rc = open_rules(ctx, p)) != 0 ||
	    (rc = socket_rules(ctx, p)) != 0 ||
	    (rc = signal_rules(ctx, p)) != 0 ||
	    (rc = misc_rules(ctx, p)) != 0)
		goto fail;
#ifdef SANDBOX_SANITIZE
	if ((rc = sanitizer_rules(ctx, p)) != 0)
		goto fail;
#endif
	return (ctx);

 fail:
	seccomp_release(ctx);
	errno = rc < 0 ? -rc : EINVAL;
	return (NULL);
}

static int
rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned int n,
    const struct scmp_arg_cmp *args)
{
	int	 nr;

	nr = seccomp_syscall_resolve_name(name);
	if (nr < 0)
		return (0);
	return (seccomp_rule_add_array(ctx, action, nr, n, args));
}

/* open(2) and openat(2) whose flags, masked, are these. */
static int
open_allow(scmp_filter_ctx ctx, uint64_t mask, uint64_t flags)
{
	struct scmp_arg_cmp	 a;
	int			 rc;

	a = ARGMASK(2, mask, flags);
	if ((rc = rule(ctx, SCMP_ACT_ALLOW, "openat", 1, &a)) != 0)
		return (rc);
	a = ARGMASK(1, mask, flags);
	return (rule(ctx, SCMP_ACT_ALLOW, "open", 1, &a));
}

/*
 * open and openat by access mode: reading needs rpath, writing or
 * truncating wpath, creating (O_CREAT, O_TMPFILE) cpath; a combination
 * needs each.  dns and getpw allow plain read-only opens.
 */
static int
open_rules(scmp_filter_ctx ctx, uint32_t p)
{
	static const int	 acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	static const int	 cr[] = { 0, O_CREAT, O_TMPFILE_BIT,
				    O_CREAT | O_TMPFILE_BIT };
	struct scmp_arg_cmp	 a;
	size_t			 i, j;
	int			 trunc, flags, ok, rc;

	for (i = 0; i < nitems(acc); i++) {
		for (j = 0; j < nitems(cr); j++) {
			for (trunc = 0; trunc <= O_TRUNC; trunc += O_TRUNC) {
				flags = acc[i] | cr[j] | trunc;
				if (flags == O_RDONLY)
					ok = (p & P_READ) != 0;
				else
					ok = (acc[i] == O_WRONLY ||
					    (p & (PLEDGE_RPATH |
					    PLEDGE_TMPPATH)) != 0) &&
					    ((acc[i] == O_RDONLY && !trunc) ||
					    (p & P_WRITE) != 0) &&
					    (cr[j] == 0 || (p & P_CREATE) != 0);
				if (!ok)
					continue;
				if ((rc = open_allow(ctx, OPEN_MASK,
				    flags)) != 0)
					return (rc);
			}
		}
	}
	if ((p & (PLEDGE_WPATH | PLEDGE_CPATH)) ==
	    (PLEDGE_WPATH | PLEDGE_CPATH) &&
	    (rc = rule(ctx, SCMP_ACT_ALLOW, "creat", 0, NULL)) != 0)
		return (rc);

	/* unveil(2) holds its paths open with O_PATH. */
	if (p & PLEDGE_UNVEIL &&
	    (rc = open_allow(ctx, O_PATH, O_PATH)) != 0)
		return (rc);

	/* Neither has flags seccomp can read: let callers fall back. */
	if ((rc = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "openat2", 0, NULL)) != 0 ||
	    (rc = rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "statx", 0, NULL)) != 0)
		return (rc);

	/* fstat(2) is newfstatat(fd, "", AT_EMPTY_PATH). */
	if (p & P_STAT)
		return (rule(ctx, SCMP_ACT_ALLOW, "newfstatat", 0, NULL));
	if (p & PLEDGE_STDIO) {
		a = ARGMASK(3, AT_EMPTY_PATH, AT_EMPTY_PATH);
		return (rule(ctx, SCMP_ACT_ALLOW, "newfstatat", 1, &a));
	}
	return (0);
}

static int
socket_rules(scmp_filter_ctx ctx, uint32_t p)
{
	/* TCP and UDP only: no SCTP or MPTCP beside Landlock's TCP rules. */
	static const struct {
		int	 type;
		int	 proto;
	} inet[] = {
		{ SOCK_STREAM,	0 },
		{ SOCK_STREAM,	IPPROTO_TCP },
		{ SOCK_DGRAM,	0 },
		{ SOCK_DGRAM,	IPPROTO_UDP },
	};
	static const int	 unix_types[] = { SOCK_STREAM, SOCK_DGRAM,
				    SOCK_SEQPACKET };
	struct scmp_arg_cmp	 a[3];
	uint64_t		 tmask;
	size_t			 i;
	int			 rc;

	tmask = 0xffffffffULL & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (p & (PLEDGE_INET | PLEDGE_DNS)) {
		for (i = 0; i < nitems(inet); i++) {
			a[0] = ARG32(0, AF_INET);
			a[1] = ARGMASK(1, tmask, inet[i].type);
			a[2] = ARG32(2, inet[i].proto);
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, "socket", 3,
			    a)) != 0)
				return (rc);
			a[0] = ARG32(0, AF_INET6);
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, "socket", 3,
			    a)) != 0)
				return (rc);
		}
	}
	if (p & PLEDGE_UNIX) {
		for (i = 0; i < nitems(unix_types); i++) {
			a[0] = ARG32(0, AF_UNIX);
			a[1] = ARGMASK(1, tmask, unix_types[i]);
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, "socket", 2,
			    a)) != 0)
				return (rc);
		}
	} else {
		a[0] = ARG32(0, AF_UNIX);
		if ((rc = rule(ctx, SCMP_ACT_ERRNO(EACCES), "socket", 1,
		    a)) != 0)
			return (rc);
	}
	if (p & PLEDGE_DNS) {
		a[0] = ARG32(0, AF_NETLINK);
		if ((rc = rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1,
		    a)) != 0)
			return (rc);
	}

	/*
	 * Without a network promise, send only where already connected,
	 * and to the log daemon by name on sendsyslog()'s socket.
	 */
	if (p & P_CONNECT)
		return (rule(ctx, SCMP_ACT_ALLOW, "sendto", 0, NULL));
	if (p & PLEDGE_STDIO) {
		a[0] = ARGEQ(4, 0);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "sendto", 1, a)) != 0)
			return (rc);
		if (syslog_fd != -1) {
			a[0] = ARG32(0, syslog_fd);
			return (rule(ctx, SCMP_ACT_ALLOW, "sendto", 1, a));
		}
	}
	return (0);
}

/*
 * Without "proc": threads but no processes, and signals only to
 * ourselves (our pid now, or 0 as OpenBSD allows).
 */
static int
signal_rules(scmp_filter_ctx ctx, uint32_t p)
{
	static const char	*targeted[] = { "kill", "tgkill",
				    "rt_sigqueueinfo", "rt_tgsigqueueinfo" };
	struct scmp_arg_cmp	 a;
	size_t			 i;
	pid_t			 self;
	int			 rc;

	if (p & PLEDGE_PROC) {
		/*
		 * A process, not a process group nor every process (-1):
		 * signalling a group would reach the starter's shell, and
		 * -1 everything root may signal.  Which processes are
		 * reachable is Landlock's to limit (sandbox_scope_signals).
		 */
		for (i = 0; i < nitems(targeted); i++) {
			a = ARGMASK(0, SIGN32, 0);
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, targeted[i], 1,
			    &a)) != 0)
				return (rc);
		}
		a = ARGMASK(0, CLONE_NS, 0);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &a)) != 0)
			return (rc);
	} else if (p & PLEDGE_STDIO) {
		self = getpid();
		for (i = 0; i < nitems(targeted); i++) {
			a = ARG32(0, self);
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, targeted[i], 1,
			    &a)) != 0)
				return (rc);
		}
		a = ARG32(0, 0);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "kill", 1, &a)) != 0)
			return (rc);
		a = ARGMASK(0, CLONE_NS | CLONE_THR, CLONE_THR);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "clone", 1, &a)) != 0)
			return (rc);
	}
	/* clone3 passes its flags in memory: glibc falls back to clone. */
	return (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL));
}

static int
misc_rules(scmp_filter_ctx ctx, uint32_t p)
{
	static const unsigned long fcntl_stdio[] = { F_DUPFD,
				    F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL,
				    F_SETFL };
	static const unsigned long fcntl_flock[] = { F_GETLK, F_SETLK,
				    F_SETLKW, F_OFD_GETLK, F_OFD_SETLK,
				    F_OFD_SETLKW };
	static const unsigned long ioctl_stdio[] = { FIONREAD, FIONBIO,
				    FIOCLEX, FIONCLEX, TCGETS, TIOCGWINSZ };
	static const unsigned long prctl_stdio[] = { PR_SET_NAME,
				    PR_GET_NAME, PR_GET_DUMPABLE,
				    PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS,
				    PR_GET_SECCOMP, PR_SET_SECCOMP,
				    PR_SET_VMA_ };
	struct scmp_arg_cmp	 a[2];
	size_t			 i;
	int			 rc;

	if ((p & PLEDGE_STDIO) == 0)
		return (0);

	for (i = 0; i < nitems(fcntl_stdio); i++) {
		a[0] = ARG32(1, fcntl_stdio[i]);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "fcntl", 1, a)) != 0)
			return (rc);
	}
	if (p & PLEDGE_FLOCK) {
		for (i = 0; i < nitems(fcntl_flock); i++) {
			a[0] = ARG32(1, fcntl_flock[i]);
			if ((rc = rule(ctx, SCMP_ACT_ALLOW, "fcntl", 1,
			    a)) != 0)
				return (rc);
		}
	}
	for (i = 0; i < nitems(ioctl_stdio); i++) {
		a[0] = ARG32(1, ioctl_stdio[i]);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "ioctl", 1, a)) != 0)
			return (rc);
	}
	for (i = 0; i < nitems(prctl_stdio); i++) {
		a[0] = ARG32(0, prctl_stdio[i]);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "prctl", 1, a)) != 0)
			return (rc);
	}

	/*
	 * getrlimit(3) is prlimit64(0, resource, NULL, old), setrlimit(3)
	 * the same with a new limit, which needs "proc" or "id".  Another
	 * process's limits and priority are no business of ours: root could
	 * starve or stall any process on the system with them.
	 */
	a[0] = ARG32(0, 0);
	if (p & (PLEDGE_PROC | PLEDGE_ID)) {
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "prlimit64", 1, a)) != 0)
			return (rc);
		a[0] = ARG32(1, 0);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "getpriority", 1,
		    a)) != 0 ||
		    (rc = rule(ctx, SCMP_ACT_ALLOW, "setpriority", 1, a)) != 0)
			return (rc);
	} else {
		a[1] = ARGEQ(2, 0);
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "prlimit64", 2, a)) != 0)
			return (rc);
	}

	/* No executable memory without prot_exec: W^X stays. */
	if (p & PLEDGE_PROTEXEC) {
		if ((rc = rule(ctx, SCMP_ACT_ALLOW, "mmap", 0, NULL)) != 0 ||
		    (rc = rule(ctx, SCMP_ACT_ALLOW, "mprotect", 0, NULL)) != 0)
			return (rc);
		return (0);
	}
	a[0] = ARGMASK(2, PROT_EXEC, 0);
	if ((rc = rule(ctx, SCMP_ACT_ALLOW, "mmap", 1, a)) != 0 ||
	    (rc = rule(ctx, SCMP_ACT_ALLOW, "mprotect", 1, a)) != 0)
		return (rc);
	if (p & PLEDGE_GETPW) {
		a[0] = ARGMASK(2, PROT_EXEC, PROT_EXEC);
		if ((rc = rule(ctx, SCMP_ACT_ERRNO(EACCES), "mmap", 1,
		    a)) != 0 ||
		    (rc = rule(ctx, SCMP_ACT_ERRNO(EACCES), "mprotect", 1,
		    a)) != 0)
			return (rc);
	}
	return (0);
}

#ifdef SANDBOX_SANITIZE
/*
 * make SANITIZE=1 only.  ASan and UBSan write a report with their own
 * system calls in the process that erred: readlink("/proc/self/exe"),
 * open("/proc/self/maps") and others for the stack's bounds and the
 * modules, then libbacktrace's stat and read of the binaries and their
 * debug files, for the symbols (gcc), or a fork of llvm-symbolizer
 * (clang).
 * A pledged process without "rpath" was killed by the first of them, so
 * the test saw SIGSYS and no report (CI, 651931f).  Reading is what they
 * need; nothing that writes, creates or executes is added, and Landlock
 * and the chroot still decide which files a read reaches.
 */
static int
sanitizer_rules(scmp_filter_ctx ctx, uint32_t p)
{
	int	 rc;

	if ((p & PLEDGE_STDIO) == 0)
		return (0);
	if ((p & P_STAT) == 0 &&
	    ((rc = rule(ctx, SCMP_ACT_ALLOW, "readlink", 0, NULL)) != 0 ||
	    (rc = rule(ctx, SCMP_ACT_ALLOW, "readlinkat", 0, NULL)) != 0 ||
	    (rc = rule(ctx, SCMP_ACT_ALLOW, "stat", 0, NULL)) != 0 ||
	    (rc = rule(ctx, SCMP_ACT_ALLOW, "lstat", 0, NULL)) != 0 ||
	    (rc = rule(ctx, SCMP_ACT_ALLOW, "newfstatat", 0, NULL)) != 0))
		return (rc);
	if ((p & P_READ) == 0 &&
	    (rc = open_allow(ctx, OPEN_MASK, O_RDONLY)) != 0)
		return (rc);
	/*
	 * clang's runtime forks llvm-symbolizer with the raw fork(2), which
	 * glibc never uses: refused, the report goes on without symbols.
	 */
	if ((p & PLEDGE_PROC) == 0)
		return (rule(ctx, SCMP_ACT_ERRNO(EACCES), "fork", 0, NULL));
	return (0);
}
#endif /* SANDBOX_SANITIZE */

/*
 * Keep only the capabilities the promises need.  The first time, a
 * process that holds any also empties its bounding set of the rest
 * (while it still has CAP_SETPCAP) and its inheritable and ambient sets;
 * later pledges narrow the permitted and effective sets further.  A
 * process without capabilities (not root, or root after setuid) is left
 * alone.
 */
static int
caps_narrow(uint32_t p)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];
	uint64_t			 keep = 0, have;
	int				 c;

	if (p & PLEDGE_PROC)
		keep |= CAPBIT(CAP_KILL);
	if (p & PLEDGE_ID)
		keep |= CAPBIT(CAP_SETUID) | CAPBIT(CAP_SETGID);
	if (p & PLEDGE_CHOWN)
		keep |= CAPBIT(CAP_CHOWN);
	if (p & PLEDGE_FATTR)
		keep |= CAPBIT(CAP_FOWNER);

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (!caps_known) {
		if (syscall(SYS_capget, &hdr, data) == -1)
			return (-1);
		have = data[0].permitted | (uint64_t)data[1].permitted << 32;
		caps_known = 1;
		caps_kept = have;
		if (have == 0)
			return (0);
		if (have & CAPBIT(CAP_SETPCAP)) {
			for (c = 0; c <= CAP_LAST_CAP; c++)
				if ((keep & CAPBIT(c)) == 0 &&
				    prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
				    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
					return (-1);
		}
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0,
		    0) == -1 && errno != EINVAL)
			return (-1);
	} else if ((caps_kept & ~keep) == 0)
		return (0);

	caps_kept &= keep;
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)caps_kept;
	data[1].permitted = data[1].effective = (uint32_t)(caps_kept >> 32);
	return (syscall(SYS_capset, &hdr, data) == -1 ? -1 : 0);
}

#ifdef SANDBOX_DEBUG
/*
 * The SIGSYS handler may not call malloc or stdio: the names and the
 * syslog socket are prepared at the first pledge.
 */
#define DEBUG_NSYSCALLS	512

static char		*debug_names[DEBUG_NSYSCALLS];
static const char	*debug_prog = "?";
static int		 debug_logfd = -1;

static void
debug_init(void)
{
	struct sigaction	 sa;
	struct sockaddr_un	 sun;
	uint32_t		 arch;
	int			 i;

	arch = seccomp_arch_native();
	for (i = 0; i < DEBUG_NSYSCALLS; i++)
		debug_names[i] = seccomp_syscall_resolve_num_arch(arch, i);
	if (getprogname() != NULL)
		debug_prog = getprogname();

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, "/dev/log", sizeof(sun.sun_path));
	debug_logfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (debug_logfd != -1 && connect(debug_logfd,
	    (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(debug_logfd);
		debug_logfd = -1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = debug_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

static size_t
debug_cat(char *buf, size_t len, size_t size, const char *s)
{
	while (*s != '\0' && len < size - 1)
		buf[len++] = *s++;
	buf[len] = '\0';
	return (len);
}

static size_t
debug_num(char *buf, size_t len, size_t size, unsigned long n)
{
	char	 tmp[24];
	int	 i = sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = '0' + n % 10;
		n /= 10;
	} while (n != 0 && i > 0);
	return (debug_cat(buf, len, size, tmp + i));
}

static void
debug_sigsys(int sig, siginfo_t *si, void *arg)
{
	ucontext_t	*uc = arg;
	char		 msg[256], pkt[300];
	size_t		 len = 0, plen = 0;
	int		 saved = errno, nr = si->si_syscall;

	len = debug_cat(msg, len, sizeof(msg), debug_prog);
	len = debug_cat(msg, len, sizeof(msg), "[");
	len = debug_num(msg, len, sizeof(msg), getpid());
	len = debug_cat(msg, len, sizeof(msg), "]: sandbox violation: ");
	if (nr >= 0 && nr < DEBUG_NSYSCALLS && debug_names[nr] != NULL)
		len = debug_cat(msg, len, sizeof(msg), debug_names[nr]);
	else {
		len = debug_cat(msg, len, sizeof(msg), "syscall ");
		len = debug_num(msg, len, sizeof(msg), nr);
	}
	if (debug_logfd != -1) {
		plen = debug_cat(pkt, plen, sizeof(pkt), "<27>");
		plen = debug_cat(pkt, plen, sizeof(pkt), msg);
		send(debug_logfd, pkt, plen, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	len = debug_cat(msg, len, sizeof(msg), "\n");
	write(STDERR_FILENO, msg, len);

	/* The call fails with ENOSYS and the process goes on. */
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = -ENOSYS;
#else
	_exit(1);
#endif
	errno = saved;
}
#endif /* SANDBOX_DEBUG */

/*
 * LeakSanitizer checks at exit by reading /proc and tracing threads, all
 * of which a pledged process may not do: it would die of SIGSYS at every
 * exit of an ASan build.  Skip the check once pledged.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN
#endif
#ifdef SANDBOX_ASAN
int	__lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
	return (pledged);
}
#endif
