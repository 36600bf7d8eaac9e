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
 * Unit test of the imsg and ibuf layer (compat/imsg.c, compat/imsg-buffer.c
 * on Linux, libutil on OpenBSD).  Every check prints nothing when it holds
 * and stops the program with exit 1 and the failing expression when it
 * does not; each section says what it checked.
 */

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <imsg.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(e)	do {						\
	if (!(e))							\
		fail(__LINE__, #e);					\
} while (0)

/* a call that must fail with this errno */
#define CHECK_ERR(e, err)	do {					\
	errno = 0;							\
	if (!(e))							\
		fail(__LINE__, #e);					\
	if (errno != (err))						\
		fail_errno(__LINE__, #e, (err));			\
} while (0)

#define PAYLOAD_MAX	(MAX_IMSGSIZE - IMSG_HEADER_SIZE)

__dead static void	 fail(int, const char *);
__dead static void	 fail_errno(int, const char *, int);
static void	 ok(const char *);
static int	 count_fds(void);
static void	 mkpair(int [2]);
static void	 set_nonblock(int);
static void	 fill(unsigned char *, size_t, unsigned int);
static int	 fd_is_open(int);
static int	 pipe_writers_gone(int);
static void	 recv_one(struct imsgbuf *, struct imsg *);
static void	 transfer(struct imsgbuf *, struct imsgbuf *, struct imsg *);
static void	 write_all(int, const void *, size_t);
static void	 send_raw(int, const void *, size_t, const int *, int);
static void	 put_hdr(unsigned char *, uint32_t, uint32_t, uint32_t,
		    uint32_t);
static void	 test_ibuf(void);
static void	 test_ibufq_msgbuf(void);
static void	 test_roundtrip(void);
static void	 test_large(void);
static void	 test_create_add(void);
static void	 test_forward(void);
static void	 test_get_data(void);
static void	 test_fdpass(void);
static void	 test_fdpass_many(void);
static void	 test_fdpass_straddle(void);
static void	 test_fdpass_stray(void);
static void	 test_fdpass_refused(void);
static void	 test_fdpass_lost(void);
static void	 test_split(void);
static void	 test_many(void);
static void	 test_bad_headers(void);
static void	 test_oversized_compose(void);
static void	 test_eof(void);
static void	 test_write_eagain_flush(void);
static void	 test_garbage(void);

static void
fail(int line, const char *expr)
{
	fprintf(stderr, "FAIL: test_imsg.c:%d: %s (errno %d: %s)\n", line,
	    expr, errno, strerror(errno));
	exit(1);
}

static void
fail_errno(int line, const char *expr, int want)
{
	int	 got = errno;

	fprintf(stderr, "FAIL: test_imsg.c:%d: %s: errno %d (%s), want %d "
	    "(%s)\n", line, expr, got, strerror(got), want, strerror(want));
	exit(1);
}

static void
ok(const char *what)
{
	printf("ok: %s\n", what);
	fflush(stdout);
}

/* Open descriptors of this process, to catch leaks. */
static int
count_fds(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	CHECK((d = opendir("/proc/self/fd")) != NULL);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

static void
mkpair(int sv[2])
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	set_nonblock(sv[0]);
	set_nonblock(sv[1]);
}

static void
set_nonblock(int fd)
{
	int	 fl;

	CHECK((fl = fcntl(fd, F_GETFL)) != -1);
	CHECK(fcntl(fd, F_SETFL, fl | O_NONBLOCK) != -1);
}

static void
fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static int
fd_is_open(int fd)
{
	return (fcntl(fd, F_GETFD) != -1);
}

/* True when every write end of the pipe whose read end is rfd is closed. */
static int
pipe_writers_gone(int rfd)
{
	char	 c;

	set_nonblock(rfd);
	return (read(rfd, &c, 1) == 0);
}

/* Wait (bounded) for one message on ib. */
static void
recv_one(struct imsgbuf *ib, struct imsg *imsg)
{
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 tries;

	for (tries = 0; tries < 1000; tries++) {
		CHECK((n = imsg_get(ib, imsg)) != -1);
		if (n > 0)
			return;
		pfd.fd = ib->fd;
		pfd.events = POLLIN;
		CHECK(poll(&pfd, 1, 5000) == 1);
		CHECK(imsgbuf_read(ib) == 1);
	}
	fail(__LINE__, "recv_one: no message");
}

/* Move one message from a to b in one process, both sockets non-blocking. */
static void
transfer(struct imsgbuf *a, struct imsgbuf *b, struct imsg *imsg)
{
	struct pollfd	 pfd[2];
	ssize_t		 n;
	int		 tries;

	for (tries = 0; tries < 100000; tries++) {
		if (imsgbuf_queuelen(a) > 0)
			CHECK(imsgbuf_write(a) == 0);
		CHECK(imsgbuf_read(b) == 1);
		CHECK((n = imsg_get(b, imsg)) != -1);
		if (n > 0)
			return;
		pfd[0].fd = a->fd;
		pfd[0].events = imsgbuf_queuelen(a) > 0 ? POLLOUT : 0;
		pfd[1].fd = b->fd;
		pfd[1].events = POLLIN;
		CHECK(poll(pfd, 2, 5000) > 0);
	}
	fail(__LINE__, "transfer: no message");
}

static void
write_all(int fd, const void *p, size_t len)
{
	const unsigned char	*b = p;
	ssize_t			 n;

	while (len > 0) {
		n = write(fd, b, len);
		if (n == -1 && errno == EAGAIN) {
			usleep(1000);
			continue;
		}
		CHECK(n > 0);
		b += n;
		len -= n;
	}
}

/* One sendmsg(2) of hand-made bytes, with nfds descriptors attached. */
static void
send_raw(int s, const void *p, size_t len, const int *fds, int nfds)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(4 * sizeof(int))];
	}		 cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;

	CHECK(nfds >= 0 && nfds <= 4);
	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = (void *)p;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
	}
	CHECK(sendmsg(s, &msg, 0) == (ssize_t)len);
}

/* A header as it goes on the wire, for hand-made streams. */
static void
put_hdr(unsigned char *p, uint32_t type, uint32_t len, uint32_t peerid,
    uint32_t pid)
{
	struct imsg_hdr	 hdr;

	hdr.type = type;
	hdr.len = len;
	hdr.peerid = peerid;
	hdr.pid = pid;
	memcpy(p, &hdr, sizeof(hdr));
}

static void
test_ibuf(void)
{
	struct ibuf	*b, rb;
	unsigned char	*p, raw[64];
	uint8_t		 v8;
	uint16_t	 v16;
	uint32_t	 v32;
	uint64_t	 v64;
	char		 s[8], *str;
	int		 pfd[2];

	/* fixed size */
	CHECK((b = ibuf_open(16)) != NULL);
	CHECK(ibuf_size(b) == 0 && ibuf_left(b) == 16);
	CHECK(ibuf_add(b, "0123456789abcdef", 16) == 0);
	CHECK(ibuf_left(b) == 0);
	CHECK_ERR(ibuf_add(b, "x", 1) == -1, ERANGE);
	CHECK(ibuf_size(b) == 16 && memcmp(ibuf_data(b), "0123", 4) == 0);
	ibuf_free(b);
	ibuf_free(NULL);

	/* dynamic: bad limits */
	CHECK_ERR(ibuf_dynamic(10, 5) == NULL, EINVAL);
	CHECK_ERR(ibuf_dynamic(0, 0) == NULL, EINVAL);

	/* dynamic: numbers in both byte orders */
	CHECK((b = ibuf_dynamic(4, 64)) != NULL);
	CHECK(ibuf_add_n8(b, 0xa5) == 0);
	CHECK(ibuf_add_n16(b, 0x1234) == 0);
	CHECK(ibuf_add_n32(b, 0x89abcdef) == 0);
	CHECK(ibuf_add_n64(b, 0x0102030405060708ULL) == 0);
	CHECK(ibuf_add_h16(b, 0x4321) == 0);
	CHECK(ibuf_add_h32(b, 0xfeedface) == 0);
	CHECK(ibuf_add_h64(b, 0x1122334455667788ULL) == 0);
	CHECK_ERR(ibuf_add_n8(b, 256) == -1, EINVAL);
	CHECK_ERR(ibuf_add_n16(b, 0x10000) == -1, EINVAL);
	CHECK_ERR(ibuf_add_n32(b, 0x100000000ULL) == -1, EINVAL);
	CHECK_ERR(ibuf_add_h16(b, 0x10000) == -1, EINVAL);
	CHECK_ERR(ibuf_add_h32(b, 0x100000000ULL) == -1, EINVAL);
	CHECK(ibuf_size(b) == 29);
	p = ibuf_data(b);
	CHECK(p[0] == 0xa5 && p[1] == 0x12 && p[2] == 0x34);
	CHECK(p[3] == 0x89 && p[6] == 0xef && p[7] == 0x01 && p[14] == 0x08);

	/* seek and set inside what was written, not beyond */
	CHECK((p = ibuf_seek(b, 1, 2)) != NULL && p[0] == 0x12);
	CHECK_ERR(ibuf_seek(b, 28, 2) == NULL, ERANGE);
	CHECK_ERR(ibuf_seek(b, SIZE_MAX, 2) == NULL, ERANGE);
	CHECK(ibuf_set_n16(b, 1, 0xbeef) == 0);
	CHECK(ibuf_set_n8(b, 0, 0x5a) == 0);
	CHECK(ibuf_set_h64(b, 21, 7) == 0);
	CHECK_ERR(ibuf_set_h32(b, 26, 7) == -1, ERANGE);
	CHECK_ERR(ibuf_set_n8(b, 0, 300) == -1, EINVAL);

	/* read it back through a stack ibuf */
	ibuf_from_ibuf(&rb, b);
	CHECK(ibuf_left(&rb) == 0);
	CHECK(ibuf_get_n8(&rb, &v8) == 0 && v8 == 0x5a);
	CHECK(ibuf_get_n16(&rb, &v16) == 0 && v16 == 0xbeef);
	CHECK(ibuf_get_n32(&rb, &v32) == 0 && v32 == 0x89abcdef);
	CHECK(ibuf_get_n64(&rb, &v64) == 0 && v64 == 0x0102030405060708ULL);
	CHECK(ibuf_get_h16(&rb, &v16) == 0 && v16 == 0x4321);
	CHECK(ibuf_get_h32(&rb, &v32) == 0 && v32 == 0xfeedface);
	CHECK(ibuf_size(&rb) == 8);
	CHECK_ERR(ibuf_get(&rb, raw, 9) == -1, EBADMSG);
	CHECK(ibuf_get_h64(&rb, &v64) == 0 && v64 == 7);
	CHECK(ibuf_size(&rb) == 0);
	CHECK_ERR(ibuf_get_n8(&rb, &v8) == -1, EBADMSG);
	CHECK_ERR(ibuf_reserve(&rb, 1) == NULL, EINVAL);
	CHECK_ERR(ibuf_truncate(&rb, 4) == -1, ERANGE);

	/* growth up to max, then no further */
	CHECK((p = ibuf_reserve(b, 8)) != NULL);
	memset(p, 'r', 8);
	CHECK(ibuf_add_zero(b, 3) == 0);
	CHECK(ibuf_size(b) == 40 && ibuf_left(b) == 24);
	CHECK(((unsigned char *)ibuf_data(b))[39] == 0);
	CHECK(ibuf_add_zero(b, 24) == 0 && ibuf_left(b) == 0);
	CHECK_ERR(ibuf_add(b, "x", 1) == -1, ERANGE);
	CHECK_ERR(ibuf_reserve(b, SIZE_MAX) == NULL, ERANGE);

	/* truncate, rewind, skip */
	CHECK(ibuf_skip(b, 3) == 0 && ibuf_size(b) == 61);
	CHECK_ERR(ibuf_skip(b, 62) == -1, EBADMSG);
	CHECK(ibuf_truncate(b, 10) == 0 && ibuf_size(b) == 10);
	CHECK(ibuf_truncate(b, 20) == 0 && ibuf_size(b) == 20);
	ibuf_rewind(b);
	CHECK(ibuf_size(b) == 23);

	/* maxsize can only shrink, and not below what is written */
	CHECK_ERR(ibuf_set_maxsize(b, 65) == -1, ERANGE);
	CHECK_ERR(ibuf_set_maxsize(b, 22) == -1, ERANGE);
	CHECK(ibuf_set_maxsize(b, 30) == 0 && ibuf_left(b) == 7);
	ibuf_free(b);

	/* strings */
	CHECK((b = ibuf_dynamic(0, 100)) != NULL);
	CHECK(ibuf_add_strbuf(b, "abc", 8) == 0);
	CHECK(ibuf_size(b) == 8);
	CHECK_ERR(ibuf_add_strbuf(b, "abcdefgh", 8) == -1, EOVERFLOW);
	CHECK_ERR(ibuf_add_strbuf(b, "", 0) == -1, EOVERFLOW);
	CHECK(ibuf_add(b, "hello, world", 12) == 0);
	CHECK(ibuf_get_strbuf(b, s, sizeof(s)) == 0 && strcmp(s, "abc") == 0);
	CHECK((str = ibuf_get_string(b, 5)) != NULL);
	CHECK(strcmp(str, "hello") == 0);
	free(str);
	CHECK_ERR(ibuf_get_string(b, 8) == NULL, EBADMSG);
	CHECK_ERR(ibuf_get_strbuf(b, s, 0) == -1, EINVAL);
	CHECK_ERR(ibuf_get_strbuf(b, s, 4) == -1, EOVERFLOW);
	CHECK(strcmp(s, ", w") == 0);
	CHECK(ibuf_get_ibuf(b, 3, &rb) == 0 && ibuf_size(&rb) == 3);
	CHECK(memcmp(ibuf_data(&rb), "rld", 3) == 0);
	CHECK_ERR(ibuf_get_ibuf(b, 2, &rb) == -1, EBADMSG);
	ibuf_free(b);

	/* ibuf_add_ibuf, ibuf_from_buffer */
	memcpy(raw, "stack", 5);
	ibuf_from_buffer(&rb, raw, 5);
	CHECK((b = ibuf_open(5)) != NULL);
	CHECK(ibuf_add_ibuf(b, &rb) == 0);
	CHECK(memcmp(ibuf_data(b), "stack", 5) == 0);

	/* an ibuf owns its descriptor */
	CHECK(pipe(pfd) == 0);
	CHECK(!ibuf_fd_avail(b));
	ibuf_fd_set(b, pfd[1]);
	CHECK(ibuf_fd_avail(b));
	CHECK(ibuf_fd_get(b) == pfd[1]);
	CHECK(ibuf_fd_get(b) == -1 && !ibuf_fd_avail(b));
	ibuf_fd_set(b, pfd[1]);
	ibuf_free(b);
	CHECK(!fd_is_open(pfd[1]));
	CHECK(pipe_writers_gone(pfd[0]));
	close(pfd[0]);

	ok("ibuf: open/dynamic limits, add/get n and h numbers, seek, set, "
	    "reserve, truncate, skip, strings, descriptors");
}

static void
test_ibufq_msgbuf(void)
{
	struct ibufqueue	*q, *q2;
	struct msgbuf		*mb;
	struct ibuf		*b;
	char			 out[32];
	int			 pfd[2], i;

	CHECK((q = ibufq_new()) != NULL && (q2 = ibufq_new()) != NULL);
	for (i = 0; i < 3; i++) {
		CHECK((b = ibuf_open(1)) != NULL);
		CHECK(ibuf_add_n8(b, i) == 0);
		ibufq_push(i < 2 ? q : q2, b);
	}
	CHECK(ibufq_queuelen(q) == 2 && ibufq_queuelen(q2) == 1);
	ibufq_concat(q, q2);
	CHECK(ibufq_queuelen(q) == 3 && ibufq_queuelen(q2) == 0);
	CHECK((b = ibufq_pop(q)) != NULL && *(uint8_t *)ibuf_data(b) == 0);
	ibuf_free(b);
	CHECK(ibufq_queuelen(q) == 2);
	ibufq_free(q2);

	/* a plain msgbuf writes its queue to any descriptor */
	CHECK((mb = msgbuf_new()) != NULL);
	CHECK(pipe(pfd) == 0);
	CHECK((b = ibuf_open(5)) != NULL && ibuf_add(b, "abcde", 5) == 0);
	ibuf_close(mb, b);
	msgbuf_concat(mb, q);
	CHECK(msgbuf_queuelen(mb) == 3);
	CHECK(ibuf_write(pfd[1], mb) == 0);
	CHECK(msgbuf_queuelen(mb) == 0);
	CHECK(read(pfd[0], out, sizeof(out)) == 7);
	CHECK(memcmp(out, "abcde\001\002", 7) == 0);
	/* it has no reader */
	CHECK_ERR(ibuf_read(pfd[0], mb) == -1, EINVAL);
	CHECK_ERR(msgbuf_read(pfd[0], mb) == -1, EINVAL);
	CHECK(msgbuf_get(mb) == NULL);
	CHECK((b = ibuf_open(1)) != NULL && ibuf_add(b, "z", 1) == 0);
	ibuf_close(mb, b);
	msgbuf_free(mb);
	ibufq_free(q);
	close(pfd[0]);
	close(pfd[1]);
	ok("ibufq push/pop/concat, msgbuf_new/ibuf_close/ibuf_write");
}

static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 3, 16, 100, 4096, 9999,
	    PAYLOAD_MAX };
	static unsigned char	 out[PAYLOAD_MAX], in[PAYLOAD_MAX];
	struct imsgbuf		 a, b;
	struct imsg		 imsg;
	struct ibuf		 ib;
	size_t			 i, len;
	pid_t			 pid;
	int			 sv[2];

	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	CHECK(a.fd == sv[0] && a.pid == getpid());

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		len = sizes[i];
		fill(out, len, i);
		pid = i % 2 ? 4242 : 0;
		CHECK(imsg_compose(&a, 100 + i, 7 * i, pid, -1,
		    len ? out : NULL, len) == 1);
		CHECK(imsgbuf_queuelen(&a) == 1);
		transfer(&a, &b, &imsg);
		CHECK(imsgbuf_queuelen(&a) == 0);
		CHECK(imsg_get_type(&imsg) == 100 + i);
		CHECK(imsg_get_id(&imsg) == 7 * i);
		CHECK(imsg_get_pid(&imsg) == (pid ? pid : getpid()));
		CHECK(imsg_get_len(&imsg) == len);
		CHECK(imsg.hdr.type == 100 + i);
		CHECK(imsg.hdr.len == len + IMSG_HEADER_SIZE);
		CHECK(imsg_get_fd(&imsg) == -1);
		if (len == 0) {
			CHECK(imsg.data == NULL);
			CHECK_ERR(imsg_get_data(&imsg, in, 0) == -1, EINVAL);
			CHECK_ERR(imsg_get_ibuf(&imsg, &ib) == -1, EBADMSG);
		} else {
			CHECK(imsg.data != NULL);
			CHECK(memcmp(imsg.data, out, len) == 0);
			CHECK(imsg_get_data(&imsg, in, len) == 0);
			CHECK(memcmp(in, out, len) == 0);
		}
		imsg_free(&imsg);
		CHECK(imsg_get(&b, &imsg) == 0);
	}

	/* imsg_get's return value counts the header */
	CHECK(imsg_compose(&a, 1, 0, 0, -1, "abc", 3) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsg_get(&b, &imsg) == (ssize_t)(3 + IMSG_HEADER_SIZE));
	imsg_free(&imsg);

	/* the same through imsgbuf_get */
	CHECK(imsg_compose(&a, 2, 0, 0, -1, "abcd", 4) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsgbuf_get(&b, &imsg) == 1 && imsg_get_type(&imsg) == 2);
	imsg_free(&imsg);
	CHECK(imsgbuf_get(&b, &imsg) == 0);

	/* nothing to read on a non-blocking socket is not an error */
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsg_get(&b, &imsg) == 0);

	/* one byte over the maximum is refused by the sender */
	CHECK_ERR(imsg_compose(&a, 1, 0, 0, -1, out, PAYLOAD_MAX + 1) == -1,
	    ERANGE);
	CHECK_ERR(imsg_create(&a, 1, 0, 0, PAYLOAD_MAX + 1) == NULL, ERANGE);
	CHECK_ERR(imsg_create(&a, 1, 0, 0, SIZE_MAX) == NULL, ERANGE);
	CHECK(imsgbuf_queuelen(&a) == 0);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	CHECK(a.w == NULL && fd_is_open(sv[0]));
	close(sv[0]);
	close(sv[1]);
	ok("round trip of payloads 0, 1, 3, 16, 100, 4096, 9999 and "
	    "MAX_IMSGSIZE - IMSG_HEADER_SIZE bytes: type, id, pid, len, data; "
	    "over-max compose refused with ERANGE");
}

static void
test_large(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*out;
	size_t		 len = 300000;
	int		 sv[2];

	CHECK((out = malloc(len)) != NULL);
	fill(out, len, 3);
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);

	CHECK_ERR(imsgbuf_set_maxsize(&a, UINT32_MAX) == -1, ERANGE);
	CHECK_ERR(imsgbuf_set_maxsize(&a, 0x80000000U) == -1, EINVAL);
	CHECK(imsgbuf_set_maxsize(&a, len) == 0);
	CHECK(imsgbuf_set_maxsize(&b, len) == 0);

	CHECK(imsg_compose(&a, 77, 1, 0, -1, out, len) == 1);
	CHECK_ERR(imsg_compose(&a, 77, 1, 0, -1, out, len + 1) == -1, ERANGE);
	transfer(&a, &b, &imsg);
	CHECK(imsg_get_len(&imsg) == len);
	CHECK(memcmp(imsg.data, out, len) == 0);
	imsg_free(&imsg);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	free(out);
	ok("imsgbuf_set_maxsize: 300000-byte payload across many reads; "
	    "limits checked (ERANGE, EINVAL)");
}

static void
test_create_add(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct ibuf	*wb, ib;
	struct iovec	 iov[3];
	unsigned char	 big[PAYLOAD_MAX];
	uint32_t	 v32;
	uint16_t	 v16;
	char		 s[16];
	int		 sv[2], i;

	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);

	/* reserve little, add more: the message grows */
	CHECK((wb = imsg_create(&a, 5, 55, 555, 4)) != NULL);
	CHECK(imsg_add(wb, "head", 4) == 4);
	CHECK(imsg_add(wb, NULL, 0) == 0);
	for (i = 0; i < 100; i++)
		CHECK(imsg_add(wb, "0123456789", 10) == 10);
	CHECK(ibuf_add_n32(wb, 0xdeadbeef) == 0);
	imsg_close(&a, wb);
	CHECK(imsgbuf_queuelen(&a) == 1);
	transfer(&a, &b, &imsg);
	CHECK(imsg_get_type(&imsg) == 5 && imsg_get_id(&imsg) == 55);
	CHECK(imsg_get_pid(&imsg) == 555);
	CHECK(imsg_get_len(&imsg) == 4 + 1000 + 4);
	CHECK(imsg_get_ibuf(&imsg, &ib) == 0);
	CHECK(imsg_get_len(&imsg) == 0);
	CHECK(ibuf_get(&ib, s, 4) == 0 && memcmp(s, "head", 4) == 0);
	CHECK(ibuf_skip(&ib, 1000) == 0);
	CHECK(ibuf_get_n32(&ib, &v32) == 0 && v32 == 0xdeadbeef);
	CHECK(ibuf_size(&ib) == 0);
	imsg_free(&imsg);

	/* imsg_add past the limit fails and frees the message */
	memset(big, 'b', sizeof(big));
	CHECK((wb = imsg_create(&a, 6, 0, 0, 10)) != NULL);
	CHECK(imsg_add(wb, big, PAYLOAD_MAX - 1) == PAYLOAD_MAX - 1);
	CHECK_ERR(imsg_add(wb, big, 2) == -1, ERANGE);
	CHECK(imsgbuf_queuelen(&a) == 0);

	/* imsg_set_maxsize lowers the limit of one message */
	CHECK((wb = imsg_create(&a, 6, 0, 0, 0)) != NULL);
	CHECK(imsg_set_maxsize(wb, 8) == 0);
	CHECK(imsg_add(wb, big, 8) == 8);
	CHECK_ERR(imsg_add(wb, big, 1) == -1, ERANGE);

	/* imsg_composev */
	iov[0].iov_base = "one,";
	iov[0].iov_len = 4;
	iov[1].iov_base = "";
	iov[1].iov_len = 0;
	iov[2].iov_base = "two";
	iov[2].iov_len = 4;
	CHECK(imsg_composev(&a, 8, 0, 0, -1, iov, 3) == 1);
	transfer(&a, &b, &imsg);
	CHECK(imsg_get_type(&imsg) == 8 && imsg_get_len(&imsg) == 8);
	CHECK(imsg_get_strbuf(&imsg, s, 4) == -1);
	CHECK(memcmp(s, "one", 4) == 0);
	CHECK(imsg_get_strbuf(&imsg, s, 4) == 0 && strcmp(s, "two") == 0);
	CHECK_ERR(imsg_get_buf(&imsg, s, 1) == -1, EBADMSG);
	imsg_free(&imsg);

	/* imsg_compose_ibuf consumes the buffer */
	CHECK((wb = ibuf_dynamic(0, 64)) != NULL);
	CHECK(ibuf_add_n16(wb, 0x0102) == 0 && ibuf_add(wb, "xy", 2) == 0);
	CHECK(imsg_compose_ibuf(&a, 9, 99, 0, wb) == 1);
	CHECK(imsgbuf_queuelen(&a) == 2);
	transfer(&a, &b, &imsg);
	CHECK(imsg_get_type(&imsg) == 9 && imsg_get_id(&imsg) == 99);
	CHECK(imsg_get_ibuf(&imsg, &ib) == 0);
	CHECK(ibuf_get_n16(&ib, &v16) == 0 && v16 == 0x0102);
	CHECK(ibuf_get(&ib, s, 2) == 0 && memcmp(s, "xy", 2) == 0);
	imsg_free(&imsg);
	CHECK((wb = ibuf_open(PAYLOAD_MAX + 1)) != NULL);
	CHECK(ibuf_add_zero(wb, PAYLOAD_MAX + 1) == 0);
	CHECK_ERR(imsg_compose_ibuf(&a, 9, 0, 0, wb) == -1, ERANGE);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	ok("imsg_create/imsg_add/imsg_close with growth and limit, "
	    "imsg_set_maxsize, imsg_composev, imsg_compose_ibuf, imsg_get_ibuf, "
	    "imsg_get_buf, imsg_get_strbuf");
}

static void
test_forward(void)
{
	struct imsgbuf	 a, b, c, d;
	struct imsg	 imsg, fw;
	char		 buf[6];
	int		 sv[2], sv2[2], i;

	mkpair(sv);
	mkpair(sv2);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	CHECK(imsgbuf_init(&c, sv2[0]) == 0);
	CHECK(imsgbuf_init(&d, sv2[1]) == 0);

	CHECK(imsg_compose(&a, 31, 32, 33, -1, "relay", 6) == 1);
	transfer(&a, &b, &imsg);
	/* reading the payload first does not change what is forwarded */
	CHECK(imsg_get_data(&imsg, buf, 6) == 0);
	CHECK(imsg_forward(&c, &imsg) == 1);
	CHECK(imsg_forward(&c, &imsg) == 1);
	imsg_free(&imsg);
	for (i = 0; i < 2; i++) {
		transfer(&c, &d, &fw);
		CHECK(imsg_get_type(&fw) == 31 && imsg_get_id(&fw) == 32);
		CHECK(imsg_get_pid(&fw) == 33);
		CHECK(imsg_get_data(&fw, buf, 6) == 0);
		CHECK(strcmp(buf, "relay") == 0);
		imsg_free(&fw);
	}

	/* an empty message forwards as an empty message */
	CHECK(imsg_compose(&a, 34, 0, 0, -1, NULL, 0) == 1);
	transfer(&a, &b, &imsg);
	CHECK(imsg_forward(&c, &imsg) == 1);
	imsg_free(&imsg);
	transfer(&c, &d, &fw);
	CHECK(imsg_get_type(&fw) == 34 && imsg_get_len(&fw) == 0);
	imsg_free(&fw);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	imsgbuf_clear(&c);
	imsgbuf_clear(&d);
	close(sv[0]);
	close(sv[1]);
	close(sv2[0]);
	close(sv2[1]);
	ok("imsg_forward: type, id, pid and payload kept, twice, and empty");
}

static void
test_get_data(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct {
		uint32_t	 x;
		uint32_t	 y;
	}		 pl = { 1, 2 }, got;
	unsigned char	 big[12];
	int		 sv[2];

	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);

	CHECK(imsg_compose(&a, 1, 0, 0, -1, &pl, sizeof(pl)) == 1);
	transfer(&a, &b, &imsg);
	CHECK_ERR(imsg_get_data(&imsg, &got, 4) == -1, EBADMSG);
	CHECK_ERR(imsg_get_data(&imsg, big, sizeof(big)) == -1, EBADMSG);
	CHECK_ERR(imsg_get_data(&imsg, &got, 0) == -1, EINVAL);
	/* failed attempts consume nothing */
	CHECK(imsg_get_len(&imsg) == sizeof(pl));
	CHECK(imsg_get_data(&imsg, &got, sizeof(got)) == 0);
	CHECK(got.x == 1 && got.y == 2);
	imsg_free(&imsg);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	ok("imsg_get_data: short and long sizes give EBADMSG, 0 gives EINVAL, "
	    "exact size works");
}

static void
test_fdpass(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	char		 buf[16];
	int		 sv[2], p[2], p2[2], fd, nfds;

	nfds = count_fds();
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);

	/* pass a pipe's write end and use it on the other side */
	CHECK(pipe(p) == 0);
	CHECK(imsg_compose(&a, 40, 0, 0, p[1], "pipe", 4) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	/* the sender's copy is closed once sent */
	CHECK(!fd_is_open(p[1]));
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 40 && imsg_get_len(&imsg) == 4);
	CHECK(imsg.hdr.len == 4 + IMSG_HEADER_SIZE);
	CHECK((fd = imsg_get_fd(&imsg)) >= 0);
	CHECK(imsg_get_fd(&imsg) == -1);
	imsg_free(&imsg);
	CHECK(write(fd, "through", 7) == 7);
	close(fd);
	CHECK(read(p[0], buf, sizeof(buf)) == 7);
	CHECK(memcmp(buf, "through", 7) == 0);
	CHECK(pipe_writers_gone(p[0]));
	close(p[0]);

	/* a descriptor nobody takes is closed by imsg_free */
	CHECK(pipe(p2) == 0);
	CHECK(imsg_compose(&a, 41, 0, 0, p2[1], NULL, 0) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 41 && imsg_get_len(&imsg) == 0);
	imsg_free(&imsg);
	CHECK(pipe_writers_gone(p2[0]));
	close(p2[0]);

	/* and by imsgbuf_clear when the message was never taken */
	CHECK(pipe(p2) == 0);
	CHECK(imsg_compose(&a, 42, 0, 0, p2[1], "x", 1) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	CHECK(imsgbuf_read(&b) == 1);
	imsgbuf_clear(&b);
	CHECK(pipe_writers_gone(p2[0]));
	close(p2[0]);

	/* and on the sender when the message is never sent */
	CHECK(pipe(p2) == 0);
	CHECK(imsg_compose(&a, 43, 0, 0, p2[1], "x", 1) == 1);
	imsgbuf_clear(&a);
	CHECK(pipe_writers_gone(p2[0]));
	close(p2[0]);

	close(sv[0]);
	close(sv[1]);
	CHECK(count_fds() == nfds);
	ok("fd passing: pipe end passed and used, sender copy closed, "
	    "untaken fds closed by imsg_free and imsgbuf_clear, no fd leak");
}

static void
test_fdpass_many(void)
{
	/* which pipe each message carries, -1 for none */
	static const int order[] = { 0, -1, 1, 2, -1, -1, 3, -1, 4, 5, 6, 7,
	    -1, 8, 9 };
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	char		 c;
	int		 sv[2], p[10][2], i, n, idx, fd, nfds;

	nfds = count_fds();
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	for (i = 0; i < 10; i++)
		CHECK(pipe(p[i]) == 0);

	/* queue them all first, so that reads see them back to back */
	n = sizeof(order) / sizeof(order[0]);
	for (i = 0; i < n; i++)
		CHECK(imsg_compose(&a, 50, 0, 0, order[i] == -1 ? -1 :
		    p[order[i]][1], &order[i], sizeof(order[i])) == 1);
	CHECK(imsgbuf_flush(&a) == 0);

	for (i = 0; i < n; i++) {
		recv_one(&b, &imsg);
		CHECK(imsg_get_data(&imsg, &idx, sizeof(idx)) == 0);
		CHECK(idx == order[i]);
		fd = imsg_get_fd(&imsg);
		if (idx == -1) {
			CHECK(fd == -1);
		} else {
			/* the right pipe: a byte written here comes out there */
			CHECK(fd >= 0);
			c = 'a' + idx;
			CHECK(write(fd, &c, 1) == 1);
			close(fd);
			CHECK(read(p[idx][0], &c, 1) == 1 && c == 'a' + idx);
			CHECK(pipe_writers_gone(p[idx][0]));
		}
		imsg_free(&imsg);
	}
	for (i = 0; i < 10; i++)
		close(p[i][0]);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	CHECK(count_fds() == nfds);
	ok("fd passing: 10 fds mixed with plain messages, each fd with its own "
	    "message");
}

/*
 * The read buffer fills up in the middle of the header of a message that
 * carries a descriptor: the kernel hands the descriptor over with the first
 * part of the header, the rest comes with the next read.
 */
static void
test_fdpass_straddle(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*out;
	size_t		 len = IBUF_READ_SIZE - 5 - IMSG_HEADER_SIZE;
	char		 c;
	int		 sv[2], p[2], fd, nfds;

	nfds = count_fds();
	CHECK((out = calloc(1, len)) != NULL);
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	CHECK(imsgbuf_set_maxsize(&a, len) == 0);
	CHECK(imsgbuf_set_maxsize(&b, len) == 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	CHECK(pipe(p) == 0);

	CHECK(imsg_compose(&a, 65, 0, 0, -1, out, len) == 1);
	CHECK(imsg_compose(&a, 66, 0, 0, p[1], "fd", 2) == 1);
	CHECK(imsgbuf_flush(&a) == 0);

	/* the first read ends 5 bytes into the second header */
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsg_get(&b, &imsg) > 0 && imsg_get_type(&imsg) == 65);
	imsg_free(&imsg);
	CHECK(imsg_get(&b, &imsg) == 0);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 66);
	CHECK((fd = imsg_get_fd(&imsg)) >= 0);
	imsg_free(&imsg);
	CHECK(write(fd, "s", 1) == 1);
	close(fd);
	CHECK(read(p[0], &c, 1) == 1 && c == 's');
	CHECK(pipe_writers_gone(p[0]));
	close(p[0]);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	free(out);
	CHECK(count_fds() == nfds);
	ok("fd passing: a descriptor whose message header straddles two reads "
	    "still reaches its message");
}

/*
 * A descriptor that comes with a message not marked as carrying one is
 * closed once the stream has moved past it, and not handed to a later
 * marked message whose own descriptor never came.
 */
static void
test_fdpass_stray(void)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	unsigned char	 raw[IMSG_HEADER_SIZE + 2];
	int		 sv[2], p[2], fd, nfds;

	nfds = count_fds();
	mkpair(sv);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&b);
	CHECK(pipe(p) == 0);

	put_hdr(raw, 67, IMSG_HEADER_SIZE + 2, 0, 0);
	memcpy(raw + IMSG_HEADER_SIZE, "ab", 2);
	send_raw(sv[0], raw, sizeof(raw), &p[1], 1);
	close(p[1]);
	put_hdr(raw, 68, 0x80000000U | (IMSG_HEADER_SIZE + 2), 0, 0);
	send_raw(sv[0], raw, sizeof(raw), NULL, 0);

	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 67 && imsg_get_fd(&imsg) == -1);
	imsg_free(&imsg);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 68 && imsg_get_fd(&imsg) == -1);
	imsg_free(&imsg);
	/* closed already, not only at imsgbuf_clear */
	CHECK(pipe_writers_gone(p[0]));
	close(p[0]);

	/*
	 * A marked message whose descriptor was lost (as when the receiver
	 * is out of descriptors) and whose header ends in the read that
	 * brings the next message's descriptor: each gets its own.
	 */
	CHECK(pipe(p) == 0);
	put_hdr(raw, 69, 0x80000000U | (IMSG_HEADER_SIZE + 2), 0, 0);
	send_raw(sv[0], raw, 10, NULL, 0);
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsg_get(&b, &imsg) == 0);
	send_raw(sv[0], raw + 10, sizeof(raw) - 10, NULL, 0);
	put_hdr(raw, 70, 0x80000000U | (IMSG_HEADER_SIZE + 2), 0, 0);
	send_raw(sv[0], raw, sizeof(raw), &p[1], 1);
	close(p[1]);
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsg_get(&b, &imsg) > 0);
	CHECK(imsg_get_type(&imsg) == 69 && imsg_get_fd(&imsg) == -1);
	imsg_free(&imsg);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 70 && (fd = imsg_get_fd(&imsg)) >= 0);
	imsg_free(&imsg);
	close(fd);
	CHECK(pipe_writers_gone(p[0]));
	close(p[0]);

	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	CHECK(count_fds() == nfds);
	ok("fd passing: a stray fd on an unmarked message is closed and not "
	    "given to a later marked message; a lost fd does not shift the "
	    "next one");
}

static void
test_fdpass_refused(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], p[2], nfds;

	nfds = count_fds();
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&a);

	/* a receiver that did not allow fd passing never gets one */
	CHECK(pipe(p) == 0);
	CHECK(imsg_compose(&a, 60, 0, 0, p[1], "no", 2) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 60 && imsg_get_len(&imsg) == 2);
	CHECK(imsg_get_fd(&imsg) == -1);
	imsg_free(&imsg);
	CHECK(pipe_writers_gone(p[0]));
	close(p[0]);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	CHECK(count_fds() == nfds);
	ok("fd passing refused without imsgbuf_allow_fdpass on the receiver, "
	    "no fd leak");
}

/*
 * Out of descriptors, the kernel cannot deliver one (MSG_CTRUNC): its
 * message arrives without it, the stream stays in step, nothing leaks,
 * and once descriptors are free again they pass as before.
 */
static void
test_fdpass_lost(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	struct rlimit	 rl, low;
	int		 sv[2], p[2], p2[2], fd, lowest, nfds;

	nfds = count_fds();
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&a);
	imsgbuf_allow_fdpass(&b);
	CHECK(pipe(p) == 0 && pipe(p2) == 0);
	CHECK(imsg_compose(&a, 42, 0, 0, p[1], "lost", 4) == 1);
	CHECK(imsg_compose(&a, 43, 0, 0, -1, "plain", 5) == 1);
	CHECK(imsg_compose(&a, 44, 0, 0, p2[1], "kept", 4) == 1);
	CHECK(imsgbuf_flush(&a) == 0);

	/* No descriptor below the limit is free. */
	CHECK((lowest = dup(0)) != -1);
	close(lowest);
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	low = rl;
	low.rlim_cur = lowest;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 42 && imsg_get_len(&imsg) == 4);
	CHECK(imsg_get_fd(&imsg) == -1);
	imsg_free(&imsg);
	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 43 && imsg_get_len(&imsg) == 5);
	imsg_free(&imsg);
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	/* The kernel closed the lost one. */
	CHECK(pipe_writers_gone(p[0]));

	recv_one(&b, &imsg);
	CHECK(imsg_get_type(&imsg) == 44 && imsg_get_len(&imsg) == 4);
	CHECK((fd = imsg_get_fd(&imsg)) >= 0);
	imsg_free(&imsg);
	CHECK(write(fd, "x", 1) == 1);
	close(fd);
	CHECK(pipe_writers_gone(p2[0]) == 0);
	close(p[0]);
	close(p2[0]);

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	CHECK(count_fds() == nfds);
	ok("a descriptor the kernel cannot deliver (MSG_CTRUNC): its message "
	    "comes without it, the rest as before, no leak");
}

static void
test_split(void)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	unsigned char	 raw[2 * IMSG_HEADER_SIZE + 10 + 5000];
	unsigned char	 pl[5000];
	size_t		 len, off, step;
	int		 sv[2];

	mkpair(sv);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);

	/* a 10-byte message and a 5000-byte one, written by hand */
	put_hdr(raw, 70, IMSG_HEADER_SIZE + 10, 1, 2);
	memcpy(raw + IMSG_HEADER_SIZE, "0123456789", 10);
	fill(pl, sizeof(pl), 70);
	put_hdr(raw + IMSG_HEADER_SIZE + 10, 71,
	    IMSG_HEADER_SIZE + sizeof(pl), 3, 4);
	memcpy(raw + 2 * IMSG_HEADER_SIZE + 10, pl, sizeof(pl));
	len = sizeof(raw);

	/* one byte at a time through the first message */
	for (off = 0; off < IMSG_HEADER_SIZE + 10; off++) {
		CHECK(imsg_get(&b, &imsg) == 0);
		write_all(sv[0], raw + off, 1);
		CHECK(imsgbuf_read(&b) == 1);
	}
	CHECK(imsg_get(&b, &imsg) > 0);
	CHECK(imsg_get_type(&imsg) == 70 && imsg_get_id(&imsg) == 1);
	CHECK(imsg_get_pid(&imsg) == 2 && imsg_get_len(&imsg) == 10);
	CHECK(memcmp(imsg.data, "0123456789", 10) == 0);
	imsg_free(&imsg);
	CHECK(imsg_get(&b, &imsg) == 0);

	/* then pieces of 7, 13 and 97 bytes: header and payload split */
	step = 7;
	while (off < len) {
		CHECK(imsg_get(&b, &imsg) == 0);
		if (step > len - off)
			step = len - off;
		write_all(sv[0], raw + off, step);
		CHECK(imsgbuf_read(&b) == 1);
		off += step;
		step = step == 7 ? 13 : step == 13 ? 97 : 7;
	}
	CHECK(imsg_get(&b, &imsg) > 0);
	CHECK(imsg_get_type(&imsg) == 71 && imsg_get_len(&imsg) == sizeof(pl));
	CHECK(memcmp(imsg.data, pl, sizeof(pl)) == 0);
	imsg_free(&imsg);
	CHECK(imsg_get(&b, &imsg) == 0);

	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	ok("messages split across reads (1-byte, then 7/13/97-byte pieces) "
	    "are reassembled only when complete");
}

static void
test_many(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	uint32_t	 v;
	ssize_t		 n;
	int		 sv[2], i, got, reads;

	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);

	/* 1000 messages of 20 bytes: all in one read */
	for (i = 0; i < 1000; i++) {
		v = i;
		CHECK(imsg_compose(&a, 1000 + i, i, 0, -1, &v, sizeof(v)) == 1);
	}
	CHECK(imsgbuf_queuelen(&a) == 1000);
	CHECK(imsgbuf_flush(&a) == 0);
	CHECK(imsgbuf_queuelen(&a) == 0);
	CHECK(imsgbuf_read(&b) == 1);
	for (i = 0; i < 1000; i++) {
		CHECK(imsg_get(&b, &imsg) > 0);
		CHECK(imsg_get_type(&imsg) == 1000 + (uint32_t)i);
		CHECK(imsg_get_data(&imsg, &v, sizeof(v)) == 0 && v == i);
		imsg_free(&imsg);
	}
	CHECK(imsg_get(&b, &imsg) == 0);

	/* 20000 messages: more than one read buffer, order kept */
	for (i = 0; i < 20000; i++) {
		v = i;
		CHECK(imsg_compose(&a, 7, 0, 0, -1, &v, sizeof(v)) == 1);
	}
	got = reads = 0;
	while (got < 20000) {
		CHECK(reads++ < 100000);
		if (imsgbuf_queuelen(&a) > 0)
			CHECK(imsgbuf_write(&a) == 0);
		CHECK(imsgbuf_read(&b) == 1);
		while ((n = imsg_get(&b, &imsg)) > 0) {
			CHECK(imsg_get_data(&imsg, &v, sizeof(v)) == 0);
			CHECK(v == (uint32_t)got);
			got++;
			imsg_free(&imsg);
		}
		CHECK(n == 0);
	}

	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	ok("1000 messages in one read all returned in order; 20000 messages "
	    "over many reads in order");
}

static void
test_bad_headers(void)
{
	static const uint32_t badlens[] = { 0, 1, IMSG_HEADER_SIZE - 1,
	    MAX_IMSGSIZE + 1, 0x7fffffff, 0x80000000U | 4, 0xffffffffU,
	    0x80000000U | (MAX_IMSGSIZE + 1) };
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	 raw[IMSG_HEADER_SIZE * 3 + 4];
	size_t		 i;
	int		 sv[2], p[2], nfds;

	nfds = count_fds();
	for (i = 0; i < sizeof(badlens) / sizeof(badlens[0]); i++) {
		mkpair(sv);
		CHECK(imsgbuf_init(&b, sv[1]) == 0);
		put_hdr(raw, 80, badlens[i], 0, 0);
		write_all(sv[0], raw, IMSG_HEADER_SIZE);
		CHECK_ERR(imsgbuf_read(&b) == -1, ERANGE);
		CHECK_ERR(imsg_get(&b, &imsg) == -1, ERANGE);
		/* it stays broken */
		CHECK_ERR(imsgbuf_read(&b) == -1, ERANGE);
		CHECK_ERR(imsg_get(&b, &imsg) == -1, ERANGE);
		imsgbuf_clear(&b);
		close(sv[0]);
		close(sv[1]);
	}

	/* a good message before a bad header is still delivered */
	mkpair(sv);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	put_hdr(raw, 81, IMSG_HEADER_SIZE + 4, 0, 0);
	memcpy(raw + IMSG_HEADER_SIZE, "good", 4);
	put_hdr(raw + IMSG_HEADER_SIZE + 4, 82, 3, 0, 0);
	put_hdr(raw + 2 * IMSG_HEADER_SIZE + 4, 83, IMSG_HEADER_SIZE, 0, 0);
	write_all(sv[0], raw, sizeof(raw));
	CHECK_ERR(imsgbuf_read(&b) == -1, ERANGE);
	CHECK(imsg_get(&b, &imsg) > 0 && imsg_get_type(&imsg) == 81);
	imsg_free(&imsg);
	CHECK_ERR(imsg_get(&b, &imsg) == -1, ERANGE);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);

	/* a bad header that comes with a descriptor: the fd is closed */
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	imsgbuf_allow_fdpass(&b);
	CHECK(pipe(p) == 0);
	put_hdr(raw, 84, 0x80000000U | 2, 0, 0);
	send_raw(sv[0], raw, IMSG_HEADER_SIZE, &p[1], 1);
	close(p[1]);
	CHECK_ERR(imsgbuf_read(&b) == -1, ERANGE);
	CHECK(pipe_writers_gone(p[0]));
	close(p[0]);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);

	/* a header cut short by EOF is no message, and EOF is reported */
	mkpair(sv);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	put_hdr(raw, 85, IMSG_HEADER_SIZE + 4, 0, 0);
	write_all(sv[0], raw, IMSG_HEADER_SIZE - 6);
	close(sv[0]);
	CHECK(imsgbuf_read(&b) == 1);
	CHECK(imsg_get(&b, &imsg) == 0);
	CHECK(imsgbuf_read(&b) == 0);
	CHECK(imsg_get(&b, &imsg) == 0);
	imsgbuf_clear(&b);
	close(sv[1]);

	CHECK(count_fds() == nfds);
	ok("bad header len (0, 1, 15, max+1, 2^31-1, with fd mark, 2^32-1) "
	    "rejected by imsgbuf_read and imsg_get with ERANGE, sticky; "
	    "earlier good message kept; fd of a bad message closed; "
	    "truncated header then EOF gives no message and EOF");
}

static void
test_oversized_compose(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*out;
	int		 sv[2], i, rv = 1;

	/* a peer with a larger limit sends one byte too many */
	CHECK((out = calloc(1, PAYLOAD_MAX + 1)) != NULL);
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);
	CHECK(imsgbuf_set_maxsize(&a, 2 * MAX_IMSGSIZE) == 0);
	CHECK(imsg_compose(&a, 90, 0, 0, -1, out, PAYLOAD_MAX) == 1);
	CHECK(imsg_compose(&a, 91, 0, 0, -1, out, PAYLOAD_MAX + 1) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	for (i = 0; i < 10; i++) {
		errno = 0;
		if ((rv = imsgbuf_read(&b)) != 1)
			break;
	}
	CHECK(rv == -1 && errno == ERANGE);
	CHECK(imsg_get(&b, &imsg) > 0 && imsg_get_type(&imsg) == 90);
	imsg_free(&imsg);
	CHECK_ERR(imsg_get(&b, &imsg) == -1, ERANGE);
	imsgbuf_clear(&a);
	imsgbuf_clear(&b);
	close(sv[0]);
	close(sv[1]);
	free(out);
	ok("a message one byte over the receiver's maximum is rejected "
	    "(ERANGE), the one at the maximum accepted");
}

static void
test_eof(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	int		 sv[2], rv;

	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);
	CHECK(imsgbuf_init(&b, sv[1]) == 0);

	/* what was sent before the close still arrives, then EOF */
	CHECK(imsg_compose(&a, 95, 0, 0, -1, "last", 4) == 1);
	CHECK(imsgbuf_flush(&a) == 0);
	imsgbuf_clear(&a);
	close(sv[0]);
	CHECK((rv = imsgbuf_read(&b)) == 1);
	CHECK(imsg_get(&b, &imsg) > 0 && imsg_get_type(&imsg) == 95);
	imsg_free(&imsg);
	CHECK(imsgbuf_read(&b) == 0);
	CHECK(imsg_get(&b, &imsg) == 0);

	/* writing to a closed peer fails with EPIPE and keeps the queue */
	CHECK(imsg_compose(&b, 96, 0, 0, -1, "lost", 4) == 1);
	CHECK_ERR(imsgbuf_write(&b) == -1, EPIPE);
	CHECK(imsgbuf_queuelen(&b) == 1);
	CHECK_ERR(imsgbuf_flush(&b) == -1, EPIPE);
	imsgbuf_clear(&b);
	close(sv[1]);
	ok("EOF: pending message delivered, then imsgbuf_read returns 0; "
	    "write to closed peer gives EPIPE");
}

static void
test_write_eagain_flush(void)
{
	struct imsgbuf	 a, b;
	struct imsg	 imsg;
	unsigned char	*out, *in;
	uint32_t	 qlen, prev;
	pid_t		 pid;
	int		 sv[2], status, i, n = 500, bad = 0;

	CHECK((out = malloc(PAYLOAD_MAX)) != NULL);
	CHECK((in = malloc(PAYLOAD_MAX)) != NULL);
	mkpair(sv);
	CHECK(imsgbuf_init(&a, sv[0]) == 0);

	/* 8 MB: far more than the socket holds */
	for (i = 0; i < n; i++) {
		fill(out, PAYLOAD_MAX, i);
		CHECK(imsg_compose(&a, 100, i, 0, -1, out, PAYLOAD_MAX) == 1);
	}
	CHECK(imsgbuf_queuelen(&a) == (uint32_t)n);

	/* write until the peer's buffer is full: EAGAIN keeps the queue */
	prev = UINT32_MAX;
	for (i = 0; i < 10000; i++) {
		CHECK(imsgbuf_write(&a) == 0);
		qlen = imsgbuf_queuelen(&a);
		CHECK(qlen > 0);
		if (qlen == prev)
			break;
		prev = qlen;
	}
	CHECK(imsgbuf_write(&a) == 0);
	CHECK(imsgbuf_queuelen(&a) == prev);

	/* a slow reader drains it while imsgbuf_flush waits */
	CHECK((pid = fork()) != -1);
	if (pid == 0) {
		close(sv[0]);
		alarm(30);
		usleep(200000);
		CHECK(imsgbuf_init(&b, sv[1]) == 0);
		for (i = 0; i < n; i++) {
			recv_one(&b, &imsg);
			fill(out, PAYLOAD_MAX, i);
			if (imsg_get_id(&imsg) != (uint32_t)i ||
			    imsg_get_data(&imsg, in, PAYLOAD_MAX) == -1 ||
			    memcmp(in, out, PAYLOAD_MAX) != 0)
				bad++;
			imsg_free(&imsg);
		}
		/* tidy, so that leak checkers see a clean child */
		imsgbuf_clear(&b);
		close(sv[1]);
		imsgbuf_clear(&a);
		free(out);
		free(in);
		_exit(bad == 0 ? 0 : 1);
	}
	close(sv[1]);
	CHECK(imsgbuf_flush(&a) == 0);
	CHECK(imsgbuf_queuelen(&a) == 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	imsgbuf_clear(&a);
	close(sv[0]);
	free(out);
	free(in);
	ok("imsgbuf_write on a full non-blocking socket returns 0 and keeps "
	    "the queue; imsgbuf_flush waits for a slow reader, 500 max-size "
	    "messages arrive intact and in order");
}

/*
 * What a broken or hostile peer might send: random bytes, random headers,
 * stray descriptors.  The receiver must neither crash nor leak.
 */
static void
test_garbage(void)
{
	struct imsgbuf	 b;
	struct imsg	 imsg;
	unsigned char	 raw[4096];
	size_t		 len, off, chunk, j;
	ssize_t		 n;
	uint32_t	 hlen;
	int		 sv[2], p[2], iter, nfds, rv, fd, nmsgs = 0;

	srandom(1);
	nfds = count_fds();
	for (iter = 0; iter < 300; iter++) {
		mkpair(sv);
		CHECK(imsgbuf_init(&b, sv[1]) == 0);
		if (iter % 2)
			imsgbuf_allow_fdpass(&b);
		len = random() % sizeof(raw);
		for (j = 0; j < len; j++)
			raw[j] = random();
		/* plausible headers at random places */
		for (off = 0; off + IMSG_HEADER_SIZE <= len;
		    off += IMSG_HEADER_SIZE + random() % 64) {
			if (random() % 3 == 0)
				continue;
			/* one random() per statement: same stream everywhere */
			if (random() % 3 == 0)
				hlen = random();
			else {
				hlen = IMSG_HEADER_SIZE + random() % 64;
				if (random() % 2)
					hlen |= 0x80000000U;
			}
			put_hdr(raw + off, 200, hlen, 0, 0);
		}
		for (off = 0; off < len; off += chunk) {
			chunk = 1 + random() % 512;
			if (chunk > len - off)
				chunk = len - off;
			if (random() % 4 == 0) {
				/* two stray descriptors */
				CHECK(pipe(p) == 0);
				send_raw(sv[0], raw + off, chunk, p, 2);
				close(p[0]);
				close(p[1]);
			} else
				send_raw(sv[0], raw + off, chunk, NULL, 0);
			if (random() % 2 == 0)
				continue;
			rv = imsgbuf_read(&b);
			CHECK(rv == 1 || rv == -1);
			while ((n = imsg_get(&b, &imsg)) > 0) {
				if (random() % 2 &&
				    (fd = imsg_get_fd(&imsg)) != -1)
					close(fd);
				imsg_free(&imsg);
				nmsgs++;
			}
			if (rv == -1 || n == -1)
				break;
		}
		imsgbuf_clear(&b);
		close(sv[0]);
		close(sv[1]);
	}
	CHECK(count_fds() == nfds);
	CHECK(nmsgs > 0);
	printf("ok: garbage: 300 random streams with stray fds, %d messages "
	    "framed, no crash, no fd leak\n", nmsgs);
}

int
main(void)
{
	/* as in the daemons: a closed peer shows as EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	alarm(120);

	test_ibuf();
	test_ibufq_msgbuf();
	test_roundtrip();
	test_large();
	test_create_add();
	test_forward();
	test_get_data();
	test_fdpass();
	test_fdpass_many();
	test_fdpass_straddle();
	test_fdpass_stray();
	test_fdpass_refused();
	test_fdpass_lost();
	test_split();
	test_many();
	test_bad_headers();
	test_oversized_compose();
	test_eof();
	test_write_eagain_flush();
	test_garbage();
	printf("test_imsg: all passed\n");
	return (0);
}
