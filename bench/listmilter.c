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
 * listmilter: a libmilter milter that knows the valid recipients from a
 * list loaded at start (one address per line, first word; the same file
 * Postfix reads as relay_recipient_maps) and rejects every other
 * recipient of the domain with 550 5.1.1.  Through Postfix it gives the
 * same verdicts as scam-back with a warm cache, so the two cost Postfix
 * the same queue files: the fair floor for scam-back's whole-system
 * figure.  A read-only table needs no lock.
 */

#include <sys/types.h>

#include <ctype.h>
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "bench.h"

static __dead void usage(void);
static uint64_t	 hash(const char *);
static void	 table_add(const char *);
static int	 table_has(const char *);
static sfsistat	 list_envrcpt(SMFICTX *, char **);

static struct smfiDesc desc = {
	.xxfi_name = "listmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_envrcpt = list_envrcpt,
};

static char		**table;
static size_t		  tablesize;	/* a power of two */
static const char	 *domain = "example.net";

static __dead void
usage(void)
{
	fprintf(stderr, "usage: listmilter [-d domain] -f list -p conn\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	FILE	*fp;
	char	*conn = NULL, *list = NULL, *line = NULL, *p;
	size_t	 linesize = 0, n = 0;
	ssize_t	 len;
	int	 ch;

	while ((ch = getopt(argc, argv, "d:f:p:")) != -1) {
		switch (ch) {
		case 'd':
			domain = optarg;
			break;
		case 'f':
			list = optarg;
			break;
		case 'p':
			conn = optarg;
			break;
		default:
			usage();
		}
	}
	if (conn == NULL || list == NULL || argc != optind)
		usage();

	if ((fp = fopen(list, "r")) == NULL)
		err(1, "%s", list);
	while (getline(&line, &linesize, fp) != -1)
		n++;
	for (tablesize = 1024; tablesize < 2 * n; tablesize *= 2)
		;
	if ((table = calloc(tablesize, sizeof(*table))) == NULL)
		err(1, "calloc");
	rewind(fp);
	while ((len = getline(&line, &linesize, fp)) != -1) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		for (p = strchr(line, '@'); p != NULL && *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
		table_add(line);
	}
	free(line);
	fclose(fp);

	own_session();
	if (smfi_setconn(conn) == MI_FAILURE ||
	    smfi_register(desc) == MI_FAILURE ||
	    smfi_setbacklog(512) == MI_FAILURE ||
	    smfi_opensocket(1) == MI_FAILURE)
		errx(1, "cannot listen on %s", conn);
	return (smfi_main() == MI_SUCCESS ? 0 : 1);
}

/* FNV-1a */
static uint64_t
hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;

	while (*s != '\0') {
		h ^= (u_char)*s++;
		h *= 1099511628211ULL;
	}
	return (h);
}

static void
table_add(const char *addr)
{
	size_t	i;

	for (i = hash(addr) & (tablesize - 1); table[i] != NULL;
	    i = (i + 1) & (tablesize - 1))
		if (strcmp(table[i], addr) == 0)
			return;
	if ((table[i] = strdup(addr)) == NULL)
		err(1, "strdup");
}

static int
table_has(const char *addr)
{
	size_t	i;

	for (i = hash(addr) & (tablesize - 1); table[i] != NULL;
	    i = (i + 1) & (tablesize - 1))
		if (strcmp(table[i], addr) == 0)
			return (1);
	return (0);
}

static sfsistat
list_envrcpt(SMFICTX *ctx, char **argv)
{
	char	 addr[256], text[300];
	char	*p;
	size_t	 len;

	if (argv[0] == NULL)
		return (SMFIS_CONTINUE);
	p = argv[0];
	if (*p == '<')
		p++;
	len = strcspn(p, ">");
	if (len >= sizeof(addr))
		return (SMFIS_CONTINUE);
	memcpy(addr, p, len);
	addr[len] = '\0';
	if ((p = strrchr(addr, '@')) == NULL)
		return (SMFIS_CONTINUE);
	for (p++; *p != '\0'; p++)
		*p = tolower((unsigned char)*p);
	p = strrchr(addr, '@') + 1;
	if (strcmp(p, domain) != 0 || table_has(addr))
		return (SMFIS_CONTINUE);

	/* smfi_setreply reads % as a format character: none can be here. */
	if (strchr(addr, '%') != NULL)
		return (SMFIS_REJECT);
	snprintf(text, sizeof(text),
	    "<%s>: Recipient address rejected: User unknown", addr);
	smfi_setreply(ctx, "550", "5.1.1", text);
	return (SMFIS_REJECT);
}
