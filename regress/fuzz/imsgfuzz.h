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
 * Shared by the imsg fuzz targets (regress/fuzz/fuzz_imsg_*.c).
 *
 * SPEC section 3: a malformed imsg is fatal for its receiver.  So the
 * property fuzzed is that any byte stream on a process's socket ends in
 * the messages being handled or in fatal()/fatalx()/exit() - never in a
 * crash, an out-of-bounds access or undefined behaviour first.  This file
 * replaces log.c (so log.o is not linked): logging is silent (FUZZ_VERBOSE
 * set: on stderr), and fatal,
 * fatalx and the exits of the included process source return to the
 * harness with longjmp.  A process that would have exited leaves memory
 * behind, so these targets run without leak detection; the valgrind run
 * of the integration tests looks for leaks instead.
 *
 * The bytes reach the receiver as they would in the daemon: written into
 * a socketpair and read by imsgbuf_read(), so the imsg framing layer
 * (compat/imsg.c, imsg-buffer.c) is fuzzed along.
 *
 * Include this file once before the process source and once after it:
 * the second time it adds the seed writer, which needs scam-back.h.
 */

#ifndef IMSGFUZZ_H
#define IMSGFUZZ_H

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);
const char *__asan_default_options(void);

static jmp_buf	fuzz_jmp;
static int	fuzz_armed;
static int	fuzz_verbose;

/* How a fed stream ended: read whole, fatal, or an exit of the process. */
enum fuzz_end {
	FUZZ_DONE,
	FUZZ_FATAL,
	FUZZ_EXIT
};

static __dead void
fuzz_unwind(enum fuzz_end how)
{
	if (!fuzz_armed)
		abort();
	longjmp(fuzz_jmp, how);
}

/* The exits of the process source included after this file. */
static __dead void
fuzz_exit(int status)
{
	fuzz_unwind(FUZZ_EXIT);
}

const char *
__asan_default_options(void)
{
	return ("detect_leaks=0");
}

/* --- log.c, silent unless FUZZ_VERBOSE is set ------------------------- */

void
log_init(int n_debug, int facility)
{
}

void
log_procinit(const char *procname)
{
}

void
log_stderr(int on)
{
}

void
log_setverbose(int v)
{
}

int
log_getverbose(void)
{
	return (0);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	if (fuzz_verbose) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	fuzz_unwind(FUZZ_FATAL);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	fuzz_unwind(FUZZ_FATAL);
}

/* --- the socket ------------------------------------------------------- */

/*
 * A socketpair with the data written into fds[1], as much as fits: the
 * receiver reads fds[0].  0, or -1 when no socket could be made.
 */
static int
fuzz_socket(int fds[2], const uint8_t *data, size_t size)
{
	int	bufsz = 1 << 20;
	ssize_t	n;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		return (-1);
	(void)setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &bufsz,
	    sizeof(bufsz));
	(void)setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &bufsz,
	    sizeof(bufsz));
	if (fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		close(fds[0]);
		close(fds[1]);
		return (-1);
	}
	while (size > 0) {
		if ((n = write(fds[1], data, size)) <= 0)
			break;
		data += n;
		size -= n;
	}
	return (0);
}

/* Bytes still waiting to be read on fd. */
static int
fuzz_pending(int fd)
{
	int	n;

	if (ioctl(fd, FIONREAD, &n) == -1)
		return (0);
	return (n);
}

#include "fuzzmain.h"
#endif /* IMSGFUZZ_H */

/*
 * Seeds: a real configuration as config_send() writes it, and single
 * messages, each an input file of seed_dir whose first byte picks the
 * peer.  Written when FUZZ_SEEDS names a directory; the files are
 * kept in regress/fuzz/corpus_imsg_*.
 */
#if defined(SCAMBACK_H) && !defined(FUZZ_IMSG_SEEDS)
#define FUZZ_IMSG_SEEDS

/* A peer of the process: a socket whose other end nobody reads. */
static __unused void
fuzz_sink(struct imsgev *iev, void (*dispatch)(int, short, void *),
    void *arg)
{
	int	fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		abort();
	imsgev_init(iev, fds[0], dispatch, arg);
}

/* What a process wrote to a peer is dropped unread. */
static __unused void
fuzz_reset(struct imsgev *iev)
{
	int	fd = iev->ibuf.fd;

	imsgbuf_clear(&iev->ibuf);
	if (imsgbuf_init(&iev->ibuf, fd) == -1)
		abort();
	imsgbuf_allow_fdpass(&iev->ibuf);
}

/*
 * One input for a process: the bytes arrive on a fresh socket in place
 * of the peer's (iev) and its dispatch reads them, then the peer goes
 * away; fatal() and exit() come back here.  run_due: let the event loop
 * run what has come due meanwhile (connections failing).  iev is itself
 * again afterwards.
 */
static __unused void
fuzz_feed(struct imsgev *iev, void (*dispatch)(int, short, void *),
    const uint8_t *data, size_t size, int run_due)
{
	struct imsgev	saved;
	int		fds[2], i;

	if (fuzz_socket(fds, data, size) == -1)
		return;
	saved = *iev;
	event_del(&iev->ev);
	if (imsgbuf_init(&iev->ibuf, fds[0]) == -1)
		abort();
	imsgbuf_allow_fdpass(&iev->ibuf);
	event_set(&iev->ev, fds[0], EV_READ, dispatch, iev);

	fuzz_armed = 1;
	if (setjmp(fuzz_jmp) == 0) {
		for (i = 0; i < 64 && fuzz_pending(fds[0]) > 0; i++)
			dispatch(fds[0], EV_READ, iev);
		if (run_due)
			event_loop(EVLOOP_NONBLOCK);
		close(fds[1]);
		fds[1] = -1;
		dispatch(fds[0], EV_READ, iev);
	}
	fuzz_armed = 0;

	event_del(&iev->ev);
	imsgbuf_clear(&iev->ibuf);
	close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	*iev = saved;
	event_set(&iev->ev, iev->ibuf.fd, EV_READ, dispatch, iev);
}

/*
 * One input for a process with two peers: its first byte picks the
 * peer it comes from (odd: a, even: b), the rest is fed to dispatch;
 * what the process wrote to either is dropped.
 */
static __unused void
fuzz_feed_one_of(struct imsgev *a, struct imsgev *b,
    void (*dispatch)(int, short, void *), const uint8_t *data, size_t size,
    int run_due)
{
	if (size < 1)
		return;
	fuzz_feed(data[0] & 1 ? a : b, dispatch, data + 1, size - 1, run_due);
	fuzz_reset(a);
	fuzz_reset(b);
}

static const char	*seed_dir;
static int		 seed_n;

/*
 * What each target's LLVMFuzzerInitialize() does first: FUZZ_VERBOSE
 * set logs on stderr, FUZZ_SEEDS=dir writes the target's seeds there.
 */
static __unused void
fuzz_start(void (*seeds)(void))
{
	fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
	if ((seed_dir = getenv("FUZZ_SEEDS")) != NULL)
		seeds();
	event_init();
}

static const char	 seed_conf[] =
    "hostname \"gw.example.org\"\n"
    "probe sender \"probe@example.org\"\n"
    "timeout connect 2\ntimeout reply 3\nbackoff 10\n"
    "unreachable tempfail\ninvalid discard\n"
    "cache size 5000\n"
    "skip from { 192.0.2.0/24 2001:db8::/32 }\n"
    "skip daemon \"MSA\"\n"
    "backend \"mailbox\" {\n"
    "\thost 127.0.0.1 port 2525\n"
    "\thost ::1 port 2526\n"
    "\thost \"mx.example.net\"\n"
    "\tsessions 3\n\ttls yes\n\ttls noverify\n"
    "}\n"
    "backend \"other\" {\n"
    "\thost 192.0.2.7\n\tprotocol smtp\n\tcatchall ignore\n"
    "}\n"
    "domain \"example.net\" backend \"mailbox\" subdomains\n"
    "domain \"example.com\" backend \"other\"\n"
    "domain all backend \"other\"\n";

/* Append what an imsgbuf has queued to buf. */
static size_t
seed_drain(struct imsgbuf *ib, int rfd, uint8_t *buf, size_t len,
    size_t size)
{
	ssize_t	n;

	if (imsgbuf_flush(ib) == -1)
		abort();
	while (len < size && fuzz_pending(rfd) > 0 &&
	    (n = read(rfd, buf + len, size - len)) > 0)
		len += n;
	return (len);
}

static void
seed_write(int peer, const uint8_t *buf, size_t len)
{
	char	 path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/seed-%02d", seed_dir, ++seed_n);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputc(peer, f);
	fwrite(buf, 1, len, f);
	fclose(f);
}

/* The configuration stream into buf; its length. */
static size_t
seed_config(uint8_t *buf, size_t size)
{
	struct scamback_conf	*conf;
	struct imsgbuf		 ib;
	char			 path[] = "/tmp/fuzz_imsg.XXXXXX";
	int			 fd, fds[2];
	size_t			 len;

	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, seed_conf, sizeof(seed_conf) - 1) == -1)
		abort();
	close(fd);
	conf = parse_config(path, 0);
	unlink(path);
	if (conf == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1 ||
	    imsgbuf_init(&ib, fds[0]) == -1 || config_send(&ib, conf) == -1)
		abort();
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	len = seed_drain(&ib, fds[1], buf, 0, size);
	imsgbuf_clear(&ib);
	close(fds[0]);
	close(fds[1]);
	return (len);
}

/* Single messages, as a peer composes them. */
static size_t
seed_msgs(uint8_t *buf, size_t size, const uint32_t *types,
    const void **data, const size_t *lens, size_t n)
{
	struct imsgbuf	 ib;
	int		 fds[2];
	size_t		 i, len;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1 ||
	    imsgbuf_init(&ib, fds[0]) == -1)
		abort();
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	for (i = 0; i < n; i++)
		if (imsg_compose(&ib, types[i], 1 + i, 0, -1, data[i],
		    lens[i]) == -1)
			abort();
	len = seed_drain(&ib, fds[1], buf, 0, size);
	imsgbuf_clear(&ib);
	close(fds[0]);
	close(fds[1]);
	return (len);
}
#endif /* the seed writer */

