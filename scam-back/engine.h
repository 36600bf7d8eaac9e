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
 * What the engine's files share: engine.c (policy, probes, the event
 * thread), milter.c (libmilter glue), cache.c, cachefile.c, control.c.
 */

#ifndef ENGINE_H
#define ENGINE_H

#include <pthread.h>

struct cache;
struct rcpt_query;
struct policy_reply;

/* engine.c */
extern struct scamback_conf	*engine_conf;
extern pthread_rwlock_t		 engine_conf_lock;
extern struct cache		*engine_cache;

void	engine_stop(void);
struct imsgev	*engine_parent(void);		/* event thread only */
struct imsgev	*engine_prober(void);		/* event thread only */
void	engine_stats(struct ctl_stats *);
void	engine_cache_saved(int64_t);		/* a save completed at time */

/* The verdict for a RCPT, from a libmilter thread (policy.h types). */
void	engine_rcpt(const struct rcpt_query *, const char *,
	    struct policy_reply *);

/*
 * scambackctl check: probe now, bypassing the cache, then update it.
 * Runs in the event thread; done() is called there with the result (also
 * when the address cannot be verified: res.text says why).
 */
void	engine_check(const char *, uint32_t,
	    void (*)(uint32_t, struct ctl_check *));

/* milter.c: libmilter glue only */
void	milter_init(struct listen_conf *);
int	milter_run(void);
void	milter_stop(void);

/* cachefile.c: the cache file's format; the parent owns the files */
void	cachefile_load(struct cache *, int);
void	cachefile_save(int);			/* into this file, from the parent */
void	cachefile_save_request(uint32_t);	/* ask the parent for a file */

/* control.c: the control socket, served from the event thread */
void	control_listen(int);
/*
 * The answer to a request that was passed on (save cache, reload): sent
 * to the client as IMSG_CTL_RESULT and IMSG_CTL_END, or dropped when the
 * client has gone.  Likewise the prober's backend figures.
 */
void	control_result(uint32_t, const struct ctl_result *);
void	control_backend(uint32_t, const struct ctl_backend *);
void	control_backends_end(uint32_t);

#endif /* ENGINE_H */
