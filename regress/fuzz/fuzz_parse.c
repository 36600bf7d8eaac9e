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
 * Fuzz target for the configuration parser (SPEC section 10).
 *
 *	make fuzz && regress/fuzz/fuzz_parse -close_fd_mask=2 corpus/
 *	cc -DFUZZ_STANDALONE ...		reads each file argument once
 *
 * Each input is a scam-back.conf, parsed as -n does.  An input that parses
 * must print (-nv) a configuration that parses again to the same text:
 * the fixed point the regress tests check on chosen files, here on any.
 * The parser's messages go to stderr; -close_fd_mask=2 silences them.
 */

#include <sys/types.h>

#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 dir[] = "/tmp/fuzz_parse.XXXXXX";
static char	 input[64], printed[64], reprinted[64];

static void
write_file(const char *path, const uint8_t *data, size_t size)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", path);
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		err(1, "write %s", path);
	close(fd);
}

/* print_config() writes to stdout: point stdout at a file for a while. */
static void
print_to(struct scamback_conf *conf, const char *path)
{
	int	 fd, saved;

	fflush(stdout);
	if ((saved = dup(STDOUT_FILENO)) == -1)
		err(1, "dup");
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", path);
	if (dup2(fd, STDOUT_FILENO) == -1)
		err(1, "dup2");
	close(fd);
	print_config(conf);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) == -1)
		err(1, "dup2");
	close(saved);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 size = 0;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	if (getdelim(&buf, &size, '\0', f) == -1 && ferror(f))
		err(1, "%s", path);
	*len = buf != NULL ? strlen(buf) : 0;
	fclose(f);
	return (buf);
}

static void
cleanup(void)
{
	unlink(input);
	unlink(printed);
	unlink(reprinted);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scamback_conf	*conf;
	char			*a, *b;
	size_t			 alen, blen;

	if (input[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			err(1, "mkdtemp");
		snprintf(input, sizeof(input), "%s/input.conf", dir);
		snprintf(printed, sizeof(printed), "%s/printed.conf", dir);
		snprintf(reprinted, sizeof(reprinted), "%s/reprinted.conf",
		    dir);
		atexit(cleanup);
	}
	write_file(input, data, size);
	if ((conf = parse_config(input, SCAMBACK_OPT_NOACTION)) == NULL)
		return (0);
	print_to(conf, printed);
	config_free(conf);

	if ((conf = parse_config(printed, SCAMBACK_OPT_NOACTION)) == NULL) {
		fprintf(stderr, "printed configuration does not parse\n");
		abort();
	}
	print_to(conf, reprinted);
	config_free(conf);

	a = slurp(printed, &alen);
	b = slurp(reprinted, &blen);
	if (alen != blen || (alen > 0 && memcmp(a, b, alen) != 0)) {
		fprintf(stderr, "-nv is not a fixed point\n");
		abort();
	}
	free(a);
	free(b);
	return (0);
}

#include "fuzzmain.h"
