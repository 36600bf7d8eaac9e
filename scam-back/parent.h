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
 * What the parent's files share: scam-back.c, parent_start.c,
 * parent_cache.c, parent_restart.c, control.c.
 */

#ifndef PARENT_H
#define PARENT_H

struct cache_save_done;
struct stat;

#define PARENT_WAIT	5	/* seconds a child gets to stop */

/* A child of the parent's: scam-back.c's table, lent to parent_restart.c. */
struct child {
	pid_t		 pid;
	int		 exited;
	int		 killed;	/* SIGKILL, ours */
	struct imsgev	 iev;
	int		 logfd;		/* its log lines come in here */
	struct event	 log_ev;
};

/* scam-back.c */
void		 parent_shutdown(void);
void		 parent_stop_children(void);
int		 parent_reload_config(char *, size_t);
void		 parent_sandbox(const char *, const char *,
		    struct scamback_conf *, const char *);

/* parent_start.c: at start, the descriptor limit and leaving the shell */
void		 parent_raise_nofile(void);
void		 parent_detach_begin(void);
void		 parent_detach_end(enum scamback_proc);

/* parent_cache.c: the cache file is the parent's, its contents the engine's */
int		 parent_cache_dir(struct scamback_conf *);
void		 parent_cache_init(struct scamback_conf *, struct imsgev *);
void		 parent_cache_reconf(struct scamback_conf *);
void		 parent_cache_shutdown(void (*)(void));
void		 parent_cache_abort(void);
void		 parent_cache_save(uint32_t);
void		 parent_cache_saved(const struct cache_save_done *);

/* spawner.c: starting a prober once the parent is confined */
void		 spawner_init(const char *, int, int);
pid_t		 spawner_start(enum scamback_proc, int, int);
int		 spawner_reaped(pid_t, int);
void		 spawner_stop(void);

/* parent_restart.c: a prober replaced by a reload */
void		 parent_restart_init(struct child *,
		    void (*)(int, short, void *), void (*)(int, short, void *));
int		 parent_prober_restart(struct scamback_conf *, const char *);
void		 parent_prober_switched(void);
int		 parent_retiring(void);
int		 parent_retire_reaped(pid_t, int);
void		 parent_retire_close(void);
void		 parent_retire_kill(void);

/* restart.c: what a running prober's sandbox fixed at its start */
struct prober_fixed;
struct prober_fixed *prober_fixed_new(struct scamback_conf *);
void		 prober_fixed_free(struct prober_fixed *);
int		 prober_fixed_covers(struct prober_fixed *,
		    struct scamback_conf *, char *, size_t);

/* control.c */
int		 control_init(const char *, struct stat *);

#endif /* PARENT_H */
