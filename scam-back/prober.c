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
 * The prober: asks the backends over SMTP whether recipients exist.
 * Single-threaded on libevent; it never blocks.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"

static void	prober_startup_imsg(struct imsg *, void *);
static void	prober_dispatch_parent(int, short, void *);
static void	prober_dispatch_engine(int, short, void *);

static struct scamback_conf	*prober_conf;
static struct scamback_conf	*pending_conf;
static struct imsgev		 iev_parent;
static struct imsgev		 iev_engine;
static int			 engine_fd = -1;

__dead void
prober_main(int debug, int verbose)
{
	log_init(debug, LOG_MAIL);
	log_setverbose(verbose);
	log_procinit(proc_title(PROC_PROBER));

	if (imsgbuf_init(&iev_parent.ibuf, PARENT_SOCK_FILENO) == -1)
		fatal("imsgbuf_init");
	imsgbuf_allow_fdpass(&iev_parent.ibuf);
	child_startup(&iev_parent.ibuf, prober_startup_imsg, NULL);
	if (prober_conf == NULL || engine_fd == -1)
		fatalx("incomplete start from the parent");

	event_init();

	drop_privileges(PROC_PROBER, prober_conf->user);

	if (pledge("stdio inet dns", NULL) == -1)
		fatal("pledge");

	signal(SIGPIPE, SIG_IGN);
	imsgev_set(&iev_parent, prober_dispatch_parent, NULL);
	imsgev_init(&iev_engine, engine_fd, prober_dispatch_engine, NULL);

	event_dispatch();
	fatalx("event loop ended");
}

static void
prober_startup_imsg(struct imsg *imsg, void *arg)
{
	switch (imsg_get_type(imsg)) {
	case IMSG_SOCKET_IPC:
		if (engine_fd != -1 || (engine_fd = imsg_get_fd(imsg)) == -1)
			fatalx("bad IMSG_SOCKET_IPC");
		break;
	default:
		if (config_recv(&pending_conf, imsg) == 1) {
			if (prober_conf != NULL)
				fatalx("second configuration at start");
			prober_conf = pending_conf;
			pending_conf = NULL;
		}
		break;
	}
}

static void
prober_dispatch_parent(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	ssize_t		 n;
	int		 v;

	if (!imsgev_read(iev, event))
		exit(0);	/* the parent is gone */

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		case IMSG_STOP:
			if (imsg_get_len(&imsg) != 0)
				fatalx("bad IMSG_STOP");
			exit(0);
		case IMSG_LOG_VERBOSE:
			if (imsg_get_data(&imsg, &v, sizeof(v)) == -1)
				fatalx("bad IMSG_LOG_VERBOSE");
			log_setverbose(v);
			break;
		default:
			if (config_recv(&pending_conf, &imsg) == 1) {
				config_free(prober_conf);
				prober_conf = pending_conf;
				pending_conf = NULL;
				log_debug("new configuration applied");
			}
			break;
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}

static void
prober_dispatch_engine(int fd, short event, void *arg)
{
	struct imsgev	*iev = arg;
	struct imsg	 imsg;
	ssize_t		 n;

	if (!imsgev_read(iev, event))
		fatalx("lost the milter engine");

	for (;;) {
		if ((n = imsg_get(&iev->ibuf, &imsg)) == -1)
			fatal("%s: imsg_get", __func__);
		if (n == 0)
			break;

		switch (imsg_get_type(&imsg)) {
		default:
			fatalx("%s: unexpected imsg %u", __func__,
			    imsg_get_type(&imsg));
		}
		imsg_free(&imsg);
	}
	imsgev_add(iev);
}
