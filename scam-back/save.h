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
 * Messages a save rule keeps (smap's max-email): the engine, which opens
 * no file, hands the start of each to the parent (save.c), which writes
 * it into the save directory (parent_save.c).
 */

#ifndef SAVE_H
#define SAVE_H

/* Any thread of the engine: queue a message's start for the parent. */
void	save_init(struct imsgev *);
void	save_enqueue(uint32_t, const char *, size_t, const char *,
	    const char *, const char *);

/* The parent: the save directory of the start, and the messages. */
void	parent_save_init(struct scamback_conf *);
int	parent_save_reconf(struct scamback_conf *);
const char *parent_save_dir(void);
void	parent_save_start(const struct save_hdr *);
void	parent_save_data(const void *, size_t);
void	parent_save_end(void);

#endif /* SAVE_H */
