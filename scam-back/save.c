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
 * The engine's side of saved messages: libmilter's threads queue the
 * start of a refused message; the event thread, the only one that
 * touches the parent's imsgbuf, sends each as a start, pieces and an
 * end.  The queue is bounded: a flood of refused mail costs saved files,
 * never the engine's memory.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "save.h"

#define SAVE_QUEUE_MAX		(16 * 1024 * 1024)	/* octets queued */
#define SAVE_PIECE		8192			/* octets an imsg */

struct saved {
	TAILQ_ENTRY(saved)	 entry;
	struct save_hdr		 hdr;
	char			 data[];
};

static TAILQ_HEAD(, saved)	 queue = TAILQ_HEAD_INITIALIZER(queue);
static pthread_mutex_t		 queue_mtx = PTHREAD_MUTEX_INITIALIZER;
static size_t			 queued;
static struct event		 save_ev;
static struct imsgev		*save_iev;

static void	save_send(int, short, void *);

/* Event thread, once the event base exists. */
void
save_init(struct imsgev *parent)
{
	save_iev = parent;
	event_set(&save_ev, -1, 0, save_send, NULL);
}

/* Any thread: a copy goes into the queue, the event thread sends it. */
void
save_enqueue(uint32_t rule, const char *data, size_t len,
    const char *sender, const char *rcpt, const char *client)
{
	struct saved	*s;

	if (save_iev == NULL)
		return;
	if ((s = malloc(sizeof(*s) + len)) == NULL) {
		log_warn("%s", __func__);
		return;
	}
	memset(&s->hdr, 0, sizeof(s->hdr));
	s->hdr.rule = rule;
	s->hdr.len = len;
	strlcpy(s->hdr.sender, sender, sizeof(s->hdr.sender));
	strlcpy(s->hdr.rcpt, rcpt, sizeof(s->hdr.rcpt));
	strlcpy(s->hdr.client, client, sizeof(s->hdr.client));
	if (len > 0)
		memcpy(s->data, data, len);

	pthread_mutex_lock(&queue_mtx);
	if (queued + len > SAVE_QUEUE_MAX) {
		pthread_mutex_unlock(&queue_mtx);
		log_warnx("rule %u: refused message not saved: %zu octets "
		    "already wait for the parent", rule, queued);
		free(s);
		return;
	}
	queued += len;
	TAILQ_INSERT_TAIL(&queue, s, entry);
	pthread_mutex_unlock(&queue_mtx);
	event_active(&save_ev, EV_TIMEOUT, 1);
}

/* Event thread: everything queued, in order, whole. */
static void
save_send(int fd, short event, void *arg)
{
	struct saved	*s;
	size_t		 off, n;

	for (;;) {
		pthread_mutex_lock(&queue_mtx);
		if ((s = TAILQ_FIRST(&queue)) != NULL) {
			TAILQ_REMOVE(&queue, s, entry);
			queued -= s->hdr.len;
		}
		pthread_mutex_unlock(&queue_mtx);
		if (s == NULL)
			break;
		if (imsg_compose(&save_iev->ibuf, IMSG_SAVE_START, 0, 0, -1,
		    &s->hdr, sizeof(s->hdr)) == -1)
			fatal("%s: imsg_compose", __func__);
		for (off = 0; off < s->hdr.len; off += n) {
			n = s->hdr.len - off;
			if (n > SAVE_PIECE)
				n = SAVE_PIECE;
			if (imsg_compose(&save_iev->ibuf, IMSG_SAVE_DATA, 0, 0,
			    -1, s->data + off, n) == -1)
				fatal("%s: imsg_compose", __func__);
		}
		if (imsg_compose(&save_iev->ibuf, IMSG_SAVE_END, 0, 0, -1,
		    NULL, 0) == -1)
			fatal("%s: imsg_compose", __func__);
		free(s);
	}
	imsgev_add(save_iev);
}
