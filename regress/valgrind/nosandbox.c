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
 * The sandbox switched off, for `make valgrind' only: valgrind makes
 * system calls of its own on the daemon's behalf (and reads files the
 * daemon never would), which seccomp and Landlock rightly refuse.
 * These take the place of everything compat/pledge.c and compat/unveil.c
 * give the daemon; the GNUmakefile leaves those two out of this link, so
 * the daemon runs exactly as built, only unconfined.  A function added to
 * either (and called by the daemon) needs its stand-in here: the link
 * says which.  Never linked into scam-back/scam-back.
 */

#include <stdint.h>

#include "sandbox.h"

int
pledge(const char *promises, const char *execpromises)
{
	return (0);
}

int
unveil(const char *path, const char *permissions)
{
	return (0);
}

int
sandbox_net_connect(uint16_t port)
{
	return (0);
}

int
sandbox_net_allowed(uint16_t port)
{
	return (1);
}

int
sandbox_net_deny(void)
{
	return (0);
}

int
sandbox_net_client(void)
{
	return (0);
}

int
sandbox_scope_signals(void)
{
	return (0);
}
