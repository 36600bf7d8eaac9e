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
 * What the configuration's readers share: parse.y, maptable.c (mailertable
 * and transport files) and legacy.c (scam-back -m).  Messages that name
 * file:line and count errors, and helpers that only look at a string.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scam-back.h"
#include "log.h"

static int	conf_flags;	/* SCAMBACK_OPT_* of the parse under way */
static int	conf_nerrors;	/* errors found outside the grammar */
static char	*capture;	/* conf_capture() */
static size_t	 capturelen;

/* A parse begins: how to report, and no errors yet. */
void
conf_begin(int flags)
{
	conf_flags = flags;
	conf_nerrors = 0;
}

/*
 * Until conf_capture(NULL, 0): every message is also appended to buf,
 * one a line, for the reply to scambackctl reload.
 */
void
conf_capture(char *buf, size_t len)
{
	capture = buf;
	capturelen = len;
	if (buf != NULL && len > 0)
		buf[0] = '\0';
}

int
conf_errors(void)
{
	return (conf_nerrors);
}

/*
 * Every message about the configuration: with -n on stderr, where the
 * administrator runs the check, otherwise to the log (startup and reload).
 */
void
conf_vmsg(const char *fname, int lineno, const char *what, const char *fmt,
    va_list ap)
{
	char	*msg;
	size_t	 len;

	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("%s: vasprintf", __func__);
	if (conf_flags & SCAMBACK_OPT_NOACTION)
		fprintf(stderr, "%s:%d: %s%s\n", fname, lineno, what, msg);
	else
		log_warnx("%s:%d: %s%s", fname, lineno, what, msg);
	if (capture != NULL && strlen(capture) + 1 < capturelen) {
		len = strlen(capture);
		(void)snprintf(capture + len, capturelen - len,
		    "%s%s:%d: %s%s", len > 0 ? "\n" : "", fname, lineno, what,
		    msg);
	}
	free(msg);
}

/* An error found outside the grammar: tables, late checks. */
void
conf_error(const char *fname, int lineno, const char *fmt, ...)
{
	va_list		 ap;

	conf_nerrors++;
	va_start(ap, fmt);
	conf_vmsg(fname, lineno, "", fmt, ap);
	va_end(ap);
}

/* Something worth knowing that does not make the configuration wrong. */
void
conf_warn(const char *fname, int lineno, const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	conf_vmsg(fname, lineno, "warning: ", fmt, ap);
	va_end(ap);
}

int
conf_verbose(void)
{
	return ((conf_flags & SCAMBACK_OPT_VERBOSE) != 0);
}

/* "30", "30s", "5m", "12h", "1d". */
int
parse_time(const char *s, uint32_t *res)
{
	char		*ep;
	unsigned long long v;
	uint64_t	 mult = 1;

	if (!isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	v = strtoull(s, &ep, 10);
	if (errno != 0)
		return (-1);
	switch (*ep) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 60 * 60;
		break;
	case 'd':
		mult = 24 * 60 * 60;
		break;
	default:
		return (-1);
	}
	if (*ep != '\0' && ep[1] != '\0')
		return (-1);
	if (v > UINT32_MAX / mult)
		return (-1);
	*res = v * mult;
	return (0);
}

/* An address or a network: 192.0.2.1, 192.0.2.0/24, 2001:db8::/32. */
int
parse_cidr(const char *s, struct skip_net *n)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	const char	*errstr;
	int		 len, i, maxlen;
	uint8_t		*bytes;

	if (strlcpy(buf, s, sizeof(buf)) >= sizeof(buf))
		return (-1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(&n->addr, 0, sizeof(n->addr));
	if (inet_pton(AF_INET, buf, &n->addr.v4) == 1) {
		n->af = AF_INET;
		maxlen = 32;
		bytes = (uint8_t *)&n->addr.v4;
	} else if (inet_pton(AF_INET6, buf, &n->addr.v6) == 1) {
		n->af = AF_INET6;
		maxlen = 128;
		bytes = (uint8_t *)&n->addr.v6;
	} else
		return (-1);
	len = maxlen;
	if (slash != NULL) {
		if (!isdigit((unsigned char)*slash))
			return (-1);
		len = strtonum(slash, 0, maxlen, &errstr);
		if (errstr != NULL)
			return (-1);
	}
	n->prefixlen = len;
	/* Host bits are cleared: 192.0.2.1/24 is 192.0.2.0/24, as in pf. */
	for (i = 0; i < maxlen / 8; i++) {
		if (len >= (i + 1) * 8)
			continue;
		if (len <= i * 8)
			bytes[i] = 0;
		else
			bytes[i] &= 0xff << (8 - (len - i * 8));
	}
	return (0);
}

/*
 * A DNS name: labels of 1 to 63 letters, digits, '-' and '_', no '-' at
 * either end of a label.  All digits and dots is a mistyped address.
 */
int
valid_hostname(const char *s)
{
	size_t		 label = 0, len = strlen(s);
	const char	*p;
	int		 letters = 0;

	if (len == 0 || len > 253)
		return (0);
	for (p = s; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return (0);
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return (0);
		if (*p == '-' && label == 0)
			return (0);
		if (!isdigit((unsigned char)*p))
			letters = 1;
		if (++label > 63)
			return (0);
	}
	if (label == 0 || p[-1] == '-' || !letters)
		return (0);
	return (1);
}

/* A host to probe: an IPv4 or IPv6 literal, or a name for the prober. */
int
valid_host(const char *s)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	if (inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1)
		return (1);
	return (valid_hostname(s));
}

/* A domain, lowercased, without a trailing dot. */
int
parse_domain(const char *s, char *out, size_t outlen)
{
	size_t	 i, len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len >= outlen)
		return (-1);
	for (i = 0; i < len; i++)
		out[i] = tolower((unsigned char)s[i]);
	out[len] = '\0';
	if (!valid_hostname(out))
		return (-1);
	return (0);
}

/* The probe's MAIL FROM: "" (the null sender) or local@domain. */
int
parse_sender(const char *s, char *out, size_t outlen)
{
	const char	*p, *at;
	size_t		 len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		s++;
		len -= 2;
	}
	if (len == 0) {
		out[0] = '\0';
		return (0);
	}
	if (len > 254 || len >= outlen)
		return (-1);
	for (p = s; p < s + len; p++)
		if (!isgraph((unsigned char)*p) || *p == '<' || *p == '>' ||
		    *p == '"' || *p == '\\')
			return (-1);
	if ((at = memchr(s, '@', len)) == NULL || at == s ||
	    at == s + len - 1 || memchr(at + 1, '@', s + len - at - 1))
		return (-1);
	memcpy(out, s, len);
	out[len] = '\0';
	return (0);
}

/* Leading and trailing white space cut off, in place. */
char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}
