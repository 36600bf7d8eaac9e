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
 * What the resolver reads (resolvconf.c): address literals, the system's
 * /etc/resolv.conf (read by the parent at start and reload) and
 * /etc/hosts (read by the prober before its sandbox).  Pure parsers over
 * a buffer, so that a fuzzer can reach them.
 */

#ifndef RESOLVCONF_H
#define RESOLVCONF_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define RESOLV_CONF		"/etc/resolv.conf"
#define HOSTS_FILE		"/etc/hosts"
#define RESOLVCONF_MAX		(64 * 1024)	/* octets read of either */

/* An address literal, bare or in brackets: 1 and *ss filled, else 0. */
int	 resolve_literal(const char *, uint16_t, struct sockaddr_storage *);
/* "192.0.2.1:25", "[2001:db8::1]:25" */
const char *resolve_ntop(const struct sockaddr_storage *, char *, size_t);

/*
 * resolv.conf's nameserver, search, domain and options ndots, as the C
 * library reads them.  Name servers become system resolvers unless the
 * configuration has its own; without any, 127.0.0.1 (as the C library).
 */
void	 resolvconf_parse(struct scamback_conf *, const char *, size_t);
/* The parent: read the file (at most RESOLVCONF_MAX) and parse it. */
void	 resolvconf_load(struct scamback_conf *, const char *);

/* The hosts file: names to addresses, both families, in file order. */
struct hosts;
struct hosts	*hosts_parse(const char *, size_t);
struct hosts	*hosts_load(const char *);
void		 hosts_free(struct hosts *);
/* Up to max addresses with the port; returns how many (0: unknown). */
int		 hosts_lookup(const struct hosts *, const char *, uint16_t,
		    struct sockaddr_storage *, int);

#endif /* RESOLVCONF_H */
