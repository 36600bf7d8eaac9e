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
 * Unit test of scam-back/printable.c: what the MTA wrote, made safe for
 * a log line or a terminal.
 */

#include <stdio.h>
#include <string.h>

#include "printable.h"

static int	failures;

struct pcase {
	const char	*in;
	size_t		 len;
	const char	*out;
};

static const struct pcase pcases[] = {
	{ "bob@example.net",		64,	"bob@example.net" },
	{ NULL,				64,	"" },
	{ "",				64,	"" },
	/* Control characters, DEL and a space that would end a field. */
	{ "a\tb\nc\rd\x1b[31me",	64,	"a?b?c?d?[31me" },
	{ "\x7f" "x\x01",		64,	"?x?" },
	{ "\"john doe\"@example.net",	64,	"\"john?doe\"@example.net" },
	{ "a> verdict=valid",		64,	"a>?verdict=valid" },
	/* C1 controls as octets, and as UTF-8 (U+009B: CSI). */
	{ "\x9b" "31m\x85",		64,	"?31m?" },
	{ "\xc2\x9b" "31m",		64,	"??31m" },
	/* Bidirectional controls: U+202E, U+2066, U+200F, U+061C. */
	{ "\xe2\x80\xae" "gnp.exe",	64,	"???gnp.exe" },
	{ "\xe2\x81\xa6x\xe2\x80\x8f\xd8\x9c", 64, "???x?????" },
	/* Any other octet above 0x7e: UTF-8 letters too. */
	{ "j\xc3\xb6rg@example.net",	64,	"j??rg@example.net" },
	{ "\xff\xfe",			64,	"??" },
	/* Cut short: at most len - 1 octets, "..." at the end. */
	{ "abcdefghij",			11,	"abcdefghij" },
	{ "abcdefghij",			10,	"abcdef..." },
	{ "abcdefghij",			4,	"..." },
	{ "abcdefghij",			3,	".." },
	{ "abcdefghij",			1,	"" },
	{ "\x1b\x1b\x1b\x1b\x1b\x1b",	6,	"??..." },
};

int
main(void)
{
	char	 buf[64];
	size_t	 i;

	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		if (printable(pcases[i].in, buf, pcases[i].len) != buf ||
		    strcmp(buf, pcases[i].out) != 0) {
			fprintf(stderr, "FAIL case %zu: got \"%s\", want "
			    "\"%s\"\n", i, buf, pcases[i].out);
			failures++;
		}
		/* Nothing written past len. */
		if (pcases[i].len < sizeof(buf) &&
		    buf[pcases[i].len] != 'X') {
			fprintf(stderr, "FAIL case %zu: wrote past %zu\n", i,
			    pcases[i].len);
			failures++;
		}
	}
	/* len 0 writes nothing at all. */
	memset(buf, 'X', sizeof(buf));
	printable("abc", buf, 0);
	if (buf[0] != 'X') {
		fprintf(stderr, "FAIL: len 0 wrote\n");
		failures++;
	}
	/* A reply between double quotes: blanks stay, quotes cannot end it. */
	printable_text("451 4.7.1 \"greylisted\"\r\n\x9b", buf, sizeof(buf));
	if (strcmp(buf, "451 4.7.1 'greylisted'???") != 0) {
		fprintf(stderr, "FAIL: printable_text: \"%s\"\n", buf);
		failures++;
	}
	if (failures > 0)
		return (1);
	printf("test_printable: %zu cases passed\n",
	    sizeof(pcases) / sizeof(pcases[0]) + 1);
	return (0);
}
