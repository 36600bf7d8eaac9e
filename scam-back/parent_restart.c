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
 * A prober replaced by a reload (parent_reload_config() in scam-back.c
 * decides, restart.c says why): a new one starts beside it, and the old
 * one goes once the engine has switched.  scam-back.c lends its children
 * table and its two handlers for a child's pipe and log socket.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "parent.h"

static void	parent_retire_timeout(int, short, void *);
static void	parent_log_retiring(int, short, void *);

/*
 * A prober replaced by a reload: it goes once the engine has switched to
 * the new one (its pipe from us closes), and its end is no death.
 */
static struct retiring {
	pid_t		 pid;		/* 0: none */
	int		 fd;		/* its pipe, until the engine switched */
	struct event	 ev;		/* kill it if it does not go */
	int		 logfd;		/* its log lines, until it is reaped */
	struct event	 log_ev;
} retiring = { .fd = -1, .logfd = -1 };

static struct child	*children;
static void		(*dispatch_cb)(int, short, void *);
static void		(*log_relay_cb)(int, short, void *);

/* dispatch and relay: a child's imsg and log handlers, with the child. */
void
parent_restart_init(struct child *table,
    void (*dispatch)(int, short, void *), void (*relay)(int, short, void *))
{
	children = table;
	dispatch_cb = dispatch;
	log_relay_cb = relay;
}

/* A restart is under way: the old prober has not gone yet. */
int
parent_retiring(void)
{
	return (retiring.pid != 0);
}

/*
 * A reload needs what the running prober's sandbox fixed at its start
 * (why): start another with the new configuration and its own socket to
 * the engine, which switches to it and sends again what the old one had
 * not answered.  The old one goes when the engine says it has switched.
 * The engine gets the new configuration before the switch, so that both
 * sides agree on it from the first probe.
 */
int
parent_prober_restart(struct scamback_conf *nconf, const char *why)
{
	struct child	*c = &children[PROC_PROBER];
	int		 pp[2], ipc[2], lp[2];
	pid_t		 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, pp) == -1) {
		log_warn("%s: socketpair", __func__);
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    PF_UNSPEC, ipc) == -1) {
		log_warn("%s: socketpair", __func__);
		close(pp[0]);
		close(pp[1]);
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, PF_UNSPEC,
	    lp) == -1) {
		log_warn("%s: socketpair", __func__);
		close(pp[0]);
		close(pp[1]);
		close(ipc[0]);
		close(ipc[1]);
		return (-1);
	}
	if ((pid = spawner_start(PROC_PROBER, pp[1], lp[1])) == -1) {
		close(pp[0]);
		close(ipc[0]);
		close(ipc[1]);
		close(lp[0]);
		log_warnx("the prober could not be restarted for %s: restart "
		    "scam-back", why);
		return (-1);
	}

	/* The old one: no longer heard, its pipe open until the switch. */
	event_del(&c->iev.ev);
	imsgbuf_clear(&c->iev.ibuf);
	retiring.fd = c->iev.ibuf.fd;
	retiring.pid = c->pid;
	evtimer_set(&retiring.ev, parent_retire_timeout, NULL);
	event_del(&c->log_ev);
	retiring.logfd = c->logfd;
	event_set(&retiring.log_ev, retiring.logfd, EV_READ | EV_PERSIST,
	    parent_log_retiring, NULL);
	event_add(&retiring.log_ev, NULL);
	log_info("restarting the prober for %s: pid %d replaces %d", why,
	    (int)pid, (int)c->pid);

	c->pid = pid;
	c->exited = c->killed = 0;
	c->logfd = lp[0];
	event_set(&c->log_ev, c->logfd, EV_READ | EV_PERSIST,
	    log_relay_cb, c);
	event_add(&c->log_ev, NULL);
	imsgev_init(&c->iev, pp[0], dispatch_cb, c);
	if (config_send(&c->iev.ibuf, nconf, 0) == -1 ||
	    imsgev_compose(&c->iev, IMSG_SOCKET_IPC, 0, 0, ipc[1], NULL,
	    0) == -1 ||
	    imsgev_compose(&c->iev, IMSG_START, 0, 0, -1, NULL, 0) == -1)
		fatal("cannot start the new prober");
	if (config_send(&children[PROC_ENGINE].iev.ibuf, nconf, 1) == -1 ||
	    imsgev_compose(&children[PROC_ENGINE].iev, IMSG_SOCKET_IPC, 0, 0,
	    ipc[0], NULL, 0) == -1)
		fatal("cannot pass the new prober to the engine");
	imsgev_add(&children[PROC_ENGINE].iev);
	return (0);
}

/* The engine talks to the new prober: the old one may go. */
void
parent_prober_switched(void)
{
	struct timeval	tv = { PARENT_WAIT, 0 };

	if (retiring.fd == -1)
		fatalx("IMSG_PROBER_SWITCHED without a restart");
	parent_retire_close();
	if (retiring.pid != 0)
		evtimer_add(&retiring.ev, &tv);
}

/* Its pipe closes: the replaced prober exits. */
void
parent_retire_close(void)
{
	if (retiring.fd == -1)
		return;
	close(retiring.fd);
	retiring.fd = -1;
}

static void
parent_retire_timeout(int fd, short event, void *arg)
{
	if (retiring.pid == 0)
		return;
	log_warnx("replaced prober (pid %d) did not stop; killing it",
	    (int)retiring.pid);
	kill(retiring.pid, SIGKILL);
}

/* SIGCHLD: was it the replaced prober?  Its end is no death. */
int
parent_retire_reaped(pid_t pid, int status)
{
	char	how[64];

	if (retiring.pid == 0 || pid != retiring.pid)
		return (0);
	child_status(status, how, sizeof(how));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_debug("replaced prober (pid %d) %s", (int)pid, how);
	else
		log_warnx("replaced prober (pid %d) %s", (int)pid, how);
	/* What it said before it went, then its log socket goes. */
	log_relay_read(retiring.logfd, pid, proc_title(PROC_PROBER));
	event_del(&retiring.log_ev);
	close(retiring.logfd);
	retiring.logfd = -1;
	retiring.pid = 0;
	parent_retire_close();
	evtimer_del(&retiring.ev);
	return (1);
}

/* SIGALRM at the parent's end: the replaced prober is killed too. */
void
parent_retire_kill(void)
{
	if (retiring.pid != 0)
		kill(retiring.pid, SIGKILL);
}

/* A prober that a reload replaced says its last words under its pid. */
static void
parent_log_retiring(int fd, short event, void *arg)
{
	log_relay_read(fd, retiring.pid, proc_title(PROC_PROBER));
}
