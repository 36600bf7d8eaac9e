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
 * A small JSON writer on stdout: objects and arrays nest on a stack, the
 * writer puts the commas.  Strings are escaped as RFC 8259 says, bytes
 * that are not valid UTF-8 become U+FFFD so the output always parses.
 */

#include <sys/types.h>

#include <err.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scam-back.h"
#include "scambackctl.h"

#define JSON_DEPTH	16

static struct {
	int	 array;		/* 1: array, 0: object */
	int	 count;		/* members written so far */
} stack[JSON_DEPTH];
static int	depth = -1;

static void	json_member(const char *);
static void	json_quote(const char *);
static size_t	utf8_len(const unsigned char *);

void
json_do_start(void)
{
	depth = 0;
	stack[0].array = 0;
	stack[0].count = 0;
	putchar('{');
}

void
json_do_finish(void)
{
	while (depth > 0)
		json_do_end();
	if (depth == 0)
		printf("}\n");
	depth = -1;
	if (fflush(stdout) == EOF)
		err(1, "stdout");
}

/*
 * An error ends the document: closed where it stands, "error" added at
 * its top, or a document of its own when none was started.
 */
void
json_do_error(const char *msg, const char *const *valid, size_t nvalid)
{
	size_t	i;

	if (depth < 0)
		json_do_start();
	while (depth > 0)
		json_do_end();
	json_do_string("error", msg);
	if (nvalid > 0) {
		json_do_array("valid");
		for (i = 0; i < nvalid; i++)
			json_do_string("", valid[i]);
		json_do_end();
	}
	json_do_finish();
}

void
json_do_array(const char *name)
{
	json_member(name);
	putchar('[');
	if (++depth >= JSON_DEPTH)
		errx(1, "JSON nesting too deep");
	stack[depth].array = 1;
	stack[depth].count = 0;
}

void
json_do_object(const char *name)
{
	json_member(name);
	putchar('{');
	if (++depth >= JSON_DEPTH)
		errx(1, "JSON nesting too deep");
	stack[depth].array = 0;
	stack[depth].count = 0;
}

void
json_do_end(void)
{
	if (depth <= 0)
		return;
	putchar(stack[depth].array ? ']' : '}');
	depth--;
}

void
json_do_string(const char *name, const char *v)
{
	json_member(name);
	json_quote(v);
}

void
json_do_uint(const char *name, uint64_t v)
{
	json_member(name);
	printf("%" PRIu64, v);
}

void
json_do_int(const char *name, int64_t v)
{
	json_member(name);
	printf("%" PRId64, v);
}

void
json_do_bool(const char *name, int v)
{
	json_member(name);
	printf("%s", v ? "true" : "false");
}

/* The comma before every member but the first, and the name in objects. */
static void
json_member(const char *name)
{
	if (depth < 0)
		errx(1, "JSON output not started");
	if (stack[depth].count++ > 0)
		putchar(',');
	if (!stack[depth].array) {
		json_quote(name);
		putchar(':');
	}
}

static void
json_quote(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	putchar('"');
	while (*p != '\0') {
		switch (*p) {
		case '"':
			printf("\\\"");
			break;
		case '\\':
			printf("\\\\");
			break;
		case '\n':
			printf("\\n");
			break;
		case '\r':
			printf("\\r");
			break;
		case '\t':
			printf("\\t");
			break;
		default:
			if (*p < 0x20) {
				printf("\\u%04x", *p);
				break;
			}
			if (*p < 0x80) {
				putchar(*p);
				break;
			}
			if ((n = utf8_len(p)) == 0) {
				printf("\\ufffd");
				break;
			}
			fwrite(p, 1, n, stdout);
			p += n;
			continue;
		}
		p++;
	}
	putchar('"');
}

/* The length of the well-formed UTF-8 sequence at p, or 0. */
static size_t
utf8_len(const unsigned char *p)
{
	size_t		 n, i;
	uint32_t	 cp;

	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 2;
		cp = *p & 0x1f;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		cp = *p & 0x0f;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		cp = *p & 0x07;
	} else
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}
