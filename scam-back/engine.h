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
struct cache_save_done;

/*
 * engine.c, the process: it calls the files below and lends them what
 * they need (callbacks, its cache, its imsg peers); they never call it.
 */
extern struct scamback_conf	*engine_conf;
extern pthread_rwlock_t		 engine_conf_lock;
extern struct cache		*engine_cache;

/*
 * milter.c: libmilter glue only; rcpt gives the verdict of each RCPT,
 * ready gets what the parent needs to remove a unix socket at the end
 */
void	milter_init(struct listen_conf *, void (*)(const struct rcpt_query *,
	    const char *, struct policy_reply *), struct milter_ready *);
int	milter_run(void);

/*
 * cachefile.c: the cache file's format; the parent owns the files.  Read
 * at start; written into a file the parent opened, then done is told.
 */
void	cachefile_load(struct cache *, int, uint32_t, uint32_t);
void	cachefile_save(struct cache *, int,
	    void (*)(const struct cache_save_done *));

/* control.c: the control socket, served from the event thread */
struct control_engine {
	struct cache	*cache;
	struct imsgev	*parent;	/* reload, save cache, verbosity */
	struct imsgev	*prober;	/* show backends, the shared store */
	void		(*stats)(struct ctl_stats *);
	int		(*shared)(void);	/* cache share configured */
	/*
	 * check: probe now, bypassing the cache, then update it; done is
	 * called in the event thread with the result (also when the
	 * address cannot be verified: its text says why).
	 */
	void		(*check)(const char *, uint32_t,
			    void (*)(uint32_t, struct ctl_check *));
};

void	control_listen(int, const struct control_engine *);
/*
 * The answer to a request that was passed on (save cache, reload): sent
 * to the client as IMSG_CTL_RESULT and IMSG_CTL_END, or dropped when the
 * client has gone.  Likewise the prober's backend figures, the shared
 * store's figures and its part of a flush.
 */
void	control_result(uint32_t, const struct ctl_result *);
void	control_backend(uint32_t, const struct ctl_backend *);
void	control_backends_end(uint32_t);
void	control_store(uint32_t, const struct ctl_store *);
void	control_flushed(uint32_t, const struct ctl_result *);

#endif /* ENGINE_H */
