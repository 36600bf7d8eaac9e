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
 * What the parent may touch once it is confined: the directories of the
 * configuration and of what it includes (a reload reads them again), /etc
 * for users and groups, the cache file's directory (a save writes a
 * temporary file there and renames it over the cache file), the
 * directories of the milter and the control socket (they are removed at
 * a clean stop) and the save directory (refused messages that save rules
 * keep).  A
 * directory named twice gets one unveil(2) with everything asked of it:
 * a second call would replace the first one's permissions.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"
#include "sandbox.h"
#include "save.h"

#define SANDBOX_DIRS	64

static struct sbdir {
	char	*path;
	dev_t	 dev;
	ino_t	 ino;
	char	 perms[5];
} dirs[SANDBOX_DIRS];
static size_t	ndirs;

static void	sandbox_dir(const char *, const char *, int);

/*
 * Add the directory that holds path, with perms.  A directory that does
 * not exist (yet) is skipped with a warning unless required.
 */
static void
sandbox_dir(const char *path, const char *perms, int required)
{
	struct stat	 sb;
	struct sbdir	*d;
	char		*dir, *p;
	const char	*c;
	size_t		 i;

	if ((dir = strdup(path)) == NULL)
		fatal(NULL);
	if ((p = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", strlen(dir) + 1);
	else if (p == dir)
		p[1] = '\0';
	else
		*p = '\0';
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		if (required)
			fatal("unveil %s", dir);
		log_warn("unveil %s", dir);
		free(dir);
		return;
	}
	for (i = 0; i < ndirs; i++)
		if (dirs[i].dev == sb.st_dev && dirs[i].ino == sb.st_ino)
			break;
	if (i == ndirs) {
		if (ndirs == SANDBOX_DIRS)
			fatalx("more than %d directories to unveil",
			    SANDBOX_DIRS);
		ndirs++;
		d = &dirs[i];
		d->path = dir;
		d->dev = sb.st_dev;
		d->ino = sb.st_ino;
		d->perms[0] = '\0';
	} else {
		d = &dirs[i];
		free(dir);
	}
	for (c = perms; *c != '\0'; c++)
		if (strchr(d->perms, *c) == NULL &&
		    strlen(d->perms) < sizeof(d->perms) - 1)
			strncat(d->perms, c, 1);
}

/*
 * The parent keeps what reload, the cache file and the stop need: read
 * the configuration, write the cache directory, check users, signal and
 * reap the children, remove the sockets; on OpenBSD, start a prober.
 */
void
parent_sandbox(const char *file, const char *csock, struct scamback_conf *c,
    const char *self)
{
	const char	*f;
	char		*saved;
	size_t		 i;

	if (unveil(file, "r") == -1)
		fatal("unveil %s", file);
	if (unveil("/etc", "r") == -1)
		fatal("unveil /etc");
	/*
	 * A reload reads the configuration's directory and those of the
	 * files it includes and its tables, as they were at startup.
	 */
	sandbox_dir(file, "r", 0);
	for (i = 0; (f = parse_readfile(i)) != NULL; i++)
		sandbox_dir(f, "r", 0);
	/* Not "/" by any name: config_cache_path(), parent_cache_init(). */
	if (c->cache_file[0] != '\0')
		sandbox_dir(c->cache_file, "rwc", 1);
	if (c->listen.family == LISTEN_UNIX)
		sandbox_dir(c->listen.path, "c", 0);
	sandbox_dir(csock, "c", 0);
	if ((f = parent_save_dir()) != NULL) {
		if (asprintf(&saved, "%s/saved", f) == -1)
			fatal(NULL);
		sandbox_dir(saved, "rwc", 0);
		free(saved);
	}
	for (i = 0; i < ndirs; i++) {
		if (unveil(dirs[i].path, dirs[i].perms) == -1)
			fatal("unveil %s", dirs[i].path);
		free(dirs[i].path);
	}
	ndirs = 0;
	/*
	 * Where the parent starts the prober a reload needs itself (not
	 * through a spawner, see spawner.c): its own program, by its path.
	 */
	if (!SANDBOX_SPAWNER && self[0] == '/' && unveil(self, "x") == -1)
		fatal("unveil %s", self);
	if (unveil(NULL, NULL) == -1)
		fatal("unveil");
	/* Else no exec: the children were started before. */
	if (pledge(SANDBOX_SPAWNER ?
	    "stdio rpath wpath cpath getpw sendfd proc" :
	    "stdio rpath wpath cpath getpw sendfd proc exec", NULL) == -1)
		fatal("pledge");
}
