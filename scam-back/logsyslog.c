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
 * The daemon's own syslog(3), linked into scam-back alone (the unit tests
 * keep libc's): libraries that log, libmilter's errors above all, call
 * it, and their lines join ours with our facility, process name and
 * destination: standard error with -d, the parent's relay without.
 * libc's would connect to /dev/log on its own, which a chrooted child
 * cannot reach and a pledged one may not try.  glibc's fortified names
 * for the same functions are in compat/syslog_chk.c.
 */

#include <stdarg.h>
#include <syslog.h>

#include "log.h"

void
syslog(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri & LOG_PRIMASK, fmt, ap);
	va_end(ap);
}

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	vlog(pri & LOG_PRIMASK, fmt, ap);
}
