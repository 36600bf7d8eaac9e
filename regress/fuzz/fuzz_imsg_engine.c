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
 * Fuzz target for the milter engine's imsg dispatch (SPEC sections 3, 10).
 *
 *	make fuzz				libFuzzer provides main()
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * The engine's dispatcher is static, so engine.c is compiled into this
 * target (engine.o from the library is then not linked) and its real
 * engine_dispatch_imsg() runs on the bytes, read from a socket by the
 * imsg layer: configuration (config_recv and engine_reconf), cache saves
 * (cachefile_save), control answers (control_result, control_backend),
 * probe results, DNS answers (dns_done), stop, verbosity, and the peer
 * going away.  The first
 * byte picks the peer: even the parent, odd the prober.  State carries over from input to input, as in a
 * long-running engine, except that a stop is undone.
 */

#include "imsgfuzz.h"

#define exit(s)		fuzz_exit(s)
#define _exit(s)	fuzz_exit(s)
#include "engine.c"
#undef exit
#undef _exit
#include "imsgfuzz.h"

static void
fuzz_seeds(void)
{
	static uint8_t		 conf[65536], buf[65536 * 2 + 1];
	struct probe_res	 res[3];
	struct ctl_backend	 cb;
	struct ctl_result	 cr;
	const uint32_t		 t_res[] = { IMSG_PROBE_RES, IMSG_PROBE_RES,
				    IMSG_PROBE_RES };
	const uint32_t		 t_backends[] = { IMSG_PROBE_BACKEND,
				    IMSG_PROBE_BACKENDS_END };
	const uint32_t		 t_parent[] = { IMSG_CACHE_SAVE_RESULT,
				    IMSG_CACHE_SAVE_RESULT, IMSG_RELOAD_RESULT,
				    IMSG_LOG_VERBOSE };
	const uint32_t		 t_stop[] = { IMSG_STOP };
	const uint32_t		 t_dns[] = { IMSG_DNS_RES, IMSG_DNS_RES };
	struct dns_res		 dres[2];
	const void		*d[4];
	size_t			 l[4], clen, n;
	int			 v = 1;

	clen = seed_config(conf, sizeof(conf));
	seed_write(0, conf, clen);
	memcpy(buf, conf, clen);
	memcpy(buf + clen, conf, clen);
	seed_write(0, buf, 2 * clen);

	memset(res, 0, sizeof(res));
	res[0].verdict = VERDICT_VALID;
	res[0].code = 250;
	strlcpy(res[0].enhanced, "2.1.5", sizeof(res[0].enhanced));
	res[1].id = 1;
	res[1].verdict = VERDICT_INVALID;
	res[1].code = 550;
	strlcpy(res[1].text, "User unknown", sizeof(res[1].text));
	res[2].id = 2;
	res[2].verdict = VERDICT_UNKNOWN;
	res[2].catchall = 1;
	d[0] = &res[0];
	d[1] = &res[1];
	d[2] = &res[2];
	l[0] = l[1] = l[2] = sizeof(res[0]);
	n = seed_msgs(buf, sizeof(buf), t_res, d, l, 3);
	seed_write(1, buf, n);

	memset(&cb, 0, sizeof(cb));
	strlcpy(cb.name, "mailbox", sizeof(cb.name));
	cb.nhosts = 1;
	d[0] = &cb;
	l[0] = sizeof(cb);
	d[1] = NULL;
	l[1] = 0;
	n = seed_msgs(buf, sizeof(buf), t_backends, d, l, 2);
	seed_write(1, buf, n);

	memset(&cr, 0, sizeof(cr));
	cr.ok = 1;
	cr.count = 3;
	strlcpy(cr.text, "cache saved", sizeof(cr.text));
	d[0] = d[1] = d[2] = &cr;
	l[0] = l[1] = l[2] = sizeof(cr);
	d[3] = &v;
	l[3] = sizeof(v);
	n = seed_msgs(buf, sizeof(buf), t_parent, d, l, 4);
	seed_write(0, buf, n);

	memset(dres, 0, sizeof(dres));
	dres[0].id = 1;
	dres[0].answer.result = DNS_OK;
	dres[0].answer.ttl = 300;
	strlcpy(dres[0].answer.name, "example.net",
	    sizeof(dres[0].answer.name));
	dres[0].answer.nnames = 1;
	strlcpy(dres[0].answer.names[0], "mx.example.net",
	    sizeof(dres[0].answer.names[0]));
	dres[0].answer.naddrs = 1;
	dres[0].answer.addrs[0].af = AF_INET;
	dres[1].id = 2;
	dres[1].answer.result = DNS_NULLMX;
	d[0] = &dres[0];
	d[1] = &dres[1];
	l[0] = l[1] = sizeof(dres[0]);
	n = seed_msgs(buf, sizeof(buf), t_dns, d, l, 2);
	seed_write(1, buf, n);

	d[0] = NULL;
	l[0] = 0;
	n = seed_msgs(buf, sizeof(buf), t_stop, d, l, 1);
	seed_write(0, buf, n);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_start(fuzz_seeds);
	if ((engine_conf = config_new()) == NULL)
		abort();
	engine_conf->cache_size = 1000;
	if ((engine_domains = domain_index_new(engine_conf)) == NULL)
		abort();
	engine_cache = cache_new(engine_conf->cache_size);
	pending_init(engine_cache, engine_wake);
	event_set(&wake_ev, -1, 0, engine_send, NULL);

	/* Where the engine's own messages go. */
	fuzz_sink(&iev_parent, engine_dispatch_imsg, &iev_parent);
	fuzz_sink(&iev_prober, engine_dispatch_imsg, &iev_prober);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_feed_one_of(&iev_prober, &iev_parent, engine_dispatch_imsg,
	    data, size, 0);

	/* A half-received configuration dies with the stream. */
	if (new_conf != NULL) {
		config_free(new_conf);
		new_conf = NULL;
	}
	if (stopping) {
		evtimer_del(&stop_ev);
		stopping = 0;
	}
	return (0);
}
