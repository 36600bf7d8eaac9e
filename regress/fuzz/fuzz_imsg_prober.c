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
 * Fuzz target for the prober's imsg dispatch (SPEC sections 3, 10).
 *
 *	make fuzz				libFuzzer provides main()
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * The prober's dispatcher is static, so prober.c and the files it stands
 * on are compiled into this target (their objects from the library are
 * then not linked) and its real prober_dispatch_imsg() runs on the bytes,
 * read from a socket by the imsg layer: configurations (config_recv and
 * prober_apply: backends kept, retired, freed), probe requests for any
 * backend and address, show backends, stop, verbosity, the peer going
 * away.  The first byte picks the peer: even the parent, odd the engine.
 * Nothing leaves the process: connect(2) is refused and a host name
 * "resolves" at once, every other time to 127.0.0.1 and otherwise to an
 * error, so probes go the way of an unreachable backend; c-ares is not
 * started, and a DNS question of the access rules is answered at once,
 * a temporary failure, once the prober has taken it.
 * State carries over from input to input, as in a long-running prober.
 */

#include "imsgfuzz.h"

#include <sys/socket.h>

struct resolve_query;

struct dns_req;
struct scamback_conf;

static int	fuzz_connect(int);
static void	fuzz_dnslookup_start(const struct dns_req *);
static void	fuzz_resolve_configure(const struct scamback_conf *);
static struct resolve_query *fuzz_resolve_start(const char *, uint16_t, int,
		    void (*)(void *, const struct sockaddr_storage *, int,
		    const char *), void *);

#define exit(s)			fuzz_exit(s)
#define _exit(s)		fuzz_exit(s)
#define connect(fd, sa, len)	fuzz_connect(fd)
#define resolve_start		fuzz_resolve_start
#define resolve_configure	fuzz_resolve_configure
#define dnslookup_start		fuzz_dnslookup_start
#include "prober.c"
#include "backend.c"
#include "probe.c"
#include "session.c"
#include "host.c"
#include "dest.c"
#undef exit
#undef _exit
#undef connect
#undef resolve_start
#undef resolve_configure
#undef dnslookup_start
#include "imsgfuzz.h"

static int
fuzz_connect(int fd)
{
	errno = ECONNREFUSED;
	return (-1);
}

/* As resolve_start() does for the hosts file: the answer before return. */
static struct resolve_query *
fuzz_resolve_start(const char *name, uint16_t port, int inet6,
    void (*cb)(void *, const struct sockaddr_storage *, int, const char *),
    void *arg)
{
	static int		 n;
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	if (n++ % 2) {
		cb(arg, NULL, 0, "no lookups while fuzzing");
		return (NULL);
	}
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cb(arg, &ss, 1, NULL);
	return (NULL);
}

static void
fuzz_resolve_configure(const struct scamback_conf *conf)
{
}

static void
fuzz_dnslookup_start(const struct dns_req *req)
{
	struct dns_res	res;

	memset(&res, 0, sizeof(res));
	res.id = req->id;
	res.answer.result = DNS_TEMPFAIL;
	res.answer.ttl = DNS_TTL_TEMPFAIL;
	strlcpy(res.answer.name, req->name, sizeof(res.answer.name));
	prober_dns_answer(&res);
}

static void
fuzz_seeds(void)
{
	static uint8_t		 conf[65536], buf[65536 * 2 + 1];
	struct probe_req	 req[4];
	const uint32_t		 t_req[] = { IMSG_PROBE_REQ, IMSG_PROBE_REQ,
				    IMSG_PROBE_REQ, IMSG_PROBE_REQ };
	const uint32_t		 t_backends[] = { IMSG_PROBE_BACKENDS };
	const uint32_t		 t_dns[] = { IMSG_DNS_REQ, IMSG_DNS_REQ };
	struct dns_req		 dreq[2];
	const uint32_t		 t_parent[] = { IMSG_LOG_VERBOSE, IMSG_STOP };
	const void		*d[4];
	size_t			 l[4], clen, n;
	int			 i, v = 2;

	clen = seed_config(conf, sizeof(conf));
	seed_write(0, conf, clen);
	memcpy(buf, conf, clen);
	memcpy(buf + clen, conf, clen);
	seed_write(0, buf, 2 * clen);

	memset(req, 0, sizeof(req));
	for (i = 0; i < 4; i++) {
		req[i].id = 100 + i;
		d[i] = &req[i];
		l[i] = sizeof(req[i]);
	}
	strlcpy(req[0].address, "alice@example.net", sizeof(req[0].address));
	strlcpy(req[0].backend, "mailbox", sizeof(req[0].backend));
	strlcpy(req[1].address, "bob@sub.example.net",
	    sizeof(req[1].address));
	req[1].backend_id = 1;
	strlcpy(req[2].address, "carol@example.com", sizeof(req[2].address));
	strlcpy(req[2].backend, "other", sizeof(req[2].backend));
	req[2].bypass = 1;
	strlcpy(req[3].address, "dave@example.org", sizeof(req[3].address));
	strlcpy(req[3].backend, "gone", sizeof(req[3].backend));
	n = seed_msgs(buf, sizeof(buf), t_req, d, l, 4);
	seed_write(1, buf, n);

	d[0] = NULL;
	l[0] = 0;
	n = seed_msgs(buf, sizeof(buf), t_backends, d, l, 1);
	seed_write(1, buf, n);

	memset(dreq, 0, sizeof(dreq));
	dreq[0].id = 200;
	dreq[0].kind = DNS_RESOLVABLE;
	dreq[0].flags = DNS_PARENT;
	dreq[0].timeout_ms = 5000;
	strlcpy(dreq[0].name, "mail.example.net", sizeof(dreq[0].name));
	dreq[1].id = 201;
	dreq[1].kind = DNS_NS;
	strlcpy(dreq[1].name, "example.org", sizeof(dreq[1].name));
	for (i = 0; i < 2; i++) {
		d[i] = &dreq[i];
		l[i] = sizeof(dreq[i]);
	}
	n = seed_msgs(buf, sizeof(buf), t_dns, d, l, 2);
	seed_write(1, buf, n);

	d[0] = &v;
	l[0] = sizeof(v);
	d[1] = NULL;
	l[1] = 0;
	n = seed_msgs(buf, sizeof(buf), t_parent, d, l, 2);
	seed_write(0, buf, n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_start(fuzz_seeds);
	if (tls_init() == -1)
		abort();
	strlcpy(local_name, "fuzz.test", sizeof(local_name));
	if ((prober_conf = config_new()) == NULL)
		abort();

	/* Where the prober's own messages go. */
	fuzz_sink(&iev_parent, prober_dispatch_imsg, NULL);
	fuzz_sink(&iev_engine, prober_dispatch_imsg, NULL);
	/* What prober_main() sets up before its loop. */
	dest_init(backend_has_addr);
	event_set(&answer_ev, -1, 0, prober_answer_flush, NULL);
	session_init();
	probe_init(prober_answer);
	prober_apply(prober_conf);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_feed_one_of(&iev_engine, &iev_parent, prober_dispatch_imsg,
	    data, size, 1);

	/* A half-received configuration dies with the stream. */
	if (pending_conf != NULL) {
		config_free(pending_conf);
		pending_conf = NULL;
	}
	return (0);
}
