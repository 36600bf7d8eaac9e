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
 * storewait: how should a gateway that finds another gateway's lock on a
 * new address wait for its verdict, by polling the store or by being told
 * over pub/sub?  Measured against a real Redis, two gateways on one event
 * loop, with the commands the shared cache sends:
 *
 *	storewait -p port [-a password] [-n addresses] [-d probe_ms]
 *	    [-i poll_ms] [-s subscribers]
 *	storewait -p port [-a password] -L pings
 *
 * Gateway A takes the lock (SET NX PX), "probes" for probe_ms, stores the
 * verdict and releases the lock; gateway B asks for the same address just
 * after A took the lock.  poll: B looks again (a GET-or-lock script, as a
 * lookup is) every poll_ms.  pubsub: A also publishes the address, which
 * `subscribers' connections receive (every gateway listens), and B looks
 * once more when it hears it.  Then the uncontested case: A alone, n new
 * addresses, where pub/sub still publishes each verdict.
 *
 * For each, per address: the store's CPU time (INFO), the commands the
 * gateways sent and the messages the store delivered; and how long after
 * A sent the verdict B has it (median and worst).  One line per case:
 *	poll contested cpu_us 41.2 cmds 6.0 msgs 0.0 late_ms median 4.9 worst 9.8
 *
 * -L: the store's own round trip instead, PING after PING with the same
 * client library as the daemon's:
 *	rtt_ms median 0.041 p99 0.120 worst 0.800
 */

#include <sys/types.h>

#include <err.h>
#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "bench.h"

#define MAXN	10000

static const char poll_script[] =
    "local v = redis.call('GET', KEYS[1]) "
    "if v then return v end "
    "return redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', 5000)";

enum mode { POLL, PUBSUB };

static redisAsyncContext *ca, *cb;		/* gateways A and B */
static redisAsyncContext *subs[16];
static redisContext	*ctl;			/* INFO, synchronous */
static struct event_base *base;
static enum mode	 mode;
static int		 contested, nsubs = 2, n = 200, probe_ms = 10;
static int		 poll_ms = 10, idx, nrun;
static uint64_t		 stored_at, late[MAXN];
static int		 nlate, b_waiting;
static uint64_t		 sent, delivered;	/* commands, messages */
static char		 key[64], lock[64];
static struct event	 probe_ev, poll_ev;

static void	next_address(void);
static void	rtt(int);
static void	b_look(void);

static double
info_field(const char *section, const char *field)
{
	redisReply	*r;
	const char	*p;
	double		 v = 0;

	if ((r = redisCommand(ctl, "INFO %s", section)) == NULL)
		errx(1, "INFO: %s", ctl->errstr);
	if ((p = strstr(r->str, field)) != NULL)
		v = strtod(p + strlen(field), NULL);
	freeReplyObject(r);
	return (v);
}

static double
store_cpu(void)
{
	return (info_field("cpu", "used_cpu_sys:") +
	    info_field("cpu", "used_cpu_user:"));
}

static void
on_stored(redisAsyncContext *c, void *r, void *arg)
{
	if (!contested)
		next_address();
}

static void
probe_done(int fd, short ev, void *arg)
{
	stored_at = now_ns();
	sent += mode == PUBSUB ? 3 : 2;
	redisAsyncCommand(ca, NULL, NULL, "SET %s valid PX 60000", key);
	if (mode == PUBSUB) {
		redisAsyncCommand(ca, NULL, NULL, "DEL %s", lock);
		redisAsyncCommand(ca, on_stored, NULL, "PUBLISH sw:done %s",
		    key);
	} else
		redisAsyncCommand(ca, on_stored, NULL, "DEL %s", lock);
}

static void
b_reply(redisAsyncContext *c, void *reply, void *arg)
{
	redisReply	*r = reply;
	struct timeval	 tv = { 0, poll_ms * 1000 };

	if (r == NULL)
		errx(1, "B: connection lost");
	if (r->type == REDIS_REPLY_STRING && strcmp(r->str, "valid") == 0) {
		if (nlate < MAXN)
			late[nlate++] = now_ns() - stored_at;
		b_waiting = 0;
		next_address();
		return;
	}
	/* The lock is A's: wait. */
	b_waiting = 1;
	if (mode == POLL)
		evtimer_add(&poll_ev, &tv);
}

static void
b_look(void)
{
	sent++;
	redisAsyncCommand(cb, b_reply, NULL, "EVAL %s 2 %s %s B", poll_script,
	    key, lock);
}

static void
b_poll(int fd, short ev, void *arg)
{
	b_look();
}

static void
on_message(redisAsyncContext *c, void *reply, void *arg)
{
	redisReply	*r = reply;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    strcmp(r->element[0]->str, "message") != 0)
		return;
	delivered++;
	if (c == subs[0] && b_waiting && strcmp(r->element[2]->str, key) == 0)
		b_look();
}

static void
a_locked(redisAsyncContext *c, void *r, void *arg)
{
	struct timeval	tv = { 0, probe_ms * 1000 };

	evtimer_add(&probe_ev, &tv);
	if (contested)
		b_look();
}

static void
next_address(void)
{
	if (idx == n) {
		event_base_loopbreak(base);
		return;
	}
	/* Every run its own addresses: none is known yet. */
	snprintf(key, sizeof(key), "sw:rcpt:%d-%d-%d@example.net",
	    (int)getpid(), nrun, idx);
	snprintf(lock, sizeof(lock), "sw:lock:%d-%d-%d@example.net",
	    (int)getpid(), nrun, idx);
	idx++;
	sent++;
	redisAsyncCommand(ca, a_locked, NULL, "SET %s A NX PX 5000", lock);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static void
run(enum mode m, int cont)
{
	double	cpu0, cpu;

	mode = m;
	contested = cont;
	idx = nlate = 0;
	sent = delivered = 0;
	nrun++;
	cpu0 = store_cpu();
	next_address();
	event_base_dispatch(base);
	cpu = (store_cpu() - cpu0) * 1e6 / n;
	printf("%s %s cpu_us %.1f cmds %.1f msgs %.1f",
	    m == POLL ? "poll" : "pubsub", cont ? "contested" : "uncontested",
	    cpu, (double)sent / n, (double)delivered / n);
	if (nlate > 0) {
		qsort(late, nlate, sizeof(late[0]), cmp_u64);
		printf(" late_ms median %.2f worst %.2f",
		    late[nlate / 2] / 1e6, late[nlate - 1] / 1e6);
	}
	printf("\n");
	fflush(stdout);
}

static void
rtt(int pings)
{
	redisReply	*r;
	uint64_t	 t0;
	int		 i;

	for (i = 0; i < pings; i++) {
		t0 = now_ns();
		if ((r = redisCommand(ctl, "PING")) == NULL)
			errx(1, "PING: %s", ctl->errstr);
		late[i] = now_ns() - t0;
		freeReplyObject(r);
	}
	qsort(late, pings, sizeof(late[0]), cmp_u64);
	printf("rtt_ms median %.3f p99 %.3f worst %.3f\n",
	    late[pings / 2] / 1e6, late[(pings * 99 + 99) / 100 - 1] / 1e6,
	    late[pings - 1] / 1e6);
}

static redisAsyncContext *
connect_to(int port, const char *password)
{
	redisAsyncContext	*c;

	if ((c = redisAsyncConnect("127.0.0.1", port)) == NULL || c->err)
		errx(1, "connect: %s", c ? c->errstr : "out of memory");
	redisLibeventAttach(c, base);
	if (password != NULL)
		redisAsyncCommand(c, NULL, NULL, "AUTH %s", password);
	return (c);
}

int
main(int argc, char *argv[])
{
	const char	*password = NULL, *errstr;
	int		 ch, port = 0, i, pings = 0;
	redisReply	*r;

	while ((ch = getopt(argc, argv, "a:d:i:L:n:p:s:")) != -1) {
		switch (ch) {
		case 'L':
			pings = strtonum(optarg, 1, MAXN, &errstr);
			if (errstr != NULL)
				errx(1, "-L %s: %s", optarg, errstr);
			break;
		case 'a':
			password = optarg;
			break;
		case 'd':
			probe_ms = strtonum(optarg, 0, 10000, &errstr);
			if (errstr != NULL)
				errx(1, "-d %s: %s", optarg, errstr);
			break;
		case 'i':
			poll_ms = strtonum(optarg, 1, 1000, &errstr);
			if (errstr != NULL)
				errx(1, "-i %s: %s", optarg, errstr);
			break;
		case 'n':
			n = strtonum(optarg, 1, MAXN, &errstr);
			if (errstr != NULL)
				errx(1, "-n %s: %s", optarg, errstr);
			break;
		case 'p':
			port = strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				errx(1, "-p %s: %s", optarg, errstr);
			break;
		case 's':
			nsubs = strtonum(optarg, 1, 16, &errstr);
			if (errstr != NULL)
				errx(1, "-s %s: %s", optarg, errstr);
			break;
		default:
			fprintf(stderr, "usage: storewait -p port [-a password] "
			    "[-d probe_ms] [-i poll_ms] [-n addresses] "
			    "[-s subscribers]\n"
			    "       storewait -p port [-a password] -L pings\n");
			return (2);
		}
	}
	if (port == 0)
		errx(1, "-p port is needed");

	if ((ctl = redisConnect("127.0.0.1", port)) == NULL || ctl->err)
		errx(1, "connect: %s", ctl ? ctl->errstr : "out of memory");
	if (password != NULL) {
		r = redisCommand(ctl, "AUTH %s", password);
		freeReplyObject(r);
	}
	if (pings > 0) {
		rtt(pings);
		return (0);
	}
	base = event_init();
	ca = connect_to(port, password);
	cb = connect_to(port, password);
	for (i = 0; i < nsubs; i++) {
		subs[i] = connect_to(port, password);
		redisAsyncCommand(subs[i], on_message, NULL,
		    "SUBSCRIBE sw:done");
	}
	evtimer_set(&probe_ev, probe_done, NULL);
	evtimer_set(&poll_ev, b_poll, NULL);

	run(POLL, 1);
	run(PUBSUB, 1);
	run(POLL, 0);
	run(PUBSUB, 0);
	return (0);
}
