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
 * Unit test of scam-back/dns.c, the engine's DNS answers: names are
 * checked before they leave the engine; identical questions in flight
 * make one request; answers are kept for their TTL, bounded, temporary
 * failures briefly; waits are bounded; dns_notify calls back; the sweep
 * answers what the prober lost; the cache never grows past its bound.
 * The main thread plays the engine's event thread.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "dns.h"

#define CHECK(e)	do {						\
	if (!(e))							\
		fail(__LINE__, #e);					\
} while (0)

__dead static void	 fail(int, const char *);
static void	 wake(void);
static long	 ms_since(const struct timespec *);
static void	 answer(const struct dns_req *, enum dns_result, uint32_t);
static void	 wait_counts(uint64_t, uint64_t);

static int	 woken;

__dead static void
fail(int line, const char *what)
{
	fprintf(stderr, "FAIL line %d: %s\n", line, what);
	exit(1);
}

static void
wake(void)
{
	__atomic_add_fetch(&woken, 1, __ATOMIC_SEQ_CST);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return ((t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000);
}

/* The prober's answer to a request: one address, the given TTL. */
static void
answer(const struct dns_req *req, enum dns_result r, uint32_t ttl)
{
	struct dns_res	res;

	memset(&res, 0, sizeof(res));
	res.id = req->id;
	res.answer.result = r;
	res.answer.ttl = ttl;
	strlcpy(res.answer.name, req->name, sizeof(res.answer.name));
	if (r == DNS_OK) {
		res.answer.naddrs = 1;
		res.answer.addrs[0].af = AF_INET;
		inet_pton(AF_INET, "192.0.2.25", &res.answer.addrs[0].addr);
	}
	CHECK(dns_done(&res) == 1);
}

/* Until sent and merged reach these counts: every waiter is waiting. */
static void
wait_counts(uint64_t sent, uint64_t merged)
{
	struct dns_stats	s;
	int			i;

	for (i = 0; i < 5000; i++) {
		dns_get_stats(&s);
		if (s.sent >= sent && s.merged >= merged)
			return;
		usleep(1000);
	}
	fail(__LINE__, "waiters never arrived");
}

static void
test_names(void)
{
	static const struct {
		const char	*in;
		int		 rc;
		const char	*out;
	} t[] = {
		{ "example.net", DNS_NAME_OK, "example.net" },
		{ "Mail.Example.NET.", DNS_NAME_OK, "mail.example.net" },
		{ "a-b.c0.example", DNS_NAME_OK, "a-b.c0.example" },
		{ "xn--bcher-kva.example", DNS_NAME_OK,
		    "xn--bcher-kva.example" },
		{ "localhost", DNS_NAME_OK, "localhost" },
		{ "", DNS_NAME_BAD, NULL },
		{ ".", DNS_NAME_BAD, NULL },
		{ "example..net", DNS_NAME_BAD, NULL },
		{ ".example.net", DNS_NAME_BAD, NULL },
		{ "example.net..", DNS_NAME_BAD, NULL },
		{ "-a.example", DNS_NAME_BAD, NULL },
		{ "a-.example", DNS_NAME_BAD, NULL },
		{ "example.net-", DNS_NAME_BAD, NULL },
		{ "under_score.example", DNS_NAME_BAD, NULL },
		{ "sp ace.example", DNS_NAME_BAD, NULL },
		{ "semi;colon.example", DNS_NAME_BAD, NULL },
		{ "new\nline.example", DNS_NAME_BAD, NULL },
		{ "b\xc3\xbc" "cher.example", DNS_NAME_UTF8, NULL },
		{ "[192.0.2.1]", DNS_NAME_LITERAL, NULL },
		{ "[IPv6:2001:db8::1]", DNS_NAME_LITERAL, NULL },
		{ "[ipv6:2001:db8::1]", DNS_NAME_LITERAL, NULL },
		{ "[2001:db8::1]", DNS_NAME_BAD, NULL },
		{ "[192.0.2.256]", DNS_NAME_BAD, NULL },
		{ "[]", DNS_NAME_BAD, NULL },
	};
	struct dns_addr	 lit;
	char		 out[HOSTNAME_LEN], name[300];
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (dns_name_check(t[i].in, out, sizeof(out), &lit) !=
		    t[i].rc) {
			fprintf(stderr, "\"%s\"\n", t[i].in);
			fail(__LINE__, "dns_name_check");
		}
		if (t[i].out != NULL)
			CHECK(strcmp(out, t[i].out) == 0);
	}
	CHECK(dns_name_check("[IPv6:2001:db8::1]", out, sizeof(out), &lit) ==
	    DNS_NAME_LITERAL && lit.af == AF_INET6);
	CHECK(dns_name_check("[192.0.2.1]", out, sizeof(out), &lit) ==
	    DNS_NAME_LITERAL && lit.af == AF_INET &&
	    lit.addr.v4.s_addr == inet_addr("192.0.2.1"));

	/* A label of 63 octets passes, 64 does not. */
	memset(name, 'a', 63);
	strlcpy(name + 63, ".example", sizeof(name) - 63);
	CHECK(dns_name_check(name, out, sizeof(out), NULL) == DNS_NAME_OK);
	memset(name, 'a', 64);
	strlcpy(name + 64, ".example", sizeof(name) - 64);
	CHECK(dns_name_check(name, out, sizeof(out), NULL) == DNS_NAME_BAD);
	/* 253 octets pass (a trailing dot besides), 254 do not. */
	for (i = 0; i < 252; i += 2)
		memcpy(name + i, "a.", 2);
	name[252] = 'a';
	name[253] = '\0';
	CHECK(dns_name_check(name, out, sizeof(out), NULL) == DNS_NAME_OK);
	name[253] = '.';
	name[254] = '\0';
	CHECK(dns_name_check(name, out, sizeof(out), NULL) == DNS_NAME_OK);
	name[253] = 'a';
	CHECK(dns_name_check(name, out, sizeof(out), NULL) == DNS_NAME_BAD);
	/* The output must fit. */
	CHECK(dns_name_check("example.net", out, 5, NULL) == DNS_NAME_BAD);
	CHECK(strcmp(dns_kind_name(DNS_NS), "ns") == 0);
	CHECK(strcmp(dns_result_name(DNS_NULLMX), "nullmx") == 0);
	CHECK(strcmp(dns_result_name(DNS_UNSUPPORTED), "unsupported") == 0);
	CHECK(strcmp(dns_result_name(99), "?") == 0);
	printf("ok names\n");
}

static void
test_immediate(void)
{
	struct dns_answer	ans;
	struct dns_req		req;

	/* Answered without a request. */
	CHECK(dns_lookup(DNS_RESOLVABLE, 0, "bad..name", 1000, &ans) == 1);
	CHECK(ans.result == DNS_BADNAME);
	CHECK(dns_lookup(DNS_MX, 0, "b\xc3\xbc.example", 1000, &ans) == 1);
	CHECK(ans.result == DNS_UNSUPPORTED);
	CHECK(dns_lookup(DNS_MX, 0, "[192.0.2.7]", 1000, &ans) == 1);
	CHECK(ans.result == DNS_OK && ans.naddrs == 1 &&
	    ans.addrs[0].af == AF_INET);
	CHECK(dns_lookup(DNS_NS, 0, "[192.0.2.7]", 1000, &ans) == 1);
	CHECK(ans.result == DNS_NODATA && ans.naddrs == 0);
	CHECK(dns_take(&req) == 0);
	CHECK(woken == 0);
	printf("ok no lookup for bad names and literals\n");
}

struct w {
	enum dns_kind		 kind;
	int			 flags;
	const char		*name;
	uint32_t		 ms;
	int			 rc;
	long			 took_ms;
	struct dns_answer	 ans;
};

static void *
waiter(void *arg)
{
	struct w	*w = arg;
	struct timespec	 t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	w->rc = dns_lookup(w->kind, w->flags, w->name, w->ms, &w->ans);
	w->took_ms = ms_since(&t0);
	return (NULL);
}

#define NW	50

static void
test_merge(void)
{
	pthread_t		 t[NW];
	struct w		 w[NW];
	struct dns_req		 req;
	struct dns_stats	 s0, s;
	struct dns_answer	 ans;
	int			 i;

	dns_get_stats(&s0);
	woken = 0;
	/* 50 threads ask one question, spelt two ways. */
	for (i = 0; i < NW; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].kind = DNS_RESOLVABLE;
		w[i].flags = DNS_PARENT;
		w[i].name = i % 2 ? "Sender.Example." : "sender.example";
		w[i].ms = 10000;
		if (pthread_create(&t[i], NULL, waiter, &w[i]) != 0)
			fail(__LINE__, "pthread_create");
	}
	wait_counts(s0.sent + 1, s0.merged + NW - 1);
	/* One request, one wake-up. */
	CHECK(woken == 1);
	CHECK(dns_take(&req) == 1);
	CHECK(req.kind == DNS_RESOLVABLE && req.flags == DNS_PARENT);
	CHECK(strcmp(req.name, "sender.example") == 0);
	CHECK(req.timeout_ms == DEFAULT_DNS_TIMEOUT * 1000);
	answer(&req, DNS_OK, 2);
	for (i = 0; i < NW; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].rc == 1 && w[i].ans.result == DNS_OK);
		CHECK(w[i].ans.naddrs == 1 && w[i].ans.ttl == 2);
	}
	dns_get_stats(&s);
	CHECK(s.sent == s0.sent + 1 && s.merged == s0.merged + NW - 1);

	/* Now cached: no wait, no request, even with ms 0. */
	CHECK(dns_lookup(DNS_RESOLVABLE, DNS_PARENT, "SENDER.example", 0,
	    &ans) == 1 && ans.result == DNS_OK);
	CHECK(dns_take(&req) == 0);
	/* Another kind, or without parent, is another question. */
	dns_prefetch(DNS_RESOLVABLE, 0, "sender.example");
	dns_prefetch(DNS_MX, 0, "sender.example");
	/* parent means nothing to mx: the same question. */
	dns_prefetch(DNS_MX, DNS_PARENT, "sender.example");
	CHECK(dns_take(&req) == 1 && req.kind == DNS_RESOLVABLE &&
	    req.flags == 0);
	answer(&req, DNS_NXDOMAIN, 100);
	CHECK(dns_take(&req) == 1 && req.kind == DNS_MX && req.flags == 0);
	answer(&req, DNS_NULLMX, 100);
	CHECK(dns_take(&req) == 0);
	CHECK(dns_lookup(DNS_RESOLVABLE, 0, "sender.example", 0, &ans) == 1 &&
	    ans.result == DNS_NXDOMAIN);
	CHECK(dns_lookup(DNS_MX, DNS_PARENT, "sender.example", 0, &ans) ==
	    1 && ans.result == DNS_NULLMX);

	/* The TTL of 2 s runs out: the next question asks again. */
	sleep(3);
	CHECK(dns_lookup(DNS_RESOLVABLE, DNS_PARENT, "sender.example", 0,
	    &ans) == 0 && ans.result == DNS_TEMPFAIL);
	CHECK(dns_take(&req) == 1 && strcmp(req.name, "sender.example") == 0);
	answer(&req, DNS_OK, 0);
	/* TTL 0: given to whoever waited, kept for nobody. */
	CHECK(dns_lookup(DNS_RESOLVABLE, DNS_PARENT, "sender.example", 0,
	    &ans) == 0);
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_OK, 100);
	printf("ok merge: %d waiters, one request; TTL kept and obeyed\n",
	    NW);
}

static void
test_bounds(void)
{
	struct dns_req		req;
	struct dns_answer	ans;
	struct dns_stats	s;
	char			name[64];
	int			i;

	/* A temporary failure is kept briefly, a long TTL at most an hour. */
	dns_prefetch(DNS_NS, 0, "servfail.example");
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_TEMPFAIL, 86400);
	CHECK(dns_lookup(DNS_NS, 0, "servfail.example", 0, &ans) == 1);
	CHECK(ans.result == DNS_TEMPFAIL && ans.ttl == DNS_TTL_TEMPFAIL);
	dns_prefetch(DNS_NS, 0, "long.example");
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_OK, 7 * 86400);
	CHECK(dns_lookup(DNS_NS, 0, "long.example", 0, &ans) == 1);
	CHECK(ans.result == DNS_OK && ans.ttl == DNS_TTL_MAX);

	/* Filled with lookups in flight, the cache refuses new ones. */
	dns_flush();
	for (i = 0; i < DNS_CACHE_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		dns_prefetch(DNS_MX, 0, name);
	}
	dns_get_stats(&s);
	CHECK(s.entries == DNS_CACHE_MAX);
	CHECK(dns_lookup(DNS_MX, 0, "one-more.example", 1000, &ans) == 1);
	CHECK(ans.result == DNS_TEMPFAIL);
	/* Once answered, the oldest answers make room. */
	while (dns_take(&req))
		answer(&req, DNS_OK, 1000);
	dns_prefetch(DNS_MX, 0, "one-more.example");
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_OK, 1000);
	dns_get_stats(&s);
	CHECK(s.entries == DNS_CACHE_MAX);
	CHECK(dns_lookup(DNS_MX, 0, "one-more.example", 0, &ans) == 1);
	CHECK(dns_lookup(DNS_MX, 0, "n0.example", 0, &ans) == 0);
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_OK, 1000);
	CHECK(dns_expire() == 0);
	dns_flush();
	dns_get_stats(&s);
	CHECK(s.entries == 0);
	printf("ok bounds: tempfail %ds, TTL at most %ds, %d entries\n",
	    DNS_TTL_TEMPFAIL, DNS_TTL_MAX, DNS_CACHE_MAX);
}

static void
test_wait(void)
{
	pthread_t		 t;
	struct w		 w;
	struct dns_req		 req;
	struct dns_answer	 ans;

	/* Nobody answers: the wait ends at its bound, tempfail. */
	memset(&w, 0, sizeof(w));
	w.kind = DNS_MX;
	w.name = "slow.example";
	w.ms = 300;
	if (pthread_create(&t, NULL, waiter, &w) != 0)
		fail(__LINE__, "pthread_create");
	pthread_join(t, NULL);
	CHECK(w.rc == 0 && w.ans.result == DNS_TEMPFAIL);
	CHECK(w.took_ms >= 290 && w.took_ms < 3000);
	/* The late answer still fills the cache. */
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_NODATA, 100);
	CHECK(dns_lookup(DNS_MX, 0, "slow.example", 0, &ans) == 1 &&
	    ans.result == DNS_NODATA);
	printf("ok bounded wait, a late answer is kept\n");
}

static int		 notified;
static struct dns_answer notified_ans;

static void
notify_cb(void *arg, const struct dns_answer *ans)
{
	CHECK(arg == &notified);
	notified++;
	notified_ans = *ans;
}

static void
test_notify(void)
{
	struct dns_req		req;
	struct dns_answer	ans;

	/* Not cached: the callback waits for the answer. */
	notified = 0;
	dns_notify(DNS_RESOLVABLE, 0, "notify.example", notify_cb, &notified);
	CHECK(notified == 0);
	CHECK(dns_take(&req) == 1);
	answer(&req, DNS_NXDOMAIN, 100);
	CHECK(notified == 1 && notified_ans.result == DNS_NXDOMAIN);
	/* Cached: at once. */
	dns_notify(DNS_RESOLVABLE, 0, "notify.example", notify_cb, &notified);
	CHECK(notified == 2 && dns_take(&req) == 0);
	/* Fresh: asks again and the new answer replaces the old. */
	dns_notify(DNS_RESOLVABLE, DNS_FRESH, "notify.example", notify_cb,
	    &notified);
	CHECK(notified == 2);
	CHECK(dns_take(&req) == 1 && req.flags == 0);
	answer(&req, DNS_OK, 100);
	CHECK(notified == 3 && notified_ans.result == DNS_OK);
	CHECK(dns_lookup(DNS_RESOLVABLE, 0, "notify.example", 0, &ans) == 1 &&
	    ans.result == DNS_OK);
	/* A bad name: at once too. */
	dns_notify(DNS_NS, 0, "-bad-", notify_cb, &notified);
	CHECK(notified == 4 && notified_ans.result == DNS_BADNAME);
	printf("ok notify\n");
}

static void
test_sweep(void)
{
	struct dns_req		req;
	struct dns_res		res;
	struct dns_answer	ans;

	/* The prober never answers: the sweep gives up for it. */
	dns_configure(0);
	dns_notify(DNS_MX, 0, "lost.example", notify_cb, &notified);
	CHECK(dns_take(&req) == 1);
	CHECK(dns_sweep() == 0);
	sleep(3);
	notified = 0;
	CHECK(dns_sweep() == 1);
	CHECK(notified == 1 && notified_ans.result == DNS_TEMPFAIL);
	CHECK(dns_lookup(DNS_MX, 0, "lost.example", 0, &ans) == 1 &&
	    ans.result == DNS_TEMPFAIL);
	/* Its answer comes too late: refused. */
	memset(&res, 0, sizeof(res));
	res.id = req.id;
	CHECK(dns_done(&res) == 0);
	res.id = 0;
	CHECK(dns_done(&res) == 0);
	dns_configure(DEFAULT_DNS_TIMEOUT);
	printf("ok sweep\n");
}

static void
test_sane(void)
{
	struct dns_answer	ans;

	memset(&ans, 'x', sizeof(ans));
	ans.result = DNS_OK;
	ans.naddrs = 1;
	ans.addrs[0].af = AF_INET;
	ans.nnames = DNS_NAMES_MAX;
	CHECK(dns_answer_sane(&ans) == 1);
	CHECK(strlen(ans.name) == sizeof(ans.name) - 1);
	CHECK(strlen(ans.names[DNS_NAMES_MAX - 1]) == HOSTNAME_LEN - 1);
	ans.nnames = DNS_NAMES_MAX + 1;
	CHECK(dns_answer_sane(&ans) == 0);
	ans.nnames = 0;
	ans.naddrs = DNS_ADDRS_MAX + 1;
	CHECK(dns_answer_sane(&ans) == 0);
	ans.naddrs = 1;
	ans.addrs[0].af = AF_UNIX;
	CHECK(dns_answer_sane(&ans) == 0);
	ans.addrs[0].af = AF_INET6;
	CHECK(dns_answer_sane(&ans) == 1);
	ans.result = DNS_BADNAME;	/* the engine's own, never the wire */
	CHECK(dns_answer_sane(&ans) == 0);
	ans.result = 99;
	CHECK(dns_answer_sane(&ans) == 0);
	printf("ok answers from the prober are checked\n");
}

int
main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	dns_init(wake);
	test_names();
	test_immediate();
	test_merge();
	test_bounds();
	test_wait();
	test_notify();
	test_sweep();
	test_sane();
	return (0);
}
