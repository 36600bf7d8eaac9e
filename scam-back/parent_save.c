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
 * The parent's side of saved messages: each refused message a save rule
 * keeps becomes a new file of the save directory, mode 0600, its name
 * logged, until the directory holds save max-files files (smap's
 * max-email and max-dirent).  The directory is the one of the start: the
 * sandbox lets the parent write there and nowhere else.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "printable.h"
#include "save.h"

static char		*save_dir;		/* of the start, or NULL */
static uint32_t		 save_max;
static uint32_t		 save_seq;

/* The message being written. */
static struct save_hdr	 cur;
static int		 cur_open;		/* between start and end */
static int		 cur_fd = -1;
static size_t		 cur_got;
static char		 cur_path[PATH_MAX];

static size_t	count_files(void);

/* At start, before the sandbox: the directory is made if missing. */
void
parent_save_init(struct scamback_conf *conf)
{
	save_max = conf->save_max_files;
	if (conf->save_dir == NULL)
		return;
	if ((save_dir = strdup(conf->save_dir)) == NULL)
		fatal(NULL);
	if (mkdir(save_dir, 0700) == 0)
		log_info("save directory %s created", save_dir);
	else if (errno != EEXIST)
		log_warn("save directory %s", save_dir);
}

/* At reload: 1 if the directory changed, which only a restart does. */
int
parent_save_reconf(struct scamback_conf *conf)
{
	save_max = conf->save_max_files;
	return ((conf->save_dir == NULL) != (save_dir == NULL) ||
	    (save_dir != NULL && strcmp(conf->save_dir, save_dir) != 0));
}

const char *
parent_save_dir(void)
{
	return (save_dir);
}

/* Files in the directory now, dot files aside. */
static size_t
count_files(void)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;

	if ((d = opendir(save_dir)) == NULL)
		return (SIZE_MAX);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

/*
 * IMSG_SAVE_START: a new file, named by the time and a number, that no
 * one else may read.  When it cannot be made the message is refused all
 * the same; only the log says it was not kept.
 */
void
parent_save_start(const struct save_hdr *hdr)
{
	struct tm	 tm;
	time_t		 now = time(NULL);
	char		 stamp[32];
	size_t		 n;
	int		 i;

	if (cur_open)
		fatalx("%s: a saved message started twice", __func__);
	cur = *hdr;
	cur.sender[sizeof(cur.sender) - 1] = '\0';
	cur.rcpt[sizeof(cur.rcpt) - 1] = '\0';
	cur.client[sizeof(cur.client) - 1] = '\0';
	cur_open = 1;
	cur_got = 0;
	cur_fd = -1;
	if (save_dir == NULL) {
		log_warnx("rule %u: refused message not saved: no save "
		    "directory at start", cur.rule);
		return;
	}
	if ((n = count_files()) >= save_max) {
		if (n == SIZE_MAX)
			log_warn("rule %u: refused message not saved: %s",
			    cur.rule, save_dir);
		else
			log_warnx("rule %u: refused message not saved: %s "
			    "holds %zu files (save max-files %u)", cur.rule,
			    save_dir, n, save_max);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < 100; i++) {
		snprintf(cur_path, sizeof(cur_path), "%s/%s.%u.rule%u",
		    save_dir, stamp, ++save_seq, cur.rule);
		if ((cur_fd = open(cur_path, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) != -1 || errno != EEXIST)
			break;
	}
	if (cur_fd == -1)
		log_warn("rule %u: refused message not saved: %s", cur.rule,
		    cur_path);
}

void
parent_save_data(const void *data, size_t len)
{
	if (!cur_open || cur_got + len > cur.len)
		fatalx("%s: bad IMSG_SAVE_DATA", __func__);
	cur_got += len;
	if (cur_fd == -1 || len == 0)
		return;
	if (write(cur_fd, data, len) != (ssize_t)len) {
		log_warn("rule %u: %s", cur.rule, cur_path);
		close(cur_fd);
		cur_fd = -1;
	}
}

/* IMSG_SAVE_END: the file is whole; its name goes to the log. */
void
parent_save_end(void)
{
	char	from[ADDR_LEN], to[ADDR_LEN];

	if (!cur_open || cur_got != cur.len)
		fatalx("%s: bad IMSG_SAVE_END", __func__);
	cur_open = 0;
	if (cur_fd == -1)
		return;
	if (close(cur_fd) == -1) {
		log_warn("rule %u: %s", cur.rule, cur_path);
		cur_fd = -1;
		return;
	}
	cur_fd = -1;
	log_info("rule %u saved refused message file=%s size=%zu from=<%s> "
	    "to=<%s> client=%s", cur.rule, cur_path, cur_got,
	    printable(cur.sender, from, sizeof(from)),
	    printable(cur.rcpt, to, sizeof(to)), cur.client);
}
