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
 * Additions to pledge(2) and unveil(2) for TCP ports and signals: what
 * Landlock can confine on Linux beyond files.  OpenBSD's "inet" promise
 * has no ports to name, so there these do nothing and every port stays
 * allowed; its "proc" reaches only processes of the same user.  The
 * daemon calls them on both without #ifdef.
 */

#ifndef SCAMBACK_SANDBOX_H
#define SCAMBACK_SANDBOX_H

#include <sys/types.h>

#include <stdint.h>
#include <unistd.h>

#ifdef __OpenBSD__

static inline int
sandbox_net_connect(uint16_t port)
{
	return (0);
}

static inline int
sandbox_net_deny(void)
{
	return (0);
}

static inline int
sandbox_net_allowed(uint16_t port)
{
	return (1);
}

static inline int
sandbox_scope_signals(void)
{
	return (0);
}

static inline int
sandbox_net_client(void)
{
	return (0);
}

/* The parent keeps "proc exec" and starts children itself. */
#define SANDBOX_SPAWNER	0

static inline int
sandbox_spawner(const char *self)
{
	return (0);
}

static inline pid_t
fork_sibling(void)
{
	return (fork());
}

#else /* !__OpenBSD__ */

/*
 * Allow TCP connect(2) to this port.  Call before the first pledge(2);
 * afterwards it fails with EPERM.  Once any port is registered, or when
 * "inet" is not pledged, Landlock (ABI >= 4) denies every other TCP
 * connect and every TCP bind.  Without Landlock ABI 4 it records the port
 * and returns 0: the kernel cannot confine ports.
 */
int	sandbox_net_connect(uint16_t);

/*
 * Deny every TCP connect(2) and bind(2) but to the ports registered
 * above, even when "inet" is pledged: for a process that pledges "inet"
 * only to accept(2) on a listening socket it already holds.  Call before
 * the first pledge(2); afterwards it fails with EPERM.
 */
int	sandbox_net_deny(void);

/*
 * Whether the sandbox in place lets connect(2) reach this TCP port: 0
 * only once a Landlock layer confines ports (ABI >= 4) and this one is
 * not among those registered (or 53 with "dns").
 */
int	sandbox_net_allowed(uint16_t);

/*
 * Scope signals now (Landlock ABI >= 6): from here on this process may
 * signal only itself and the processes it starts from now on, with
 * whatever those start, never a process that was running before.  For a
 * process that keeps "proc" to stop its children, which a scope taken at
 * pledge(2) would cut off; call it before starting them.  Below ABI 6 it
 * does nothing and returns 0: seccomp cannot tell the children apart.
 */
int	sandbox_scope_signals(void);

/*
 * This process only connects: from its next pledge(2) on, "inet" no
 * longer allows bind(2), listen(2), accept(2) or accept4(2); they kill
 * as any other violation.  Landlock's TCP rules see explicit binds only:
 * listen(2) on an unbound socket binds it to every address, and UDP is
 * not Landlock's at all.  Call before pledge(2).
 */
int	sandbox_net_client(void);

/*
 * A confined parent cannot start a child (compat/spawn.c): a spawner
 * forked before its sandbox starts them for it.
 */
#define SANDBOX_SPAWNER	1

/*
 * Confine a spawner: read any file, write only /dev/null, execute only
 * self (an absolute path) and its dynamic loader; keep CAP_SETUID,
 * CAP_SETGID and CAP_SYS_CHROOT.  No seccomp filter (children inherit it).
 */
int	sandbox_spawner(const char *);

/* fork(2) whose child is the caller's parent's: exec or _exit at once. */
pid_t	fork_sibling(void);

/* The Landlock ABI version of the running kernel; 0 without Landlock. */
int	sandbox_landlock_abi(void);

/*
 * Internal: pledge.c asks unveil.c to commit Landlock before it installs
 * the seccomp filter.  The flags describe the promises being pledged.
 */
#define SANDBOX_INET	0x01	/* "inet": TCP open unless ports registered */
#define SANDBOX_DNS	0x02	/* "dns": TCP connect to port 53 */
#define SANDBOX_PROC	0x04	/* "proc": signals stay unscoped */
#define SANDBOX_UNVEIL	0x08	/* "unveil": file rules stay open */
int	sandbox_landlock_commit(int);

/*
 * Internal: sendsyslog()'s socket, made at once if need be; pledge(2)
 * lets it send to the log daemon under "stdio".  -1 if it cannot be made.
 */
int	sandbox_syslog_fd(void);

/*
 * Internal: one log line through the daemon's vlog() when it is linked
 * in, otherwise on stderr.
 */
void	sandbox_log(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));

#endif /* __OpenBSD__ */

#endif /* SCAMBACK_SANDBOX_H */
