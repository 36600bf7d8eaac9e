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
 * The one portability header.  On Linux every source file is compiled with
 * "-include compat/compat.h", so the daemon's code reads as on OpenBSD.
 * libbsd (overlay mode) supplies <sys/queue.h>, <sys/tree.h>, strlcpy,
 * strtonum, setproctitle and friends; what it lacks is declared here and
 * implemented in compat/.
 */

#ifndef SCAMBACK_COMPAT_H
#define SCAMBACK_COMPAT_H

#ifndef __OpenBSD__

#include <sys/types.h>
#include <sys/cdefs.h>

#ifndef __dead
#define __dead		__attribute__((__noreturn__))
#endif

#ifndef __unused
#define __unused	__attribute__((__unused__))
#endif

#ifndef INFTIM
#define INFTIM		(-1)
#endif

/* pledge(2) through seccomp, unveil(2) through Landlock: compat/pledge.c, compat/unveil.c */
int	pledge(const char *, const char *);
int	unveil(const char *, const char *);

/* sendsyslog(2), by the log socket's name: compat/syslog.c */
int	sendsyslog(const char *, size_t, int);

/*
 * First in main() on Linux: malloc readied for the sandbox, argv[0] made
 * the program's absolute path, and setproctitle(3) given the argument
 * vector to write over.
 */
void	compat_init(int, char *[]);

#else /* __OpenBSD__ */

/* Nothing to do: main() includes this header for it on OpenBSD too. */
static inline void
compat_init(int argc, char *argv[])
{
}

#endif /* !__OpenBSD__ */

#endif /* SCAMBACK_COMPAT_H */
