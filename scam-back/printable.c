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
 * What scam-back prints of what others wrote (recipients and senders from
 * the MTA, addresses in the cache) goes through here first, so that no
 * octet from outside can move a terminal's cursor, reorder a line or
 * forge a log field.
 */

#include <string.h>

#include "printable.h"

static const char	*printable_as(const char *, char *, size_t, int);

const char *
printable(const char *s, char *buf, size_t len)
{
	return (printable_as(s, buf, len, 0));
}

const char *
printable_text(const char *s, char *buf, size_t len)
{
	return (printable_as(s, buf, len, 1));
}

/* text: blanks stay, a double quote becomes a single one. */
static const char *
printable_as(const char *s, char *buf, size_t len, int text)
{
	size_t	i, room;

	if (len == 0)
		return (buf);
	if (s == NULL)
		s = "";
	/* Room for "..." when the string does not fit. */
	room = len - 1;
	if (strlen(s) > room)
		room = room > 3 ? room - 3 : 0;
	for (i = 0; s[i] != '\0' && i < room; i++) {
		if (text && s[i] == '"')
			buf[i] = '\'';
		else if (text && s[i] == ' ')
			buf[i] = ' ';
		else
			buf[i] = (unsigned char)s[i] > 0x20 &&
			    (unsigned char)s[i] < 0x7f ? s[i] : '?';
	}
	if (s[i] != '\0')
		for (; i < len - 1; i++)
			buf[i] = '.';
	buf[i] = '\0';
	return (buf);
}
