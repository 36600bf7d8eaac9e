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
 * unveil(2) on Linux through Landlock.
 *
 * unveil(path, perms) opens the path at once (O_PATH), so a later chroot or
 * chdir does not change what it names, and remembers it.  The rules become
 * one Landlock ruleset on unveil(NULL, NULL) or at the next pledge(2) that
 * does not hold "unveil"; from then on unveil() fails with EPERM, as on
 * OpenBSD.  pledge(2) also asks for a Landlock layer that confines TCP
 * ports (ABI >= 4) and scopes signals and abstract unix sockets (ABI >= 6);
 * see sandbox_landlock_commit().
 *
 * Landlock differs from unveil in ways callers must know:
 * - rules only add: a narrower unveil below a broader one does not narrow,
 *   and unveil(path, "") cannot hide anything below an unveiled directory;
 * - the path must exist (ENOENT otherwise); "c" means something only on a
 *   directory, where it allows creating, renaming and removing entries;
 * - denied opens fail with EACCES, not ENOENT; stat(2), access(2) and
 *   chdir(2) are not confined (seccomp confines them by promise);
 * - before ABI 8 a ruleset confines only the calling thread and the
 *   threads it creates later, so commit before creating threads: with
 *   other threads around, file rules and ports are refused (EBUSY) and
 *   the implicit TCP and signal scoping is left out, when we can tell
 *   (see other_threads()).
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "sandbox.h"

/*
 * The kernel interface, spelt out here: Debian 12's headers stop before
 * the network and scope fields.  The syscall numbers are the same on
 * every architecture.
 */
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset	444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule		445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self	446
#endif

#define LL_CREATE_RULESET_VERSION	(1U << 0)
#define LL_RULE_PATH_BENEATH		1
#define LL_RULE_NET_PORT		2
#define LL_RESTRICT_SELF_TSYNC		(1U << 3)	/* ABI 8 */

#define LL_FS_EXECUTE			(1ULL << 0)
#define LL_FS_WRITE_FILE		(1ULL << 1)
#define LL_FS_READ_FILE			(1ULL << 2)
#define LL_FS_READ_DIR			(1ULL << 3)
#define LL_FS_REMOVE_DIR		(1ULL << 4)
#define LL_FS_REMOVE_FILE		(1ULL << 5)
#define LL_FS_MAKE_CHAR			(1ULL << 6)
#define LL_FS_MAKE_DIR			(1ULL << 7)
#define LL_FS_MAKE_REG			(1ULL << 8)
#define LL_FS_MAKE_SOCK			(1ULL << 9)
#define LL_FS_MAKE_FIFO			(1ULL << 10)
#define LL_FS_MAKE_BLOCK		(1ULL << 11)
#define LL_FS_MAKE_SYM			(1ULL << 12)
#define LL_FS_REFER			(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE			(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV			(1ULL << 15)	/* ABI 5 */

#define LL_NET_BIND_TCP			(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP		(1ULL << 1)

#define LL_SCOPE_ABSTRACT_UNIX		(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL			(1ULL << 1)

/* Rights that make sense on a file; the rest apply to directories only. */
#define LL_FS_FILE	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | \
			    LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t	allowed_access;
	int32_t		parent_fd;
} __attribute__((__packed__));

struct ll_net_port_attr {
	uint64_t	allowed_access;
	uint64_t	port;
};

#define UV_R	0x01
#define UV_W	0x02
#define UV_X	0x04
#define UV_C	0x08

struct unveil_rule {
	TAILQ_ENTRY(unveil_rule) entry;
	dev_t		 dev;
	ino_t		 ino;
	int		 fd;
	int		 isdir;
	int		 perms;
};

/* How far TCP is confined; each step only narrows. */
enum net_state {
	NET_OPEN,
	NET_PORTS,
	NET_NONE
};

static TAILQ_HEAD(, unveil_rule) rules = TAILQ_HEAD_INITIALIZER(rules);
static int		 ll_abi = -1;
static int		 ll_errno;
static int		 fs_locked;
static int		 net_locked;
static int		 net_deny;
static enum net_state	 net_state = NET_OPEN;
static int		 net_dns;	/* 53 passes NET_PORTS too */
static uint64_t		 scoped_done;
static uint16_t		*ports;
static size_t		 nports;
static int		 warned;
static int		 warned_threads;

static uint64_t	 fs_rights(int);
static uint64_t	 rule_access(const struct unveil_rule *, int);
static int	 parse_perms(const char *, int *);
static int	 other_threads(void);
static int	 add_port(int, uint16_t);
static int	 landlock_layer(int, int, enum net_state, int, uint64_t);
static void	 rules_free(void);

/* The daemon's logger, when it is linked in. */
extern void	 vlog(int, const char *, va_list) __attribute__((__weak__));

void
sandbox_log(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (vlog != NULL)
		vlog(pri, fmt, ap);
	else {
		fprintf(stderr, "%s: ", getprogname());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

int
sandbox_landlock_abi(void)
{
	long	 v;

	if (ll_abi == -1) {
		v = syscall(SYS_landlock_create_ruleset, NULL, 0,
		    LL_CREATE_RULESET_VERSION);
		if (v >= 1)
			ll_abi = v;
		else if (errno == ENOSYS || errno == EOPNOTSUPP)
			ll_abi = 0;	/* not built in, or disabled at boot */
		else {
			ll_errno = errno;
			return (-1);
		}
	}
	return (ll_abi);
}

int
sandbox_net_connect(uint16_t port)
{
	size_t	 i;
	uint16_t *p;

	if (net_locked) {
		errno = EPERM;
		return (-1);
	}
	if (port == 0) {
		errno = EINVAL;
		return (-1);
	}
	for (i = 0; i < nports; i++)
		if (ports[i] == port)
			return (0);
	if ((p = reallocarray(ports, nports + 1, sizeof(*p))) == NULL)
		return (-1);
	ports = p;
	ports[nports++] = port;
	return (0);
}

/*
 * A layer that scopes signals and nothing else, for a process that is
 * about to start the children it must go on signalling: they inherit
 * it, and what is started later (their own layers) lies within it.
 */
int
sandbox_scope_signals(void)
{
	int	 abi;

	if ((abi = sandbox_landlock_abi()) == -1) {
		errno = ll_errno;
		return (-1);
	}
	if (abi < 6 || (scoped_done & LL_SCOPE_SIGNAL))
		return (0);
	return (landlock_layer(abi, 0, net_state, 0, LL_SCOPE_SIGNAL));
}

int
sandbox_net_allowed(uint16_t port)
{
	size_t	 i;

	switch (net_state) {
	case NET_OPEN:
		return (1);
	case NET_NONE:
		return (0);
	case NET_PORTS:
		break;
	}
	if (port == 53 && net_dns)
		return (1);
	for (i = 0; i < nports; i++)
		if (ports[i] == port)
			return (1);
	return (0);
}

int
sandbox_net_deny(void)
{
	if (net_locked) {
		errno = EPERM;
		return (-1);
	}
	net_deny = 1;
	return (0);
}

int
unveil(const char *path, const char *permissions)
{
	struct unveil_rule	*r;
	struct stat		 sb;
	int			 fd, perms, saved, abi;

	if (path == NULL && permissions == NULL) {
		if (fs_locked) {
			errno = EPERM;
			return (-1);
		}
		if ((abi = sandbox_landlock_abi()) == -1) {
			errno = ll_errno;
			return (-1);
		}
		fs_locked = 1;
		return (landlock_layer(abi, 1, net_state, 0, 0));
	}
	if (path == NULL || permissions == NULL ||
	    parse_perms(permissions, &perms) == -1) {
		errno = EINVAL;
		return (-1);
	}
	if (fs_locked) {
		errno = EPERM;
		return (-1);
	}
	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return (-1);
	if (fstat(fd, &sb) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (-1);
	}

	/* As on OpenBSD, unveiling the same path again replaces its perms. */
	TAILQ_FOREACH(r, &rules, entry) {
		if (r->dev == sb.st_dev && r->ino == sb.st_ino) {
			r->perms = perms;
			close(fd);
			return (0);
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		close(fd);
		errno = ENOMEM;
		return (-1);
	}
	r->dev = sb.st_dev;
	r->ino = sb.st_ino;
	r->fd = fd;
	r->isdir = S_ISDIR(sb.st_mode);
	r->perms = perms;
	TAILQ_INSERT_TAIL(&rules, r, entry);
	return (0);
}

/*
 * Called by pledge() before it installs its seccomp filter: the pending
 * file rules (unless "unveil" is pledged), the TCP ports and the scopes
 * the promises ask for, as one new Landlock layer when anything narrows.
 */
int
sandbox_landlock_commit(int flags)
{
	enum net_state	 net;
	uint64_t	 scope;
	int		 abi, fs;

	if ((abi = sandbox_landlock_abi()) == -1) {
		errno = ll_errno;
		return (-1);
	}

	if (nports > 0 || net_deny || ((flags & SANDBOX_INET) == 0 &&
	    (flags & SANDBOX_DNS) != 0))
		net = NET_PORTS;
	else if ((flags & SANDBOX_INET) == 0)
		net = NET_NONE;
	else
		net = NET_OPEN;
	net_locked = 1;

	/*
	 * A process with "proc" signals its children, which it started
	 * before this domain existed; scoping would cut it off from them.
	 */
	scope = LL_SCOPE_ABSTRACT_UNIX;
	if ((flags & SANDBOX_PROC) == 0)
		scope |= LL_SCOPE_SIGNAL;

	fs = !fs_locked && (flags & SANDBOX_UNVEIL) == 0;
	if (fs)
		fs_locked = 1;
	return (landlock_layer(abi, fs, net, (flags & SANDBOX_DNS) != 0,
	    scope));
}

static uint64_t
fs_rights(int abi)
{
	uint64_t	 r;

	r = (LL_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return (r);
}

static uint64_t
rule_access(const struct unveil_rule *r, int abi)
{
	uint64_t	 a = 0;

	if (r->perms & UV_R)
		a |= LL_FS_READ_FILE | LL_FS_READ_DIR;
	if (r->perms & UV_W)
		a |= LL_FS_WRITE_FILE | LL_FS_TRUNCATE;
	if (r->perms & (UV_R | UV_W))
		a |= LL_FS_IOCTL_DEV;
	if (r->perms & UV_X)
		a |= LL_FS_EXECUTE;
	if (r->perms & UV_C)
		a |= LL_FS_MAKE_REG | LL_FS_MAKE_DIR | LL_FS_MAKE_SYM |
		    LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_REMOVE_FILE |
		    LL_FS_REMOVE_DIR | LL_FS_REFER;
	a &= fs_rights(abi);
	if (!r->isdir)
		a &= LL_FS_FILE;
	return (a);
}

static int
parse_perms(const char *s, int *perms)
{
	*perms = 0;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case 'r':
			*perms |= UV_R;
			break;
		case 'w':
			*perms |= UV_W;
			break;
		case 'x':
			*perms |= UV_X;
			break;
		case 'c':
			*perms |= UV_C;
			break;
		default:
			return (-1);
		}
	}
	return (0);
}

/*
 * Before ABI 8 a ruleset confines the calling thread only: refuse when
 * other threads exist rather than leave them unconfined.  We can tell
 * only while files can be opened (no seccomp filter yet, /proc reachable,
 * not in a chroot); elsewhere callers must keep the documented order.
 */
static int
other_threads(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2)
		return (0);
	if ((d = opendir("/proc/self/task")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n > 1);
}

static int
add_port(int fd, uint16_t port)
{
	struct ll_net_port_attr	 np;

	memset(&np, 0, sizeof(np));
	np.allowed_access = LL_NET_CONNECT_TCP;
	np.port = port;
	return (syscall(SYS_landlock_add_rule, fd, LL_RULE_NET_PORT, &np, 0) ==
	    -1 ? -1 : 0);
}

/*
 * One Landlock layer: the file rules when fs is set, TCP when net narrows
 * what is already applied, and the scopes not applied yet.  Parts the
 * kernel's ABI lacks are dropped with one log line.
 */
static int
landlock_layer(int abi, int fs, enum net_state net, int dns, uint64_t scope)
{
	struct ll_ruleset_attr		 attr;
	struct ll_path_beneath_attr	 pb;
	struct unveil_rule		*r;
	size_t				 size, i;
	int				 fd, saved;
	unsigned int			 rflags = 0;

	if (abi == 0) {
		if (!warned)
			sandbox_log(LOG_WARNING,
			    "landlock unavailable: files are not confined");
		warned = 1;
		if (fs)
			rules_free();
		return (0);
	}

	memset(&attr, 0, sizeof(attr));
	if (fs && !TAILQ_EMPTY(&rules))
		attr.handled_access_fs = fs_rights(abi);
	if (net > net_state) {
		if (abi >= 4)
			attr.handled_access_net = LL_NET_BIND_TCP |
			    LL_NET_CONNECT_TCP;
		else if (!warned) {
			sandbox_log(LOG_INFO, "landlock ABI %d: TCP ports "
			    "are not confined", abi);
			warned = 1;
		}
	}
	if (abi >= 6)
		attr.scoped = scope & ~scoped_done;
	if (attr.handled_access_fs == 0 && attr.handled_access_net == 0 &&
	    attr.scoped == 0) {
		if (fs)
			rules_free();
		return (0);
	}

	if (abi >= 6)
		size = sizeof(attr);
	else if (abi >= 4)
		size = offsetof(struct ll_ruleset_attr, scoped);
	else
		size = offsetof(struct ll_ruleset_attr, handled_access_net);
	if ((fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0)) == -1)
		return (-1);

	if (attr.handled_access_fs != 0) {
		TAILQ_FOREACH(r, &rules, entry) {
			memset(&pb, 0, sizeof(pb));
			pb.allowed_access = rule_access(r, abi);
			pb.parent_fd = r->fd;
			/* Nothing allowed beneath: no rule is the same. */
			if (pb.allowed_access == 0)
				continue;
			if (syscall(SYS_landlock_add_rule, fd,
			    LL_RULE_PATH_BENEATH, &pb, 0) == -1)
				goto fail;
		}
	}
	if (attr.handled_access_net != 0 && net == NET_PORTS) {
		for (i = 0; i < nports; i++)
			if (add_port(fd, ports[i]) == -1)
				goto fail;
		if (dns && add_port(fd, 53) == -1)
			goto fail;
	}

	/*
	 * Before ABI 8 only this thread would be confined.  What the caller
	 * asked for (file rules, ports) must cover the whole process: refuse.
	 * The rest is hardening beyond seccomp: leave it out, and say so.
	 */
	if (abi >= 8)
		rflags |= LL_RESTRICT_SELF_TSYNC;
	else if (other_threads()) {
		if (attr.handled_access_fs != 0 || nports > 0) {
			errno = EBUSY;
			goto fail;
		}
		if (!warned_threads)
			sandbox_log(LOG_INFO, "landlock: threads exist, TCP "
			    "and signal scoping left out");
		warned_threads = 1;
		close(fd);
		return (0);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    syscall(SYS_landlock_restrict_self, fd, rflags) == -1)
		goto fail;
	close(fd);

	if (attr.handled_access_net != 0) {
		net_state = net;
		net_dns = dns;
	}
	scoped_done |= attr.scoped;
	if (fs)
		rules_free();
	return (0);

 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

static void
rules_free(void)
{
	struct unveil_rule	*r;

	while ((r = TAILQ_FIRST(&rules)) != NULL) {
		TAILQ_REMOVE(&rules, r, entry);
		close(r->fd);
		free(r);
	}
}
