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

#ifndef PRINTABLE_H
#define PRINTABLE_H

#include <stddef.h>

/*
 * s made safe for a log line or a terminal: each octet that is not
 * printable ASCII other than a space (0x21 to 0x7e) becomes '?'.  That
 * covers control characters, DEL, every octet of 0x80 and above (C1
 * controls, UTF-8 and so the bidirectional controls), and a space that
 * would end a log field.  At most len - 1 octets are written; a string
 * cut short ends in "...".  NULL is printed as "".  Returns buf.
 */
const char	*printable(const char *s, char *buf, size_t len);

/*
 * The same for a text that goes between double quotes on a log line (a
 * backend's reply): spaces stay, a double quote becomes a single one.
 */
const char	*printable_text(const char *s, char *buf, size_t len);

#endif /* PRINTABLE_H */
