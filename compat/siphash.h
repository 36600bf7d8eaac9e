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
 * siphash(3) of OpenBSD's libc, for Linux: SipHash (Aumasson, Bernstein),
 * a keyed hash for tables whose keys come from strangers.  The key is its
 * 16 octets in memory order, as on OpenBSD.
 */

#ifndef SCAMBACK_SIPHASH_H
#define SCAMBACK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_BLOCK_LENGTH	 8
#define SIPHASH_KEY_LENGTH	16
#define SIPHASH_DIGEST_LENGTH	 8

typedef struct {
	uint64_t	v[4];
	uint8_t		buf[SIPHASH_BLOCK_LENGTH];
	uint32_t	bytes;
} SIPHASH_CTX;

typedef struct {
	uint64_t	k0;
	uint64_t	k1;
} SIPHASH_KEY;

void		SipHash_Init(SIPHASH_CTX *, const SIPHASH_KEY *);
void		SipHash_Update(SIPHASH_CTX *, int, int, const void *, size_t);
uint64_t	SipHash_End(SIPHASH_CTX *, int, int);
void		SipHash_Final(void *, SIPHASH_CTX *, int, int);
uint64_t	SipHash(const SIPHASH_KEY *, int, int, const void *, size_t);

#define SipHash24_Init(_c, _k)		SipHash_Init((_c), (_k))
#define SipHash24_Update(_c, _p, _l)	SipHash_Update((_c), 2, 4, (_p), (_l))
#define SipHash24_End(_c)		SipHash_End((_c), 2, 4)
#define SipHash24_Final(_d, _c)		SipHash_Final((_d), (_c), 2, 4)
#define SipHash24(_k, _p, _l)		SipHash((_k), 2, 4, (_p), (_l))

#endif /* SCAMBACK_SIPHASH_H */
