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
 * What a child's start needs on Linux once the parent is confined.  A
 * process inherits its parent's seccomp filter and Landlock domain, and
 * exec(2) under no_new_privs keeps the capabilities to those the caller
 * holds: a confined parent cannot start a working child.  The spawner,
 * forked before the parent confines itself, can: sandbox_spawner() takes
 * from it all that a child's start does not need, and fork_sibling()
 * makes the new process the parent's child, which the parent reaps and
 * signals as the others.  On OpenBSD the parent keeps "proc exec" and
 * needs neither (compat/sandbox.h).
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <paths.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"

#define CAPBIT(c)	(1ULL << (c))

static int	interp_cb(struct dl_phdr_info *, size_t, void *);
static int	caps_keep(uint64_t);

/* The dynamic loader named in our own program's headers. */
static int
interp_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char	**interp = arg;
	int		  i;

	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP) {
			*interp = (const char *)(info->dlpi_addr +
			    info->dlpi_phdr[i].p_vaddr);
			break;
		}
	return (1);	/* the program comes first: that is all */
}

/*
 * Keep these capabilities only: permitted, effective and the bounding
 * set, which is what an exec under no_new_privs can give back.
 */
static int
caps_keep(uint64_t keep)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];
	uint64_t			 have;
	int				 c;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return (-1);
	have = data[0].permitted | (uint64_t)data[1].permitted << 32;
	if (have == 0)
		return (0);		/* not root: nothing to keep */
	if (have & CAPBIT(CAP_SETPCAP))
		for (c = 0; c <= CAP_LAST_CAP; c++)
			if ((keep & CAPBIT(c)) == 0 &&
			    prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
			    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
				return (-1);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return (-1);
	have &= keep;
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (uint32_t)have;
	data[1].permitted = data[1].effective = (uint32_t)(have >> 32);
	return (syscall(SYS_capset, &hdr, data) == -1 ? -1 : 0);
}

/*
 * Files: read anything (a child reads its CA files and the password
 * file before it confines itself), write nothing but /dev/null (its
 * standard error until it serves), execute nothing but this program and
 * its loader.  Capabilities: those that a child's drop_privileges()
 * uses, CAP_SETUID, CAP_SETGID and CAP_SYS_CHROOT.  No seccomp filter:
 * it would pass to the children through exec, and a child's start needs
 * nearly every call; each child pledges its own.
 */
int
sandbox_spawner(const char *self)
{
	const char	*interp = NULL;

	dl_iterate_phdr(interp_cb, &interp);
	if (unveil("/", "r") == -1 ||
	    unveil(_PATH_DEVNULL, "rw") == -1 ||
	    unveil(self, "rx") == -1 ||
	    (interp != NULL && unveil(interp, "rx") == -1) ||
	    unveil(NULL, NULL) == -1)
		return (-1);
	return (caps_keep(CAPBIT(CAP_SETUID) | CAPBIT(CAP_SETGID) |
	    CAPBIT(CAP_SYS_CHROOT)));
}

/*
 * fork(2), but the new process is our parent's child: the parent waits
 * for it, hears of its death by SIGCHLD and signals it within its own
 * Landlock signal scope.  The child must exec or _exit at once: glibc's
 * fork handlers did not run.
 */
pid_t
fork_sibling(void)
{
	return (syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL,
	    NULL));
}
