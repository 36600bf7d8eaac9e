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
 * The parent's side of the cache file: it opens the files, the engine reads
 * and writes their contents through the descriptors it is given.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"

static struct scamback_conf	*cconf;
static struct imsgev		*engine;

void
parent_cache_init(struct scamback_conf *conf, struct imsgev *iev)
{
	int	fd = -1;

	cconf = conf;
	engine = iev;
	if (conf->cache_file[0] != '\0' &&
	    (fd = open(conf->cache_file, O_RDONLY | O_CLOEXEC)) == -1 &&
	    errno != ENOENT)
		log_warn("cache file %s", conf->cache_file);
	if (imsgev_compose(engine, IMSG_CACHE_LOAD, 0, 0, fd, NULL, 0) == -1)
		fatal("imsg_compose");
}

void
parent_cache_reconf(struct scamback_conf *conf)
{
	cconf = conf;
}

void
parent_cache_shutdown(void)
{
	parent_stop_children();
}

int
parent_cache_dispatch(enum scamback_proc p, struct imsg *imsg)
{
	return (0);
}
