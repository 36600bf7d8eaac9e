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
 * libmilter glue only: registration, the listening socket and the
 * callbacks, which hand every decision to engine.c.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "scam-back.h"
#include "log.h"
#include "engine.h"

static sfsistat	milter_envrcpt(SMFICTX *, char **);

static struct smfiDesc milter_desc = {
	.xxfi_name = "scam-back",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_envrcpt = milter_envrcpt,
};

/*
 * Register and open the socket while still root: a unix socket is created
 * (a stale one replaced) and given its owner, group and mode here.
 */
void
milter_init(struct listen_conf *l)
{
	struct passwd	*pw;
	struct group	*gr;
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;

	if (smfi_register(milter_desc) == MI_FAILURE)
		fatalx("smfi_register failed");
	if (smfi_setconn(l->spec) == MI_FAILURE)
		fatalx("smfi_setconn %s failed", l->spec);
	if (smfi_opensocket(1) == MI_FAILURE)
		fatalx("cannot open milter socket %s", l->spec);

	if (l->family != LISTEN_UNIX)
		return;
	if (l->owner[0] != '\0') {
		if ((pw = getpwnam(l->owner)) == NULL)
			fatalx("unknown user %s", l->owner);
		uid = pw->pw_uid;
	}
	if (l->group[0] != '\0') {
		if ((gr = getgrnam(l->group)) == NULL)
			fatalx("unknown group %s", l->group);
		gid = gr->gr_gid;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    chown(l->path, uid, gid) == -1)
		fatal("chown %s", l->path);
	if (chmod(l->path, l->mode) == -1)
		fatal("chmod %s", l->path);
}

int
milter_run(void)
{
	return (smfi_main() == MI_SUCCESS ? 0 : -1);
}

static void *
milter_stop_thread(void *arg)
{
	(void)smfi_stop();
	return (NULL);
}

/*
 * smfi_stop() waits for the listener's lock, which the listener holds
 * while it polls (seconds): call it from a thread of its own so that the
 * caller's event loop goes on.
 */
void
milter_stop(void)
{
	pthread_t	tid;

	if (pthread_create(&tid, NULL, milter_stop_thread, NULL) != 0) {
		log_warnx("cannot start a thread to stop libmilter");
		return;
	}
	pthread_detach(tid);
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	return (SMFIS_CONTINUE);
}
