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
 * Unix sockets put in place, the milter socket and the control socket
 * alike.  A socket that something listens on is never replaced (a second
 * daemon would steal the first one's MTA); a stale one is.  Owner and
 * mode are set where no one else can swap the socket's name for a link
 * meanwhile (chown(2) and chmod(2) by path after bind(2) would follow it):
 * in the socket's own directory when only root (or we) can write it and
 * every directory above, else in a directory of our own beside it, from
 * which the finished socket is linked into place (a link never replaces
 * a path taken meanwhile).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"

#define SOCK_NAME	"s"

static int	sock_live(const char *);
static int	dir_safe(const char *);

/*
 * Does something listen on the socket at path?  1 yes, 0 no (stale), -1
 * cannot tell (errno set).
 */
static int
sock_live(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		close(fd);
		return (1);
	}
	saved = errno;
	close(fd);
	errno = saved;
	/* Nobody accepts: a socket left by a daemon that is gone. */
	if (errno == ECONNREFUSED || errno == ENOENT)
		return (0);
	return (-1);
}

/*
 * Can nobody but root and us change what dir holds, nor what the path
 * to it leads to?  Each directory up to "/" is root's or ours and not
 * writable by others, or sticky (others cannot move what is ours).
 */
static int
dir_safe(const char *dir)
{
	struct stat	 sb;
	char		*real, *p;
	int		 safe = 1;

	if ((real = realpath(dir, NULL)) == NULL)
		return (0);
	for (p = real + strlen(real); safe; ) {
		if (lstat(real, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
		    (sb.st_uid != 0 && sb.st_uid != geteuid()) ||
		    ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
		    (sb.st_mode & S_ISVTX) == 0))
			safe = 0;
		if (p == real + 1 || (p = strrchr(real, '/')) == NULL)
			break;
		if (p == real)
			p++;
		*p = '\0';
	}
	free(real);
	return (safe);
}

/*
 * Make room for a socket at sp->path: refuse a path that something
 * listens on or that is no socket, remove a stale socket, and make the
 * private directory; sp->tmp is then where to bind.  what names the
 * socket in messages.  Returns 0, or -1 with the reason logged.
 */
int
sock_prepare(struct sockplace *sp, const char *path, const char *what)
{
	struct sockaddr_un	 sun;
	struct stat		 sb;
	const char		*name;
	char			*slash;

	memset(sp, 0, sizeof(*sp));
	sp->dfd = -1;
	sp->what = what;
	if (strlcpy(sp->path, path, sizeof(sp->path)) >= sizeof(sp->path) ||
	    strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("%s %s: path too long", what, path);
		return (-1);
	}
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			log_warnx("%s %s: exists and is not a socket; "
			    "left alone", what, path);
			return (-1);
		}
		switch (sock_live(path)) {
		case 1:
			log_warnx("%s %s is in use: is another scam-back "
			    "running?", what, path);
			return (-1);
		case -1:
			log_warn("%s %s", what, path);
			return (-1);
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			log_warn("%s %s: cannot remove the stale socket",
			    what, path);
			return (-1);
		}
		log_info("%s %s: replacing a stale socket", what, path);
	} else if (errno != ENOENT) {
		log_warn("%s %s", what, path);
		return (-1);
	}

	strlcpy(sp->dir, path, sizeof(sp->dir));
	if ((slash = strrchr(sp->dir, '/')) == NULL) {
		strlcpy(sp->dir, ".", sizeof(sp->dir));
		name = path;
	} else {
		name = path + (slash - sp->dir) + 1;
		if (slash == sp->dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	if (dir_safe(sp->dir)) {
		/* Bound where it belongs: ss(8) shows its own name. */
		if ((sp->dfd = open(sp->dir, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			log_warn("%s %s", what, path);
			return (-1);
		}
		strlcpy(sp->tmp, path, sizeof(sp->tmp));
		strlcpy(sp->name, name, sizeof(sp->name));
		sp->dir[0] = '\0';
		return (0);
	}

	/* Short names: the bind path must fit sun_path too. */
	if (strlcat(sp->dir, "/.sbXXXXXX", sizeof(sp->dir)) >=
	    sizeof(sp->dir) || strlen(sp->dir) + 2 >= sizeof(sun.sun_path)) {
		log_warnx("%s %s: path too long", what, path);
		return (-1);
	}
	if (mkdtemp(sp->dir) == NULL) {
		log_warn("%s %s: cannot make a directory beside it", what,
		    path);
		sp->dir[0] = '\0';
		return (-1);
	}
	/*
	 * mkdtemp(3) made it 0700: a directory that is not ours and 0700
	 * is one that was swapped for ours.
	 */
	if ((sp->dfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(sp->dfd, &sb) == -1 ||
	    sb.st_uid != geteuid() || (sb.st_mode & 07777) != 0700) {
		log_warnx("%s %s: the directory beside it was tampered with",
		    what, path);
		sock_abort(sp);
		return (-1);
	}
	strlcpy(sp->name, SOCK_NAME, sizeof(sp->name));
	/* The same length as the template and the name: it fits. */
	strlcpy(sp->tmp, sp->dir, sizeof(sp->tmp));
	strlcat(sp->tmp, "/" SOCK_NAME, sizeof(sp->tmp));
	return (0);
}

/*
 * The socket bound at sp->tmp gets its owner (-1: unchanged) and mode,
 * through the directory's descriptor and without following a link, and
 * goes into place; *sb gets its inode, for removing it at the end only
 * while it is still ours.  Returns 0, or -1 with the reason logged.
 */
int
sock_place(struct sockplace *sp, uid_t uid, gid_t gid, mode_t mode,
    struct stat *sb)
{
	if (((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(sp->dfd, sp->name, uid, gid, AT_SYMLINK_NOFOLLOW) ==
	    -1) || fstatat(sp->dfd, sp->name, sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISSOCK(sb->st_mode) ||
	    fchmodat(sp->dfd, sp->name, mode, 0) == -1 ||
	    fstatat(sp->dfd, sp->name, sb, AT_SYMLINK_NOFOLLOW) == -1) {
		log_warn("%s %s: owner and mode", sp->what, sp->path);
		if (sp->dir[0] == '\0')
			(void)unlinkat(sp->dfd, sp->name, 0);
		sock_abort(sp);
		return (-1);
	}
	/* link(2) never replaces: a path taken meanwhile stays its own. */
	if (sp->dir[0] != '\0' &&
	    linkat(sp->dfd, sp->name, AT_FDCWD, sp->path, 0) == -1) {
		if (errno == EEXIST)
			log_warnx("%s %s is in use: is another scam-back "
			    "running?", sp->what, sp->path);
		else
			log_warn("%s %s", sp->what, sp->path);
		sock_abort(sp);
		return (-1);
	}
	sock_abort(sp);
	return (0);
}

/* Done or failed: the private directory goes, the descriptor too. */
void
sock_abort(struct sockplace *sp)
{
	if (sp->dir[0] != '\0') {
		if (sp->dfd != -1)
			(void)unlinkat(sp->dfd, SOCK_NAME, 0);
		(void)rmdir(sp->dir);
		sp->dir[0] = '\0';
	}
	if (sp->dfd != -1) {
		close(sp->dfd);
		sp->dfd = -1;
	}
}

/*
 * At a clean stop: remove the socket at path if it is still the inode
 * we made, not one of a daemon started since.
 */
void
sock_remove(const char *path, uint64_t dev, uint64_t ino, const char *what)
{
	struct stat	 sb;

	if (lstat(path, &sb) == -1)
		return;
	if (!S_ISSOCK(sb.st_mode) || (uint64_t)sb.st_dev != dev ||
	    (uint64_t)sb.st_ino != ino) {
		log_info("%s %s is no longer ours; left alone", what, path);
		return;
	}
	if (unlink(path) == -1)
		log_warn("cannot remove %s %s", what, path);
}
