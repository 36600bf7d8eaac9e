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
 * SipHash-c-d as siphash(3) on OpenBSD: c rounds per 8-octet block, d at
 * the end.  Octets are read little-endian whatever the machine.
 */

#include <string.h>

#include "siphash.h"

#define ROTL64(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void	sip_rounds(SIPHASH_CTX *, int);
static uint64_t	le64(const uint8_t *);

static void
sip_rounds(SIPHASH_CTX *ctx, int n)
{
	uint64_t	*v = ctx->v;

	while (n-- > 0) {
		v[0] += v[1]; v[1] = ROTL64(v[1], 13); v[1] ^= v[0];
		v[0] = ROTL64(v[0], 32);
		v[2] += v[3]; v[3] = ROTL64(v[3], 16); v[3] ^= v[2];
		v[0] += v[3]; v[3] = ROTL64(v[3], 21); v[3] ^= v[0];
		v[2] += v[1]; v[1] = ROTL64(v[1], 17); v[1] ^= v[2];
		v[2] = ROTL64(v[2], 32);
	}
}

static uint64_t
le64(const uint8_t *p)
{
	return ((uint64_t)p[0] | (uint64_t)p[1] << 8 |
	    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
	    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56);
}

void
SipHash_Init(SIPHASH_CTX *ctx, const SIPHASH_KEY *key)
{
	uint8_t		kb[SIPHASH_KEY_LENGTH];
	uint64_t	k0, k1;

	memcpy(kb, key, sizeof(kb));
	k0 = le64(kb);
	k1 = le64(kb + 8);
	ctx->v[0] = 0x736f6d6570736575ULL ^ k0;
	ctx->v[1] = 0x646f72616e646f6dULL ^ k1;
	ctx->v[2] = 0x6c7967656e657261ULL ^ k0;
	ctx->v[3] = 0x7465646279746573ULL ^ k1;
	ctx->bytes = 0;
}

void
SipHash_Update(SIPHASH_CTX *ctx, int rc, int rf, const void *src, size_t len)
{
	const uint8_t	*p = src;
	size_t		 used = ctx->bytes % SIPHASH_BLOCK_LENGTH, n;
	uint64_t	 m;

	ctx->bytes += len;
	while (len > 0) {
		n = SIPHASH_BLOCK_LENGTH - used;
		if (n > len)
			n = len;
		memcpy(ctx->buf + used, p, n);
		p += n;
		len -= n;
		used += n;
		if (used < SIPHASH_BLOCK_LENGTH)
			break;
		m = le64(ctx->buf);
		ctx->v[3] ^= m;
		sip_rounds(ctx, rc);
		ctx->v[0] ^= m;
		used = 0;
	}
}

uint64_t
SipHash_End(SIPHASH_CTX *ctx, int rc, int rf)
{
	size_t		 used = ctx->bytes % SIPHASH_BLOCK_LENGTH;
	uint64_t	 b;

	memset(ctx->buf + used, 0, SIPHASH_BLOCK_LENGTH - used);
	b = le64(ctx->buf) | (uint64_t)ctx->bytes << 56;
	ctx->v[3] ^= b;
	sip_rounds(ctx, rc);
	ctx->v[0] ^= b;
	ctx->v[2] ^= 0xff;
	sip_rounds(ctx, rf);
	b = ctx->v[0] ^ ctx->v[1] ^ ctx->v[2] ^ ctx->v[3];
	explicit_bzero(ctx, sizeof(*ctx));
	return (b);
}

void
SipHash_Final(void *dst, SIPHASH_CTX *ctx, int rc, int rf)
{
	uint64_t	r = SipHash_End(ctx, rc, rf);
	uint8_t		*d = dst;
	int		 i;

	for (i = 0; i < SIPHASH_DIGEST_LENGTH; i++)
		d[i] = r >> (8 * i);
}

uint64_t
SipHash(const SIPHASH_KEY *key, int rc, int rf, const void *src, size_t len)
{
	SIPHASH_CTX	ctx;

	SipHash_Init(&ctx, key);
	SipHash_Update(&ctx, rc, rf, src, len);
	return (SipHash_End(&ctx, rc, rf));
}
