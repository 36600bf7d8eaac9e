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
 * The command line grammar as token tables, as bgpctl does: every keyword
 * may be abbreviated to any prefix that no other keyword of its table
 * shares ("sh ca" is "show cache").
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "printable.h"
#include "scambackctl.h"

enum token_type {
	NOTOKEN,	/* the end of the words is acceptable here */
	ENDTOKEN,	/* the end of a table */
	KEYWORD,
	STATE,		/* valid | invalid */
	MATCH,		/* an address or @domain */
	ADDRESS,	/* a full address */
	NAME,		/* a backend's name */
	ARG,		/* a word of a check rules session, into slot value */
	FLAG		/* a keyword of check rules that sets slot value */
};

/* The slots of a check rules session. */
enum {
	ARG_CLIENT,
	ARG_NAME,
	ARG_HELO,
	ARG_SENDER,
	ARG_RCPT,
	FLAG_UNKNOWN
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;
	const struct token	*next;
};

static const struct token t_main[];
static const struct token t_show[];
static const struct token t_cache_state[];
static const struct token t_cache_match[];
static const struct token t_flush[];
static const struct token t_backend_name[];
static const struct token t_save[];
static const struct token t_check[];
static const struct token t_cr_from[];
static const struct token t_cr_client[];
static const struct token t_cr_opts[];
static const struct token t_cr_name[];
static const struct token t_cr_helo[];
static const struct token t_cr_sender[];
static const struct token t_cr_rcpt[];
static const struct token t_log[];

static const struct token t_main[] = {
	{ KEYWORD,	"show",		SHOW,		t_show },
	{ KEYWORD,	"flush",	FLUSH,		t_flush },
	{ KEYWORD,	"save",		SAVE,		t_save },
	{ KEYWORD,	"check",	CHECK,		t_check },
	{ KEYWORD,	"reload",	RELOAD,		NULL },
	{ KEYWORD,	"log",		LOG,		t_log },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"cache",	SHOW_CACHE,	t_cache_state },
	{ KEYWORD,	"backends",	SHOW_BACKENDS,	NULL },
	{ KEYWORD,	"stats",	SHOW_STATS,	NULL },
	{ KEYWORD,	"rules",	SHOW_RULES,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cache_state[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ STATE,	"valid",	CTL_STATE_VALID, t_cache_match },
	{ STATE,	"invalid",	CTL_STATE_INVALID, t_cache_match },
	{ MATCH,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cache_match[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ MATCH,	"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_flush[] = {
	{ KEYWORD,	"cache",	FLUSH_CACHE,	t_cache_state },
	{ KEYWORD,	"backoff",	FLUSH_BACKOFF,	t_backend_name },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_backend_name[] = {
	{ NOTOKEN,	"",		NONE,		NULL },
	{ NAME,		"",		NONE,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_save[] = {
	{ KEYWORD,	"cache",	SAVE_CACHE,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_check[] = {
	{ KEYWORD,	"rules",	CHECK_RULES,	t_cr_from },
	{ ADDRESS,	"",		CHECK,		NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

/* check rules from ADDR [name NAME|unknown] [helo H] [mail-from S] rcpt-to R */
static const struct token t_cr_from[] = {
	{ KEYWORD,	"from",		NONE,		t_cr_client },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cr_client[] = {
	{ ARG,		"address",	ARG_CLIENT,	t_cr_opts },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cr_opts[] = {
	{ KEYWORD,	"name",		NONE,		t_cr_name },
	{ FLAG,		"unknown",	FLAG_UNKNOWN,	t_cr_opts },
	{ KEYWORD,	"helo",		NONE,		t_cr_helo },
	{ KEYWORD,	"mail-from",	NONE,		t_cr_sender },
	{ KEYWORD,	"rcpt-to",	NONE,		t_cr_rcpt },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cr_name[] = {
	{ ARG,		"name",		ARG_NAME,	t_cr_opts },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cr_helo[] = {
	{ ARG,		"helo-name",	ARG_HELO,	t_cr_opts },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cr_sender[] = {
	{ ARG,		"sender",	ARG_SENDER,	t_cr_opts },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_cr_rcpt[] = {
	{ ARG,		"recipient",	ARG_RCPT,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"verbose",	LOG_VERBOSE,	NULL },
	{ KEYWORD,	"brief",	LOG_BRIEF,	NULL },
	{ ENDTOKEN,	"",		NONE,		NULL }
};

static struct parse_result	res;
/* Where the complaints go: the caller's (scambackctl.c). */
static void			(*complain)(const char *, ...)
				    __attribute__((__format__ (printf, 1, 2)));
static void			(*valid)(const char *);

static const struct token	*match_token(const char *,
				    const struct token []);
static void			 show_valid_args(const struct token []);
static int			 parse_match(const char *, int);
static int			 parse_arg(const char *, int);

/*
 * NULL when the command line is wrong: error() has said why and valid()
 * has been given each word that would have fitted there.
 */
struct parse_result *
parse(int argc, char *argv[], void (*error)(const char *, ...),
    void (*valid_arg)(const char *))
{
	const struct token	*table = t_main;
	const struct token	*match;
	const char		*word;

	complain = error;
	valid = valid_arg;
	memset(&res, 0, sizeof(res));
	res.filter.state = CTL_STATE_ANY;

	for (;;) {
		word = argc > 0 ? argv[0] : NULL;
		if ((match = match_token(word, table)) == NULL) {
			show_valid_args(table);
			return (NULL);
		}
		if (match->type == NOTOKEN)
			break;
		argc--;
		argv++;
		if (match->next == NULL)
			break;
		table = match->next;
	}
	if (argc > 0) {
		complain("superfluous argument: %s", argv[0]);
		return (NULL);
	}
	/* Keywords that only lead on ("show") never end a command. */
	switch (res.action) {
	case NONE:
	case SHOW:
	case FLUSH:
	case SAVE:
	case LOG:
		complain("incomplete command");
		return (NULL);
	default:
		break;
	}
	return (&res);
}

/*
 * A word matches a keyword when it is a prefix of it; an exact match wins
 * over prefixes of longer keywords.  Anything but one match is an error.
 */
static const struct token *
match_token(const char *word, const struct token table[])
{
	const struct token	*t = NULL, *exact = NULL;
	size_t			 i, len;
	int			 match = 0;

	len = word != NULL ? strlen(word) : 0;
	for (i = 0; table[i].type != ENDTOKEN; i++) {
		switch (table[i].type) {
		case NOTOKEN:
			if (word == NULL) {
				match++;
				t = &table[i];
			}
			break;
		case KEYWORD:
		case STATE:
		case FLAG:
			if (word == NULL || len == 0 ||
			    strncmp(word, table[i].keyword, len) != 0)
				break;
			match++;
			t = &table[i];
			if (strcmp(word, table[i].keyword) == 0)
				exact = t;
			break;
		case MATCH:
		case ADDRESS:
			if (word == NULL || strchr(word, '@') == NULL)
				break;
			if (!parse_match(word, table[i].type == ADDRESS))
				return (NULL);
			match++;
			t = &table[i];
			break;
		case NAME:
			if (word == NULL || len == 0)
				break;
			if (strlcpy(res.name, word, sizeof(res.name)) >=
			    sizeof(res.name)) {
				complain("backend name too long: %s", word);
				return (NULL);
			}
			match++;
			t = &table[i];
			break;
		case ARG:
			if (word == NULL)
				break;
			if (!parse_arg(word, table[i].value))
				return (NULL);
			match++;
			t = &table[i];
			break;
		case ENDTOKEN:
			break;
		}
	}
	if (exact != NULL) {
		t = exact;
		match = 1;
	}
	if (match != 1) {
		if (word == NULL)
			complain("missing argument");
		else if (match > 1)
			complain("ambiguous argument: %s", word);
		else
			complain("unknown argument: %s", word);
		return (NULL);
	}

	switch (t->type) {
	case KEYWORD:
		if (t->value != NONE)
			res.action = t->value;
		break;
	case STATE:
		res.filter.state = t->value;
		break;
	case ADDRESS:
		res.action = t->value;
		break;
	case FLAG:
		res.session.unknown = 1;
		break;
	default:
		break;
	}
	return (t);
}

static void
show_valid_args(const struct token table[])
{
	char	arg[64];
	size_t	i;

	for (i = 0; table[i].type != ENDTOKEN; i++) {
		switch (table[i].type) {
		case NOTOKEN:
			valid("<cr>");
			break;
		case KEYWORD:
		case STATE:
			valid(table[i].keyword);
			break;
		case MATCH:
			valid("<address>");
			valid("@<domain>");
			break;
		case ADDRESS:
			valid("<address>");
			break;
		case NAME:
			valid("<backend>");
			break;
		case ARG:
			snprintf(arg, sizeof(arg), "<%s>", table[i].keyword);
			valid(arg);
			break;
		case FLAG:
			valid(table[i].keyword);
			break;
		case ENDTOKEN:
			break;
		}
	}
}

/*
 * "user@domain" or, unless a full address is required (check),
 * "@domain".  An address is read as the engine reads a RCPT argument
 * (addr_normalise): brackets dropped, a quoted local part whole ("john
 * doe"@example.net), the domain lowercased.  One that cannot be a
 * mailbox is never cached: show and flush refuse it, check hands it to
 * the daemon, which says whether it refuses it.
 */
static int
parse_match(const char *word, int full)
{
	char		 key[ADDR_LEN], pbuf[80];
	const char	*p, *why;
	size_t		 domoff, len;

	if (!full && word[0] == '@') {
		len = strlen(word);
		for (p = word + 1; *p != '\0'; p++)
			if (iscntrl((unsigned char)*p) ||
			    isspace((unsigned char)*p) || *p == '<' ||
			    *p == '>' || *p == '@')
				break;
		if (len < 2 || len >= sizeof(res.filter.match) || *p != '\0') {
			complain("%s: want @domain",
			    printable(word, pbuf, sizeof(pbuf)));
			return (0);
		}
		strlcpy(res.filter.match, word, sizeof(res.filter.match));
		return (1);
	}
	switch (addr_normalise(word, key, sizeof(key), &domoff, &why)) {
	case ADDR_OK:
		strlcpy(res.filter.match, key, sizeof(res.filter.match));
		return (1);
	case ADDR_IMPOSSIBLE:
		if (strcmp(why, "no-local-part") == 0)
			break;
		if (full && strlen(word) < sizeof(res.filter.match)) {
			strlcpy(res.filter.match, word,
			    sizeof(res.filter.match));
			return (1);
		}
		complain("%s: cannot be a mailbox (%s)%s",
		    printable(word, pbuf, sizeof(pbuf)), why, full ?
		    "; refused with 550 5.1.3 in a domain scam-back verifies" :
		    "; never cached");
		return (0);
	}
	complain("%s: want %s", printable(word, pbuf, sizeof(pbuf)),
	    full ? "local-part@domain" : "local-part@domain or @domain");
	return (0);
}

/*
 * A word of a check rules session, checked as the MTA would have sent
 * it: an IPv4 or IPv6 client address, names and addresses without
 * blanks or control characters; "<>" is the null sender.
 */
static int
parse_arg(const char *word, int slot)
{
	struct ctl_check_rules	*s = &res.session;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	const char		*p;
	char			*dst;
	size_t			 len = strlen(word), size;

	for (p = word; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p) || isspace((unsigned char)*p)) {
			fprintf(stderr, "bad character in %s\n", word);
			return (0);
		}
	switch (slot) {
	case ARG_CLIENT:
		if (strncasecmp(word, "IPv6:", 5) == 0)
			word += 5;
		if (inet_pton(AF_INET, word, &a4) != 1 &&
		    inet_pton(AF_INET6, word, &a6) != 1) {
			fprintf(stderr, "%s: not an IPv4 or IPv6 address\n",
			    word);
			return (0);
		}
		dst = s->client;
		size = sizeof(s->client);
		break;
	case ARG_NAME:
		if (strcmp(word, "unknown") == 0) {
			s->unknown = 1;
			return (1);
		}
		dst = s->name;
		size = sizeof(s->name);
		break;
	case ARG_HELO:
		dst = s->helo;
		size = sizeof(s->helo);
		break;
	case ARG_SENDER:
	case ARG_RCPT:
		if (len >= 2 && word[0] == '<' && word[len - 1] == '>') {
			word++;
			len -= 2;
		}
		if (slot == ARG_RCPT && len == 0) {
			fprintf(stderr, "the recipient is empty\n");
			return (0);
		}
		if (len > 254 || len >= ADDR_LEN) {
			fprintf(stderr, "address too long\n");
			return (0);
		}
		dst = slot == ARG_SENDER ? s->sender : s->rcpt;
		memcpy(dst, word, len);
		dst[len] = '\0';
		if (slot == ARG_SENDER)
			s->sender_set = 1;
		return (1);
	default:
		return (0);
	}
	if (strlcpy(dst, word, size) >= size) {
		fprintf(stderr, "%s: too long\n", word);
		return (0);
	}
	return (1);
}
