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
 * ibuf, ibufqueue and msgbuf: the buffer layer under imsg, as described in
 * OpenBSD's ibuf_add(3) and msgbuf_new(3).  A msgbuf holds a queue of
 * buffers to write and, when made with msgbuf_new_reader(), the state that
 * cuts the incoming byte stream into messages.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"

/* fd value that marks an ibuf living in caller memory (ibuf_from_buffer) */
#define IBUF_FD_ON_STACK	(-2)

/* received descriptors not yet claimed by a message header */
#define MSGBUF_MAXFDS		8

struct ibufqueue {
	TAILQ_HEAD(, ibuf)	 bufs;
	uint32_t		 queued;
};

/*
 * A descriptor that arrived with the bytes [start, end) of the stream.
 * On Linux a descriptor passed with SCM_RIGHTS is returned by the read
 * that contains the first byte of the sendmsg(2) that carried it, and
 * msgbuf_write() starts every such sendmsg(2) with the message owning the
 * descriptor, so its owner is a header that begins inside [start, end).
 */
struct msgbuf_fd {
	int			 fd;
	uint64_t		 start;
	uint64_t		 end;
};

struct msgbuf {
	struct ibufqueue	 bufs;		/* queued for writing */
	struct ibufqueue	 rbufs;		/* complete messages read */
	unsigned char		*rbuf;		/* bytes not yet in a message */
	size_t			 rlen;
	uint64_t		 roff;		/* stream offset of rbuf[0] */
	struct ibuf		*rpmsg;		/* message being filled */
	struct ibuf		*(*readhdr)(struct ibuf *, void *, int *);
	void			*rarg;
	size_t			 hdrsize;
	int			 rerrno;	/* framing failed: stays failed */
	struct msgbuf_fd	 rfds[MSGBUF_MAXFDS];
	int			 nrfds;
};

static void	ibufq_init(struct ibufqueue *);
static void	msgbuf_drain(struct msgbuf *, size_t);
static void	msgbuf_fd_add(struct msgbuf *, int, uint64_t, uint64_t);
static int	msgbuf_fd_peek(struct msgbuf *, uint64_t);
static void	msgbuf_fd_pop(struct msgbuf *);
static void	msgbuf_fd_closeall(struct msgbuf *);
static int	msgbuf_process(struct msgbuf *);

struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf	*buf;

	if ((buf = calloc(1, sizeof(*buf))) == NULL)
		return (NULL);
	if (len > 0 && (buf->buf = calloc(len, 1)) == NULL) {
		free(buf);
		return (NULL);
	}
	buf->size = buf->max = len;
	buf->fd = -1;
	return (buf);
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf	*buf;

	if (max == 0 || max < len) {
		errno = EINVAL;
		return (NULL);
	}
	if ((buf = ibuf_open(len)) == NULL)
		return (NULL);
	buf->max = max;
	return (buf);
}

void *
ibuf_reserve(struct ibuf *buf, size_t len)
{
	unsigned char	*nb;
	size_t		 need, nsize;
	void		*p;

	if (buf->fd == IBUF_FD_ON_STACK) {
		/* caller memory cannot grow */
		errno = EINVAL;
		return (NULL);
	}
	if (len > SIZE_MAX - buf->wpos || buf->wpos + len > buf->max) {
		errno = ERANGE;
		return (NULL);
	}
	need = buf->wpos + len;
	if (need > buf->size) {
		/* grow geometrically so that many small adds stay cheap */
		nsize = buf->size < buf->max / 2 ? buf->size * 2 : buf->max;
		if (nsize < need)
			nsize = need;
		if ((nb = realloc(buf->buf, nsize)) == NULL)
			return (NULL);
		memset(nb + buf->size, 0, nsize - buf->size);
		buf->buf = nb;
		buf->size = nsize;
	}
	p = buf->buf + buf->wpos;
	buf->wpos += len;
	return (p);
}

int
ibuf_add(struct ibuf *buf, const void *data, size_t len)
{
	void	*p;

	if (len == 0)
		return (0);
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(p, data, len);
	return (0);
}

int
ibuf_add_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	return (ibuf_add(buf, ibuf_data(from), ibuf_size(from)));
}

int
ibuf_add_zero(struct ibuf *buf, size_t len)
{
	void	*p;

	if (len == 0)
		return (0);
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memset(p, 0, len);
	return (0);
}

int
ibuf_add_n8(struct ibuf *buf, uint64_t value)
{
	uint8_t	 v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe16((uint16_t)value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe32((uint32_t)value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_n64(struct ibuf *buf, uint64_t value)
{
	uint64_t v;

	v = htobe64(value);
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h16(struct ibuf *buf, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h32(struct ibuf *buf, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_add(buf, &v, sizeof(v)));
}

int
ibuf_add_h64(struct ibuf *buf, uint64_t value)
{
	return (ibuf_add(buf, &value, sizeof(value)));
}

int
ibuf_add_strbuf(struct ibuf *buf, const char *str, size_t len)
{
	size_t	 n;
	char	*p;

	n = strnlen(str, len);
	if (n >= len) {
		/* no room for the NUL; covers len == 0 too */
		errno = EOVERFLOW;
		return (-1);
	}
	if ((p = ibuf_reserve(buf, len)) == NULL)
		return (-1);
	memcpy(p, str, n);
	memset(p + n, 0, len - n);
	return (0);
}

void *
ibuf_seek(struct ibuf *buf, size_t pos, size_t len)
{
	/* only the unread part, between rpos and wpos, can be reached */
	if (pos > ibuf_size(buf) || len > ibuf_size(buf) - pos) {
		errno = ERANGE;
		return (NULL);
	}
	return (buf->buf + buf->rpos + pos);
}

int
ibuf_set(struct ibuf *buf, size_t pos, const void *data, size_t len)
{
	void	*p;

	if ((p = ibuf_seek(buf, pos, len)) == NULL)
		return (-1);
	if (len > 0)
		memcpy(p, data, len);
	return (0);
}

int
ibuf_set_n8(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint8_t	 v;

	if (value > UINT8_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe16((uint16_t)value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = htobe32((uint32_t)value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_n64(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint64_t v;

	v = htobe64(value);
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h16(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint16_t v;

	if (value > UINT16_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h32(struct ibuf *buf, size_t pos, uint64_t value)
{
	uint32_t v;

	if (value > UINT32_MAX) {
		errno = EINVAL;
		return (-1);
	}
	v = value;
	return (ibuf_set(buf, pos, &v, sizeof(v)));
}

int
ibuf_set_h64(struct ibuf *buf, size_t pos, uint64_t value)
{
	return (ibuf_set(buf, pos, &value, sizeof(value)));
}

int
ibuf_set_maxsize(struct ibuf *buf, size_t max)
{
	if (buf->fd == IBUF_FD_ON_STACK) {
		errno = EINVAL;
		return (-1);
	}
	/* may only shrink, and never below what is already written */
	if (max > buf->max || max < buf->wpos) {
		errno = ERANGE;
		return (-1);
	}
	buf->max = max;
	return (0);
}

void *
ibuf_data(const struct ibuf *buf)
{
	return (buf->buf + buf->rpos);
}

size_t
ibuf_size(const struct ibuf *buf)
{
	return (buf->wpos - buf->rpos);
}

size_t
ibuf_left(const struct ibuf *buf)
{
	if (buf->fd == IBUF_FD_ON_STACK)
		return (0);
	return (buf->max - buf->wpos);
}

int
ibuf_truncate(struct ibuf *buf, size_t len)
{
	if (len <= ibuf_size(buf)) {
		buf->wpos = buf->rpos + len;
		return (0);
	}
	if (buf->fd == IBUF_FD_ON_STACK) {
		/* caller memory can only shrink */
		errno = ERANGE;
		return (-1);
	}
	return (ibuf_add_zero(buf, len - ibuf_size(buf)));
}

void
ibuf_rewind(struct ibuf *buf)
{
	buf->rpos = 0;
}

void
ibuf_close(struct msgbuf *msgbuf, struct ibuf *buf)
{
	ibufq_push(&msgbuf->bufs, buf);
}

void
ibuf_from_buffer(struct ibuf *buf, void *data, size_t len)
{
	memset(buf, 0, sizeof(*buf));
	buf->buf = data;
	buf->size = buf->wpos = len;
	buf->fd = IBUF_FD_ON_STACK;
}

void
ibuf_from_ibuf(struct ibuf *buf, const struct ibuf *from)
{
	ibuf_from_buffer(buf, ibuf_data(from), ibuf_size(from));
}

int
ibuf_get(struct ibuf *buf, void *data, size_t len)
{
	if (len > ibuf_size(buf)) {
		errno = EBADMSG;
		return (-1);
	}
	if (len > 0)
		memcpy(data, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_ibuf(struct ibuf *buf, size_t len, struct ibuf *new)
{
	if (len > ibuf_size(buf)) {
		errno = EBADMSG;
		return (-1);
	}
	ibuf_from_buffer(new, ibuf_data(buf), len);
	buf->rpos += len;
	return (0);
}

int
ibuf_get_n8(struct ibuf *buf, uint8_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_n16(struct ibuf *buf, uint16_t *value)
{
	uint16_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be16toh(v);
	return (0);
}

int
ibuf_get_n32(struct ibuf *buf, uint32_t *value)
{
	uint32_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be32toh(v);
	return (0);
}

int
ibuf_get_n64(struct ibuf *buf, uint64_t *value)
{
	uint64_t v;

	if (ibuf_get(buf, &v, sizeof(v)) == -1)
		return (-1);
	*value = be64toh(v);
	return (0);
}

int
ibuf_get_h16(struct ibuf *buf, uint16_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_h32(struct ibuf *buf, uint32_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

int
ibuf_get_h64(struct ibuf *buf, uint64_t *value)
{
	return (ibuf_get(buf, value, sizeof(*value)));
}

char *
ibuf_get_string(struct ibuf *buf, size_t len)
{
	char	*str;

	if (len > ibuf_size(buf)) {
		errno = EBADMSG;
		return (NULL);
	}
	if ((str = strndup(ibuf_data(buf), len)) == NULL)
		return (NULL);
	buf->rpos += len;
	return (str);
}

int
ibuf_get_strbuf(struct ibuf *buf, char *str, size_t len)
{
	if (len == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (ibuf_get(buf, str, len) == -1)
		return (-1);
	if (str[len - 1] != '\0') {
		str[len - 1] = '\0';
		errno = EOVERFLOW;
		return (-1);
	}
	return (0);
}

int
ibuf_skip(struct ibuf *buf, size_t len)
{
	if (len > ibuf_size(buf)) {
		errno = EBADMSG;
		return (-1);
	}
	buf->rpos += len;
	return (0);
}

void
ibuf_free(struct ibuf *buf)
{
	int	 saved_errno;

	if (buf == NULL)
		return;
	/* freeing caller memory is a bug that must not go further */
	if (buf->fd == IBUF_FD_ON_STACK)
		abort();
	saved_errno = errno;
	if (buf->fd >= 0)
		close(buf->fd);
	freezero(buf->buf, buf->size);
	free(buf);
	errno = saved_errno;
}

int
ibuf_fd_avail(struct ibuf *buf)
{
	return (buf->fd >= 0);
}

int
ibuf_fd_get(struct ibuf *buf)
{
	int	 fd;

	if (buf->fd < 0)
		return (-1);
	fd = buf->fd;
	buf->fd = -1;
	return (fd);
}

void
ibuf_fd_set(struct ibuf *buf, int fd)
{
	if (buf->fd == IBUF_FD_ON_STACK)
		abort();
	if (buf->fd >= 0)
		close(buf->fd);
	buf->fd = fd >= 0 ? fd : -1;
}

struct msgbuf *
msgbuf_new(void)
{
	struct msgbuf	*msgbuf;

	if ((msgbuf = calloc(1, sizeof(*msgbuf))) == NULL)
		return (NULL);
	ibufq_init(&msgbuf->bufs);
	ibufq_init(&msgbuf->rbufs);
	return (msgbuf);
}

struct msgbuf *
msgbuf_new_reader(size_t hdrsize,
    struct ibuf *(*readhdr)(struct ibuf *, void *, int *), void *arg)
{
	struct msgbuf	*msgbuf;
	unsigned char	*rbuf;

	if (hdrsize == 0 || hdrsize > IBUF_READ_SIZE / 2 || readhdr == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((rbuf = malloc(IBUF_READ_SIZE)) == NULL)
		return (NULL);
	if ((msgbuf = msgbuf_new()) == NULL) {
		free(rbuf);
		return (NULL);
	}
	msgbuf->rbuf = rbuf;
	msgbuf->hdrsize = hdrsize;
	msgbuf->readhdr = readhdr;
	msgbuf->rarg = arg;
	return (msgbuf);
}

void
msgbuf_free(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return;
	msgbuf_clear(msgbuf);
	free(msgbuf->rbuf);
	free(msgbuf);
}

void
msgbuf_clear(struct msgbuf *msgbuf)
{
	ibufq_flush(&msgbuf->bufs);

	ibufq_flush(&msgbuf->rbufs);
	ibuf_free(msgbuf->rpmsg);
	msgbuf->rpmsg = NULL;
	msgbuf->rlen = 0;
	msgbuf->roff = 0;
	msgbuf->rerrno = 0;
	msgbuf_fd_closeall(msgbuf);
}

void
msgbuf_concat(struct msgbuf *msgbuf, struct ibufqueue *from)
{
	ibufq_concat(&msgbuf->bufs, from);
}

uint32_t
msgbuf_queuelen(struct msgbuf *msgbuf)
{
	if (msgbuf == NULL)
		return (0);
	return (ibufq_queuelen(&msgbuf->bufs));
}

struct ibuf *
msgbuf_get(struct msgbuf *msgbuf)
{
	return (ibufq_pop(&msgbuf->rbufs));
}

int
ibuf_write(int fd, struct msgbuf *msgbuf)
{
	struct iovec	 iov[IOV_MAX];
	struct ibuf	*buf;
	ssize_t		 n;
	int		 i = 0;

	TAILQ_FOREACH(buf, &msgbuf->bufs.bufs, entry) {
		if (i >= IOV_MAX)
			break;
		iov[i].iov_base = ibuf_data(buf);
		iov[i].iov_len = ibuf_size(buf);
		i++;
	}
	if (i == 0)
		return (0);

	while ((n = writev(fd, iov, i)) == -1) {
		if (errno == EINTR)
			continue;
		/* the queue stays as it is; the caller retries later */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return (0);
		return (-1);
	}
	msgbuf_drain(msgbuf, n);
	return (0);
}

int
msgbuf_write(int fd, struct msgbuf *msgbuf)
{
	struct iovec	 iov[IOV_MAX];
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct ibuf	*buf, *fdbuf = NULL;
	ssize_t		 n;
	int		 i = 0;

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));

	/*
	 * At most one descriptor per sendmsg(2), and only with the first
	 * buffer, so that the receiver can tell which message owns it.
	 */
	TAILQ_FOREACH(buf, &msgbuf->bufs.bufs, entry) {
		if (i >= IOV_MAX)
			break;
		if (i > 0 && ibuf_fd_avail(buf))
			break;
		iov[i].iov_base = ibuf_data(buf);
		iov[i].iov_len = ibuf_size(buf);
		if (ibuf_fd_avail(buf))
			fdbuf = buf;
		i++;
	}
	if (i == 0)
		return (0);

	msg.msg_iov = iov;
	msg.msg_iovlen = i;
	if (fdbuf != NULL) {
		msg.msg_control = cmsgbuf.buf;
		msg.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		memcpy(CMSG_DATA(cmsg), &fdbuf->fd, sizeof(int));
	}

	while ((n = sendmsg(fd, &msg, 0)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return (0);
		return (-1);
	}

	/* the descriptor travels with the first byte; ours is a copy now */
	if (fdbuf != NULL && n > 0) {
		close(fdbuf->fd);
		fdbuf->fd = -1;
	}
	msgbuf_drain(msgbuf, n);
	return (0);
}

int
ibuf_read(int fd, struct msgbuf *msgbuf)
{
	ssize_t	 n;

	if (msgbuf->rbuf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (msgbuf->rerrno != 0) {
		errno = msgbuf->rerrno;
		return (-1);
	}

	while ((n = read(fd, msgbuf->rbuf + msgbuf->rlen,
	    IBUF_READ_SIZE - msgbuf->rlen)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		return (-1);
	}
	if (n == 0)
		return (0);

	msgbuf->rlen += n;
	return (msgbuf_process(msgbuf));
}

int
msgbuf_read(int fd, struct msgbuf *msgbuf)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cmsgbuf;
	struct msghdr	 msg;
	struct cmsghdr	*cmsg;
	struct iovec	 iov;
	uint64_t	 start;
	ssize_t		 n;
	size_t		 i, nfds;
	int		 f, fdpass = -1;

	if (msgbuf->rbuf == NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (msgbuf->rerrno != 0) {
		errno = msgbuf->rerrno;
		return (-1);
	}

	memset(&msg, 0, sizeof(msg));
	memset(&cmsgbuf, 0, sizeof(cmsgbuf));
	iov.iov_base = msgbuf->rbuf + msgbuf->rlen;
	iov.iov_len = IBUF_READ_SIZE - msgbuf->rlen;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cmsgbuf.buf;
	msg.msg_controllen = sizeof(cmsgbuf.buf);

	while ((n = recvmsg(fd, &msg, 0)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (1);
		return (-1);
	}

	/*
	 * MSG_CTRUNC: a descriptor did not fit, because this process is out
	 * of descriptors (EMFILE) or the peer sent more than the buffer
	 * holds; the kernel closed what it could not deliver.  The bytes all
	 * arrived and the stream stays in step: the message the descriptor
	 * belonged to comes with none (imsg_get_fd() gives -1), and its
	 * receiver takes that for the failure of that one request
	 * (regress/unit/test_imsg.c, test_fdpass_lost).
	 */

	/*
	 * Keep one descriptor.  The control buffer may hold more than one
	 * because of padding, and a peer may send several: close the rest.
	 */
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (fdpass == -1)
				fdpass = f;
			else
				close(f);
		}
	}

	if (n == 0) {
		if (fdpass != -1)
			close(fdpass);
		return (0);
	}

	start = msgbuf->roff + msgbuf->rlen;
	msgbuf->rlen += n;
	if (fdpass != -1)
		msgbuf_fd_add(msgbuf, fdpass, start, start + n);
	return (msgbuf_process(msgbuf));
}

/*
 * Cut the bytes in rbuf into messages.  The header callback decides how
 * long each message is (or rejects it) and may take the descriptor that
 * belongs to it.
 */
static int
msgbuf_process(struct msgbuf *msgbuf)
{
	struct ibuf	 hdr;
	size_t		 off = 0, n;
	int		 fd, cand, rv = 1;

	while (off < msgbuf->rlen) {
		if (msgbuf->rpmsg == NULL) {
			if (msgbuf->rlen - off < msgbuf->hdrsize)
				break;
			ibuf_from_buffer(&hdr, msgbuf->rbuf + off,
			    msgbuf->hdrsize);
			cand = fd = msgbuf_fd_peek(msgbuf, msgbuf->roff + off);
			msgbuf->rpmsg = msgbuf->readhdr(&hdr, msgbuf->rarg, &fd);
			if (cand != -1 && fd == -1)
				msgbuf_fd_pop(msgbuf);
			if (msgbuf->rpmsg == NULL) {
				msgbuf->rerrno = errno != 0 ? errno : EBADMSG;
				rv = -1;
				break;
			}
			/* a message must at least hold its header */
			if (ibuf_left(msgbuf->rpmsg) < msgbuf->hdrsize) {
				ibuf_free(msgbuf->rpmsg);
				msgbuf->rpmsg = NULL;
				msgbuf->rerrno = EBADMSG;
				rv = -1;
				break;
			}
		}

		n = ibuf_left(msgbuf->rpmsg);
		if (n > msgbuf->rlen - off)
			n = msgbuf->rlen - off;
		if (ibuf_add(msgbuf->rpmsg, msgbuf->rbuf + off, n) == -1) {
			msgbuf->rerrno = errno;
			rv = -1;
			break;
		}
		off += n;
		if (ibuf_left(msgbuf->rpmsg) == 0) {
			ibufq_push(&msgbuf->rbufs, msgbuf->rpmsg);
			msgbuf->rpmsg = NULL;
		}
	}

	if (off > 0) {
		memmove(msgbuf->rbuf, msgbuf->rbuf + off, msgbuf->rlen - off);
		msgbuf->rlen -= off;
		msgbuf->roff += off;
	}
	if (rv == -1) {
		/* nothing more will be framed: let go of waiting descriptors */
		msgbuf_fd_closeall(msgbuf);
		errno = msgbuf->rerrno;
	}
	return (rv);
}

static void
msgbuf_fd_add(struct msgbuf *msgbuf, int fd, uint64_t start, uint64_t end)
{
	struct msgbuf_fd	*rfd;

	/* a peer that sends descriptors nobody claims loses them */
	if (msgbuf->nrfds >= MSGBUF_MAXFDS) {
		close(fd);
		return;
	}
	rfd = &msgbuf->rfds[msgbuf->nrfds++];
	rfd->fd = fd;
	rfd->start = start;
	rfd->end = end;
}

/*
 * The descriptor for a header at stream offset off, or -1.  Descriptors
 * whose bytes all lie before off had their chance and are closed.
 */
static int
msgbuf_fd_peek(struct msgbuf *msgbuf, uint64_t off)
{
	while (msgbuf->nrfds > 0 && msgbuf->rfds[0].end <= off) {
		close(msgbuf->rfds[0].fd);
		msgbuf_fd_pop(msgbuf);
	}
	if (msgbuf->nrfds > 0 && msgbuf->rfds[0].start <= off)
		return (msgbuf->rfds[0].fd);
	return (-1);
}

static void
msgbuf_fd_pop(struct msgbuf *msgbuf)
{
	msgbuf->nrfds--;
	memmove(&msgbuf->rfds[0], &msgbuf->rfds[1],
	    msgbuf->nrfds * sizeof(msgbuf->rfds[0]));
}

static void
msgbuf_fd_closeall(struct msgbuf *msgbuf)
{
	while (msgbuf->nrfds > 0) {
		close(msgbuf->rfds[0].fd);
		msgbuf_fd_pop(msgbuf);
	}
}

static void
msgbuf_drain(struct msgbuf *msgbuf, size_t n)
{
	struct ibuf	*buf;

	while ((buf = TAILQ_FIRST(&msgbuf->bufs.bufs)) != NULL) {
		if (n < ibuf_size(buf)) {
			buf->rpos += n;
			return;
		}
		n -= ibuf_size(buf);
		TAILQ_REMOVE(&msgbuf->bufs.bufs, buf, entry);
		msgbuf->bufs.queued--;
		ibuf_free(buf);
	}
}

static void
ibufq_init(struct ibufqueue *bufq)
{
	TAILQ_INIT(&bufq->bufs);
	bufq->queued = 0;
}

struct ibufqueue *
ibufq_new(void)
{
	struct ibufqueue	*bufq;

	if ((bufq = calloc(1, sizeof(*bufq))) == NULL)
		return (NULL);
	ibufq_init(bufq);
	return (bufq);
}

void
ibufq_free(struct ibufqueue *bufq)
{
	if (bufq == NULL)
		return;
	ibufq_flush(bufq);
	free(bufq);
}

struct ibuf *
ibufq_pop(struct ibufqueue *bufq)
{
	struct ibuf	*buf;

	if ((buf = TAILQ_FIRST(&bufq->bufs)) == NULL)
		return (NULL);
	TAILQ_REMOVE(&bufq->bufs, buf, entry);
	bufq->queued--;
	return (buf);
}

void
ibufq_push(struct ibufqueue *bufq, struct ibuf *buf)
{
	/* caller memory on a queue would be freed later: stop here */
	if (buf->fd == IBUF_FD_ON_STACK)
		abort();
	TAILQ_INSERT_TAIL(&bufq->bufs, buf, entry);
	bufq->queued++;
}

uint32_t
ibufq_queuelen(struct ibufqueue *bufq)
{
	return (bufq->queued);
}

void
ibufq_concat(struct ibufqueue *to, struct ibufqueue *from)
{
	TAILQ_CONCAT(&to->bufs, &from->bufs, entry);
	to->queued += from->queued;
	from->queued = 0;
}

void
ibufq_flush(struct ibufqueue *bufq)
{
	struct ibuf	*buf;

	while ((buf = ibufq_pop(bufq)) != NULL)
		ibuf_free(buf);
}
