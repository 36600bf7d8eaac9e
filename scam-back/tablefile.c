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
 * The file format of access tables: "key [value]" a line, SCO's
 * "key<TAB>value" files as they are, exceptions and regexes.  Reading
 * the file is rulesconf.c's (the parent's); this only parses what it read.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scam-back.h"
#include "policy.h"
#include "table.h"

/*
 * One line of a table file: "key [value]", SCO's "key<TAB>value", an
 * exception "!key", a pattern "regex EXPR [value]" (EXPR in double quotes
 * when it holds blanks).  Blank lines and '#' comments add nothing.  The
 * line is modified.  Returns 0 or -1 with *errstr.
 */
int
table_add_line(struct table *t, char *line, const char **errstr)
{
	char	*p, *key, *value, *end;
	int	 flags = 0;

	*errstr = NULL;
	for (p = line; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n') {
			*p = '\0';
			break;
		}
	p = line + strspn(line, " \t");
	if (*p == '\0' || *p == '#')
		return (0);
	if (*p == '!') {
		flags |= TABLE_F_EXCEPT;
		p += 1 + strspn(p + 1, " \t");
	}
	if (strncmp(p, "regex", 5) == 0 && (p[5] == ' ' || p[5] == '\t')) {
		flags |= TABLE_F_REGEX;
		p += 5 + strspn(p + 5, " \t");
	}
	if ((flags & TABLE_F_REGEX) && *p == '"') {
		key = ++p;
		for (end = p; *end != '\0' && *end != '"'; end++)
			if (*end == '\\' && end[1] == '"')
				memmove(end, end + 1, strlen(end));
		if (*end != '"') {
			*errstr = "no closing quote";
			return (-1);
		}
		*end++ = '\0';
		if (*end != '\0' && *end != ' ' && *end != '\t') {
			*errstr = "a blank must follow the closing quote";
			return (-1);
		}
		value = end;
	} else {
		key = p;
		value = p + strcspn(p, " \t");
		if (*value != '\0')
			*value++ = '\0';
	}
	value += strspn(value, " \t");
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	for (p = value; *p != '\0'; p++) {
		if (*p == '\t')
			*p = ' ';
		else if (iscntrl((unsigned char)*p)) {
			*errstr = "control character in the value";
			return (-1);
		}
	}
	if (*key == '\0') {
		*errstr = "empty entry";
		return (-1);
	}
	return (table_add(t, key, value, flags, errstr));
}

/*
 * A whole table file held in memory.  Each bad line is reported through
 * err(arg, lineno, message) and skipped; returns the number of errors.
 */
int
table_load_buf(struct table *t, const char *buf, size_t len,
    void (*err)(void *, int, const char *), void *arg)
{
	char		 line[TABLE_KEY_LEN + TABLE_VALUE_LEN + 16];
	const char	*p = buf, *end = buf + len, *nl, *errstr;
	size_t		 n;
	int		 lineno = 0, errors = 0;

	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (memchr(p, '\0', n) != NULL) {
			err(arg, lineno, "NUL character");
			errors++;
		} else if (n >= sizeof(line)) {
			err(arg, lineno, "line too long");
			errors++;
		} else {
			memcpy(line, p, n);
			line[n] = '\0';
			if (table_add_line(t, line, &errstr) == -1) {
				err(arg, lineno, errstr);
				errors++;
			}
		}
		p = nl + 1;
	}
	return (errors);
}
