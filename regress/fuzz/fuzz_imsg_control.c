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
 * Fuzz target for the control socket (SPEC sections 4, 10): what any
 * local client may send to the engine.
 *
 *	make fuzz				libFuzzer provides main()
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * control.c is compiled into this target (its handler is static) and each
 * input is one client connection, set up as control_accept() does, whose
 * bytes control_dispatch_imsg() reads: requests of every kind, show cache
 * walks over a cache of 3000 entries (the event loop runs them), flushes,
 * checks, and the client going away.  Unlike the peers of the other imsg
 * targets, a client is not trusted: a bad request closes its connection,
 * and any fatal() here is a failure (abort).  The engine around it is
 * stubbed: stats, checks answered at once, messages to the parent and the
 * prober dropped unread.
 */

#include "imsgfuzz.h"

#include "control.c"
#include "imsgfuzz.h"

/* What engine.c would lend control.c (control_listen). */
static struct cache	*fuzz_cache;
static struct imsgev	 fuzz_parent, fuzz_prober;

static void
fuzz_stats(struct ctl_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->cache_entries = cache_count(fuzz_cache);
}

static void
fuzz_check(const char *address, uint32_t id,
    void (*done)(uint32_t, struct ctl_check *))
{
	struct ctl_check	cc;

	memset(&cc, 0, sizeof(cc));
	strlcpy(cc.address, address, sizeof(cc.address));
	cc.res.verdict = VERDICT_UNKNOWN;
	strlcpy(cc.res.text, "fuzzing", sizeof(cc.res.text));
	done(id, &cc);
}

/*
 * The parent and the prober: nobody there.  What was sent to them is
 * dropped, and their event goes back to reading only: a write event
 * that stays ready would keep event_loop(EVLOOP_NONBLOCK) from ending.
 */
static void
fuzz_nobody(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;

	fuzz_reset(iev);
	imsgev_add(iev);
}

static void
fuzz_peer(struct imsgev *iev)
{
	int	fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1 ||
	    imsgbuf_init(&iev->ibuf, fds[0]) == -1)
		abort();
	iev->handler = fuzz_nobody;
	event_set(&iev->ev, fds[0], EV_READ, fuzz_nobody, iev);
}

static void
fuzz_seeds(void)
{
	static uint8_t		 buf[65536];
	struct ctl_filter	 f[3];
	const uint32_t		 t_show[] = { IMSG_CTL_SHOW_CACHE };
	const uint32_t		 t_flush[] = { IMSG_CTL_FLUSH_CACHE };
	const uint32_t		 t_check[] = { IMSG_CTL_CHECK };
	const uint32_t		 t_simple[] = { IMSG_CTL_SHOW_STATS,
				    IMSG_CTL_SHOW_STATS };
	const uint32_t		 t_one[] = { IMSG_CTL_SAVE_CACHE,
				    IMSG_CTL_RELOAD, IMSG_CTL_SHOW_BACKENDS,
				    IMSG_CTL_LOG_VERBOSE };
	const void		*d[2];
	size_t			 l[2], n, i;
	int			 v = 1;

	memset(f, 0, sizeof(f));
	f[1].state = CTL_STATE_VALID;
	strlcpy(f[1].match, "@example.net", sizeof(f[1].match));
	f[2].state = CTL_STATE_INVALID;
	strlcpy(f[2].match, "u17@example.net", sizeof(f[2].match));
	for (i = 0; i < 3; i++) {
		d[0] = &f[i];
		l[0] = sizeof(f[i]);
		n = seed_msgs(buf, sizeof(buf), t_show, d, l, 1);
		seed_write(0, buf, n);
	}
	d[0] = &f[1];
	l[0] = sizeof(f[1]);
	n = seed_msgs(buf, sizeof(buf), t_flush, d, l, 1);
	seed_write(0, buf, n);
	d[0] = &f[2];
	n = seed_msgs(buf, sizeof(buf), t_check, d, l, 1);
	seed_write(0, buf, n);
	d[0] = d[1] = NULL;
	l[0] = l[1] = 0;
	n = seed_msgs(buf, sizeof(buf), t_simple, d, l, 2);
	seed_write(0, buf, n);
	for (i = 0; i < 4; i++) {
		d[0] = i == 3 ? &v : NULL;
		l[0] = i == 3 ? sizeof(v) : 0;
		n = seed_msgs(buf, sizeof(buf), &t_one[i], d, l, 1);
		seed_write(0, buf, n);
	}
}

/* 3000 entries, again after a flush. */
static void
fuzz_fill(void)
{
	char	addr[64];
	time_t	now = time(NULL);
	int	i;

	for (i = 0; i < 3000; i++) {
		snprintf(addr, sizeof(addr), "u%d@%s", i,
		    i % 3 ? "example.net" : "example.org");
		cache_put(fuzz_cache, addr, i % 2 ? VERDICT_VALID :
		    VERDICT_INVALID, now + 3600 + i);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_start(fuzz_seeds);
	fuzz_cache = cache_new(5000);
	fuzz_fill();
	fuzz_peer(&fuzz_parent);
	fuzz_peer(&fuzz_prober);
	engine.cache = fuzz_cache;
	engine.parent = &fuzz_parent;
	engine.prober = &fuzz_prober;
	engine.stats = fuzz_stats;
	engine.check = fuzz_check;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 buf[65536];
	struct ctl_conn	*c;
	uint32_t	 id;
	int		 fds[2], i;

	/* The first byte is a peer selector in the other targets: skip it. */
	if (size < 1 || fuzz_socket(fds, data + 1, size - 1) == -1)
		return (0);

	/* As control_accept() does. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	if (++ctl_lastid == 0)
		ctl_lastid = 1;
	id = c->id = ctl_lastid;
	if (imsgbuf_init(&c->iev.ibuf, fds[0]) == -1)
		abort();
	evtimer_set(&c->walk_ev, control_walk, c);
	imsgev_set(&c->iev, control_dispatch_imsg, c);
	TAILQ_INSERT_TAIL(&ctl_conns, c, entry);
	ctl_nconns++;

	/* A client is no peer: a fatal() on its account is a failure. */
	fuzz_armed = 0;
	for (i = 0; i < 64 && control_byid(id) != NULL; i++) {
		if (fuzz_pending(fds[0]) > 0)
			control_dispatch_imsg(fds[0], EV_READ, &c->iev);
		else if (!evtimer_pending(&c->walk_ev, NULL))
			break;
		event_loop(EVLOOP_NONBLOCK);
		/* The client reads what it was sent: the walk goes on. */
		while (read(fds[1], buf, sizeof(buf)) > 0)
			;
	}
	/* Then the client goes away. */
	close(fds[1]);
	if (control_byid(id) != NULL)
		control_dispatch_imsg(fds[0], EV_READ, &c->iev);
	if ((c = control_byid(id)) != NULL)
		control_close(c);
	if (cache_count(fuzz_cache) < 3000)
		fuzz_fill();
	fuzz_reset(&fuzz_parent);
	fuzz_reset(&fuzz_prober);
	return (0);
}
