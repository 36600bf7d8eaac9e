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
 * glibc: what _FORTIFY_SOURCE makes of syslog(3) in the libraries the
 * daemon links, libmilter above all.  They go where the daemon's own
 * syslog(3) (scam-back/logsyslog.c) sends its lines.  Linked into
 * scam-back alone, as logsyslog.c is; OpenBSD has no such names.
 * <bits/syslog.h> declares them only for fortified builds.
 */

#include <stdarg.h>
#include <syslog.h>

#include "log.h"

void	__syslog_chk(int, int, const char *, ...);
void	__vsyslog_chk(int, int, const char *, va_list);

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri & LOG_PRIMASK, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	vlog(pri & LOG_PRIMASK, fmt, ap);
}
