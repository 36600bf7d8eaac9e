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
 * Unit test of SipHash24(3) as compat/siphash.c gives it on Linux (libc
 * on OpenBSD): the reference vectors of the SipHash paper (key 00..0f,
 * messages 00, 00 01, ... of 0 to 63 octets), and the same digests when
 * the message comes in pieces.  The cache's hash is this function.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <siphash.h>

static const uint64_t vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

int
main(void)
{
	SIPHASH_KEY	 key;
	SIPHASH_CTX	 ctx;
	uint8_t		 k[SIPHASH_KEY_LENGTH], m[64], d[SIPHASH_DIGEST_LENGTH];
	uint64_t	 r;
	size_t		 len, cut;
	int		 i, failures = 0;

	for (i = 0; i < SIPHASH_KEY_LENGTH; i++)
		k[i] = i;
	memcpy(&key, k, sizeof(key));
	for (i = 0; i < 64; i++)
		m[i] = i;

	for (len = 0; len < 64; len++) {
		if ((r = SipHash24(&key, m, len)) != vectors[len]) {
			printf("FAIL: %zu octets: %016llx, want %016llx\n",
			    len, (unsigned long long)r,
			    (unsigned long long)vectors[len]);
			failures++;
		}
		/* Every cut in two, and octet by octet. */
		for (cut = 0; cut <= len; cut++) {
			SipHash24_Init(&ctx, &key);
			SipHash24_Update(&ctx, m, cut);
			SipHash24_Update(&ctx, m + cut, len - cut);
			if ((r = SipHash24_End(&ctx)) != vectors[len]) {
				printf("FAIL: %zu octets cut at %zu: %016llx\n",
				    len, cut, (unsigned long long)r);
				failures++;
			}
		}
		SipHash24_Init(&ctx, &key);
		for (cut = 0; cut < len; cut++)
			SipHash24_Update(&ctx, m + cut, 1);
		SipHash24_Final(d, &ctx);
		for (i = 0, r = 0; i < SIPHASH_DIGEST_LENGTH; i++)
			r |= (uint64_t)d[i] << (8 * i);
		if (r != vectors[len]) {
			printf("FAIL: %zu octets one by one: %016llx\n", len,
			    (unsigned long long)r);
			failures++;
		}
	}
	if (failures == 0)
		printf("ok: SipHash-2-4 reference vectors, whole and in "
		    "pieces\n");
	return (failures != 0);
}
