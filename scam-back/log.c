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

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/*
 * libmilter's threads log a line per verdict, all at once.  A line is
 * formatted by its own thread and appended to a queue; the thread that
 * finds the writer's lock free writes the queue out, its own line and
 * those the others appended meanwhile, in one write(2) to stderr or one
 * message a line to the log.  No thread waits while another writes, and
 * under load one write carries many lines.  Lines keep their order.
 *
 * Without -d the parent sends each line to the log daemon by the name of
 * its socket (sendsyslog(2)), so that a restart of the log daemon loses
 * nothing after it.  The children are chrooted and could not: their lines
 * go to the parent, one datagram each (log_relay(), log_relayed()).
 */
#define LOG_LINE_MAX	4096		/* longer lines are cut */
#define LOG_QUEUE_MAX	(64 * 1024)	/* then a caller waits and writes */

static void	log_enqueue(const char *, size_t);
static void	log_drain(void);
static void	log_write(const char *, size_t);
static void	log_send(pid_t, int, const char *);
static void	log_flush(void);

static int		 debug;
static int		 verbose;
static int		 also_stderr;
static int		 log_facility = LOG_DAEMON;
static int		 relay_fd = -1;		/* a child's way to the parent */
static const char	*log_procname;

/* The queue: lines for stderr, or a priority octet and a string each. */
static pthread_mutex_t	 queue_mtx = PTHREAD_MUTEX_INITIALIZER;
static char		 queue_buf[2][LOG_QUEUE_MAX];
static size_t		 queue_len;	/* of queue_buf[queue_cur] */
static int		 queue_cur;
/* Held by the one thread writing; the other buffer is its own then. */
static pthread_mutex_t	 write_mtx = PTHREAD_MUTEX_INITIALIZER;

/*
 * n_debug: log to stderr (the -d flag) instead of syslog.  Facility is
 * mail: scam-back's lines belong next to the MTA's.
 */
void
log_init(int n_debug, int facility)
{
	static int	 registered;

	log_flush();
	debug = n_debug;
	log_facility = facility & LOG_FACMASK;
	log_procinit(getprogname());
	/* What is queued when the process exits goes out first. */
	if (!registered && atexit(log_flush) == 0)
		registered = 1;
	tzset();
}

/*
 * Without -d, until the daemon serves: warnings and errors to standard
 * error too, so that a start that fails says why where it was started.
 */
void
log_stderr(int on)
{
	log_flush();
	also_stderr = on;
}

/*
 * A child without -d: its lines go out on fd, a datagram socket whose
 * other end the parent reads.
 */
void
log_relay(int fd)
{
	log_flush();
	relay_fd = fd;
}

/* The parent: a line a child sent, under the child's pid. */
void
log_relayed(pid_t pid, int pri, const char *text)
{
	char	 line[LOG_LINE_MAX];
	size_t	 i;

	/* Printable text only: a child is not trusted with the log. */
	for (i = 0; text[i] != '\0' && i < sizeof(line) - 1; i++)
		line[i] = (unsigned char)text[i] < 0x20 ||
		    (unsigned char)text[i] >= 0x7f ? '?' : text[i];
	line[i] = '\0';
	pthread_mutex_lock(&write_mtx);
	if (debug)
		dprintf(STDERR_FILENO, "%s\n", line);
	else
		log_send(pid, pri & LOG_PRIMASK, line);
	pthread_mutex_unlock(&write_mtx);
}

/*
 * The parent: a child's lines waiting on its log socket fd, a few at a
 * time, so that a child cannot keep the parent busy.  title names the
 * child in a warning.
 */
void
log_relay_read(int fd, pid_t pid, const char *title)
{
	char		 buf[LOG_RELAY_MAX + 1];
	ssize_t		 n;
	int		 i;

	for (i = 0; i < 64; i++) {
		if ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: log relay", title);
			return;
		}
		if (n < 2)
			continue;
		buf[n] = '\0';
		log_relayed(pid, (unsigned char)buf[0], buf + 1);
	}
}

void
log_procinit(const char *procname)
{
	if (procname != NULL)
		log_procname = procname;
}

void
log_setverbose(int v)
{
	verbose = v;
}

int
log_getverbose(void)
{
	return (verbose);
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
vlog(int pri, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	int	 saved_errno = errno, n;
	size_t	 off, room;

	/* Room is left for the line's end: a newline, or a NUL. */
	/* Every line says which process wrote it, in syslog too. */
	if (debug) {
		n = snprintf(line, sizeof(line) - 1, "%s: ", log_procname);
		off = n < 0 ? 0 : (size_t)n > sizeof(line) - 2 ?
		    sizeof(line) - 2 : (size_t)n;
	} else {
		line[0] = (unsigned char)pri;
		n = snprintf(line + 1, sizeof(line) - 2, "%s: ",
		    log_procname);
		off = 1 + (n < 0 ? 0 : (size_t)n > sizeof(line) - 3 ?
		    sizeof(line) - 3 : (size_t)n);
	}
	room = sizeof(line) - off - 1;
	errno = saved_errno;	/* for %m */
	n = vsnprintf(line + off, room, fmt, ap);
	off += n < 0 ? 0 : (size_t)n > room - 1 ? room - 1 : (size_t)n;
	line[off++] = debug ? '\n' : '\0';
	log_enqueue(line, off);

	errno = saved_errno;
}

/* Queue a line; write the queue unless another thread is writing it. */
static void
log_enqueue(const char *line, size_t len)
{
	int	empty;

	if (len == 0 || len > LOG_LINE_MAX)	/* vlog never makes one */
		return;
	pthread_mutex_lock(&queue_mtx);
	/* Written so that the compiler, too, sees the copy in bounds. */
	while (queue_len > LOG_QUEUE_MAX || len > LOG_QUEUE_MAX - queue_len) {
		/* The writer is behind: wait for it, then write too. */
		pthread_mutex_unlock(&queue_mtx);
		log_flush();
		pthread_mutex_lock(&queue_mtx);
	}
	memcpy(queue_buf[queue_cur & 1] + queue_len, line, len);
	queue_len += len;
	pthread_mutex_unlock(&queue_mtx);

	/*
	 * A writer that lets go looks again: a line queued by a thread
	 * that found the lock taken must not wait for the next line.
	 */
	while (pthread_mutex_trylock(&write_mtx) == 0) {
		log_drain();
		pthread_mutex_unlock(&write_mtx);
		pthread_mutex_lock(&queue_mtx);
		empty = queue_len == 0;
		pthread_mutex_unlock(&queue_mtx);
		if (empty)
			break;
	}
}

/* With write_mtx held: write until the queue is empty. */
static void
log_drain(void)
{
	char	*buf;
	size_t	 len;

	for (;;) {
		pthread_mutex_lock(&queue_mtx);
		buf = queue_buf[queue_cur];
		if ((len = queue_len) > 0) {
			queue_cur ^= 1;
			queue_len = 0;
		}
		pthread_mutex_unlock(&queue_mtx);
		if (len == 0)
			return;
		log_write(buf, len);
	}
}

static void
log_write(const char *buf, size_t len)
{
	const char	*p, *end = buf + len;
	ssize_t		 n;
	int		 pri;

	if (debug) {
		while (len > 0) {
			if ((n = write(STDERR_FILENO, buf, len)) == -1) {
				if (errno == EINTR)
					continue;
				return;
			}
			buf += n;
			len -= n;
		}
		return;
	}
	/* The priority octet may be 0 (LOG_EMERG): step over it first. */
	for (p = buf; p < end; p += strlen(p) + 1) {
		pri = (unsigned char)*p++;
		log_send(getpid(), pri, p);
		if (also_stderr && pri <= LOG_WARNING)
			dprintf(STDERR_FILENO, "%s: %s\n", getprogname(), p);
	}
}

/* With write_mtx held: one line to the parent, or to the log daemon. */
static void
log_send(pid_t pid, int pri, const char *text)
{
	char		 msg[LOG_LINE_MAX + 64], ts[32];
	struct tm	 tm;
	time_t		 now;
	size_t		 len;
	int		 n;

	if (relay_fd != -1) {
		msg[0] = pri;
		len = strlcpy(msg + 1, text, LOG_RELAY_MAX);
		if (len >= LOG_RELAY_MAX)
			len = LOG_RELAY_MAX - 1;
		while (send(relay_fd, msg, len + 1, MSG_NOSIGNAL) == -1 &&
		    errno == EINTR)
			;
		return;
	}
	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm) == 0)
		strlcpy(ts, "-", sizeof(ts));
	n = snprintf(msg, sizeof(msg), "<%d>%s %s[%d]: %s",
	    log_facility | (pri & LOG_PRIMASK), ts, getprogname(), (int)pid,
	    text);
	if (n < 0)
		return;
	(void)sendsyslog(msg, (size_t)n < sizeof(msg) ? (size_t)n :
	    sizeof(msg) - 1, 0);
}

/* Wait for the thread writing, if any, and write what is left. */
static void
log_flush(void)
{
	pthread_mutex_lock(&write_mtx);
	log_drain();
	pthread_mutex_unlock(&write_mtx);
}

void
log_warn(const char *emsg, ...)
{
	char	*nfmt;
	va_list	 ap;
	int	 saved_errno = errno;

	/* best effort to even work in out of memory situations */
	if (emsg == NULL)
		logit(LOG_ERR, "%s", strerror(saved_errno));
	else {
		va_start(ap, emsg);

		if (asprintf(&nfmt, "%s: %s", emsg,
		    strerror(saved_errno)) == -1) {
			/* we tried it... */
			vlog(LOG_ERR, emsg, ap);
			logit(LOG_ERR, "%s", strerror(saved_errno));
		} else {
			vlog(LOG_ERR, nfmt, ap);
			free(nfmt);
		}
		va_end(ap);
	}

	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (verbose) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static void
vfatalc(int code, const char *emsg, va_list ap)
{
	static char	s[BUFSIZ];
	const char	*sep;

	if (emsg != NULL) {
		(void)vsnprintf(s, sizeof(s), emsg, ap);
		sep = ": ";
	} else {
		s[0] = '\0';
		sep = "";
	}
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s",
		    log_procname, s, sep, strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s%s%s", log_procname, sep, s);
}

void
fatal(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(errno, emsg, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	va_list	ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
	va_end(ap);
	exit(1);
}
