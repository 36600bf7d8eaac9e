/*	scam-back configuration grammar	*/

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

%{
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scam-back.h"
#include "log.h"
#include "resolvconf.h"
#include "policy.h"
#include "table.h"
#include "rules.h"

#define MAX_INCLUDE_DEPTH	16

TAILQ_HEAD(files, file)		 files = TAILQ_HEAD_INITIALIZER(files);
static struct file {
	TAILQ_ENTRY(file)	 entry;
	FILE			*stream;
	char			*name;
	size_t			 ungetpos;
	size_t			 ungetsize;
	u_char			*ungetbuf;
	int			 eof_reached;
	int			 lineno;
	int			 errors;
} *file, *topfile;
struct file	*pushfile(const char *, int);
int		 popfile(void);
int		 yyparse(void);
int		 yylex(void);
int		 yylex_token(void);
int		 yyerror(const char *, ...)
    __attribute__((__format__ (printf, 1, 2)))
    __attribute__((__nonnull__ (1)));
int		 kw_cmp(const void *, const void *);
int		 lookup(char *);
int		 igetc(void);
int		 lgetc(int);
void		 lungetc(int);
int		 findeol(void);

TAILQ_HEAD(symhead, sym)	 symhead = TAILQ_HEAD_INITIALIZER(symhead);
struct sym {
	TAILQ_ENTRY(sym)	 entry;
	int			 used;
	int			 persist;
	char			*nam;
	char			*val;
};
int		 symset(const char *, const char *, int);
char		*symget(const char *);

/*
 * Every string the lexer hands to the grammar lives here until the parse
 * ends: the configuration keeps copies in fixed-size arrays, and yacc's
 * error recovery drops tokens without a way to free them.
 */
struct strnode {
	struct strnode	*next;
	char		 s[];
};
static struct strnode	*strings;
static char		*sdup(const char *);
static void		 sfree(void);

/* A domain whose backend is looked up once every backend is known. */
struct domref {
	TAILQ_ENTRY(domref)	 entry;
	struct domain_conf	*domain;
	char			*file;
	int			 lineno;
};
TAILQ_HEAD(, domref)	 domrefs = TAILQ_HEAD_INITIALIZER(domrefs);

/*
 * The files a parse read besides the main one (includes, tables): the
 * parent unveils their directories so that a reload can read them again.
 */
static char	**readfiles;
static size_t	 nreadfiles;
static void	 readfile_add(const char *);

static int	 check_string(const char *, const char *, size_t);
static int	 listen_set(const char *);
static struct backend_conf *backend_start(const char *);
static void	 backend_end(void);
static int	 seen_nothing(void);
static int	 domain_add(const char *, enum domain_match, const char *);
static int	 maptable_add(enum table_type, const char *);
static int	 skipnet_add(const char *);
static int	 resolver_add(const char *, uint16_t);
static int	 share_set(const char *);
static void	 parse_finish(void);
static int	 atable_start(const char *);
static int	 atable_entry(const char *, const char *, int);
static int	 rule_cond(int, enum cond_type, int);
static int	 rule_table(const char *);
static void	 rule_end(void);
static void	 rules_abort(void);

static struct scamback_conf	*conf;
static struct backend_conf	*curbackend;
static int			 curbackend_bad;
static int			 curbackend_errors;
static char			 curbackend_file[PATH_MAX];
static int			 curbackend_line;
static int			 parse_flags;
static int			 lexer_error;
static int			 lex_eof;
static int			 stmt_start = 1;
static int			 stmt_quoted;
static int			 stmt_line;
static char			 stmt_word[64];
static int			 expanding;
static char			 listen_where[PATH_MAX + 16];
static struct seen {
	int	 owner, group, mode, protocol, tls, tls_ca, noverify, sessions,
		 catchall, port, password, prefix;
} seen;

/* The access table and the rule being read, and the first save rule. */
static struct atable_conf	*curtable;
static struct rule_conf		*currule;
static int			 currule_line;
static int			 currule_bad;
static int			 curcond_neg;
static uint32_t			 curcond_table;
static char			 saverule_where[PATH_MAX + 16];
static int			 saverule_line;

typedef struct {
	union {
		int64_t		 number;
		char		*string;
	} v;
	int lineno;
} YYSTYPE;

%}

%token	ACCEPT ALL AUTHENTICATED BACKEND BACKOFF CA CACHE CATCHALL CFILE
%token	CONNECT DAEMON DETECT DISCARD DNS DOMAIN ESMTP EXPIRE FAILURE FROM
%token	GROUP HOST
%token	HOSTNAME IGNORE INCLUDE INET INET6 INTERVAL INVALID LISTEN LOCAL
%token	MAILERTABLE MODE NO NONE NOVERIFY ON OWNER PASSWORD PORT PREFER PREFIX
%token	PROBE PROTOCOL REDIS REJECT REPLY REQUIRE RESOLVER SAVE SENDER SESSIONS
%token	SHARE SIZE SKIP SMTP SUBDOMAINS
%token	TEMPFAIL TIMEOUT TLS TRANSPORT UNREACHABLE USER VALID YES
%token	ANY AUTH DELAY DIRECTORY DISCONNECT DRYRUN HELO KNOWN LOG MAIL
%token	MAILFROM MATCH MAXFILES MX NS PARENT PASS PERMANENT RCPTTO RDNS
%token	REGEX RULES SET TABLE UNKNOWN UNQUALIFIED UNRESOLVABLE
%token	ERROR
%token	<v.string>	STRING TABLEREF
%token	<v.number>	NUMBER
%type	<v.string>	string macroval entvalue
%type	<v.number>	yesno time port optport dnsport dnsfailure
%type	<v.number>	subdomains ruleaction rulestage entflags

%%

grammar		: /* empty */
		| grammar include '\n'
		| grammar '\n'
		| grammar main '\n'
		| grammar backend '\n'
		| grammar varset '\n'
		| grammar rule '\n'
		| grammar error '\n'		{
			file->errors++;
			yyerrok;
			/* A backend block the error cut short. */
			if (curbackend != NULL) {
				config_backend_free(curbackend);
				curbackend = NULL;
			}
			rules_abort();
		}
		;

include		: INCLUDE STRING		{
			struct file	*nfile;

			if ((nfile = pushfile($2, 1)) == NULL)
				YYERROR;
			file = nfile;
			lungetc('\n');
		}
		;

string		: string STRING			{
			char	*s;

			if (asprintf(&s, "%s %s", $1, $2) == -1)
				fatal("string: asprintf");
			$$ = sdup(s);
			free(s);
		}
		| STRING
		;

varset		: STRING '=' macroval		{
			const char	*s;

			for (s = $1; *s != '\0'; s++)
				if (!isalnum((unsigned char)*s) && *s != '_') {
					yyerror("macro name \"%s\": only "
					    "letters, digits and _", $1);
					YYERROR;
				}
			if (symset($1, $3, 0) == -1)
				fatal("cannot store variable");
		}
		;

/* A value may start with a digit: bport = 26025. */
macroval	: string
		| NUMBER			{
			char	*s;

			if (asprintf(&s, "%lld", (long long)$1) == -1)
				fatal("macroval: asprintf");
			$$ = sdup(s);
			free(s);
		}
		;

yesno		: YES				{ $$ = 1; }
		| NO				{ $$ = 0; }
		| STRING			{
			yyerror("\"%s\": use yes or no", $1);
			YYERROR;
		}
		;

/* Seconds, or a number with one of the suffixes s m h d. */
time		: NUMBER			{
			if ($1 < 0 || $1 > UINT32_MAX) {
				yyerror("time %lld out of range",
				    (long long)$1);
				YYERROR;
			}
			$$ = $1;
		}
		| STRING			{
			uint32_t	t;

			if (parse_time($1, &t) == -1) {
				yyerror("\"%s\" is not a time: use seconds or "
				    "a number with s, m, h or d", $1);
				YYERROR;
			}
			$$ = t;
		}
		;

port		: NUMBER			{
			if ($1 < 1 || $1 > 65535) {
				yyerror("port %lld out of range 1-65535",
				    (long long)$1);
				YYERROR;
			}
			$$ = $1;
		}
		;

optport		: /* empty */			{ $$ = DEFAULT_PORT; }
		| PORT port			{ $$ = $2; }
		;

dnsfailure	: ACCEPT			{ $$ = DNS_FAILURE_ACCEPT; }
		| TEMPFAIL			{ $$ = DNS_FAILURE_TEMPFAIL; }
		| REJECT			{
			yyerror("dns failure reject: a failed lookup never "
			    "refuses mail for good; use accept or tempfail");
			YYERROR;
		}
		| STRING			{
			yyerror("dns failure \"%s\": use accept or tempfail",
			    $1);
			YYERROR;
		}
		;

dnsport		: /* empty */			{ $$ = DEFAULT_DNS_PORT; }
		| PORT port			{ $$ = $2; }
		;

optnl		: '\n' optnl
		| /* empty */
		;

nl		: '\n' optnl
		;

comma		: ',' optnl
		| optnl
		;

main		: LISTEN ON STRING		{
			memset(&seen, 0, sizeof(seen));
			if (listen_where[0] != '\0') {
				yyerror("only one listen on: libmilter serves "
				    "one socket (the first is at %s)",
				    listen_where);
				YYERROR;
			}
			snprintf(listen_where, sizeof(listen_where), "%s:%d",
			    file->name, yylval.lineno);
			if (listen_set($3) == -1)
				YYERROR;
		} listenopts			{
			if (conf->listen.family != LISTEN_UNIX &&
			    (seen.owner || seen.group || seen.mode)) {
				yyerror("owner, group and mode apply only to "
				    "unix sockets");
				YYERROR;
			}
		}
		| USER STRING			{
			if (check_string("user", $2, sizeof(conf->user)) == -1)
				YYERROR;
			if (*$2 == '\0') {
				yyerror("user name is empty");
				YYERROR;
			}
			if (!(parse_flags & SCAMBACK_OPT_NOACTION) &&
			    getpwnam($2) == NULL) {
				yyerror("user \"%s\" does not exist", $2);
				YYERROR;
			}
			strlcpy(conf->user, $2, sizeof(conf->user));
		}
		| HOSTNAME STRING		{
			if (check_string("hostname", $2,
			    sizeof(conf->hostname)) == -1)
				YYERROR;
			if (!valid_hostname($2)) {
				yyerror("hostname \"%s\" is not a valid host "
				    "name", $2);
				YYERROR;
			}
			strlcpy(conf->hostname, $2, sizeof(conf->hostname));
		}
		| PROBE SENDER STRING		{
			if (parse_sender($3, conf->probe_sender,
			    sizeof(conf->probe_sender)) == -1) {
				yyerror("probe sender \"%s\" is not an "
				    "address: use \"local@domain\" or \"\"",
				    $3);
				YYERROR;
			}
		}
		| CACHE CFILE STRING		{
			const char	*why;

			if (check_string("cache file", $3,
			    sizeof(conf->cache_file)) == -1)
				YYERROR;
			if (*$3 == '\0') {
				yyerror("cache file is empty: use cache file "
				    "none to keep the cache in memory only");
				YYERROR;
			}
			if (config_cache_path($3, &why) == -1) {
				yyerror("cache file \"%s\" %s", $3, why);
				YYERROR;
			}
			strlcpy(conf->cache_file, $3, sizeof(conf->cache_file));
		}
		| CACHE CFILE NONE		{
			conf->cache_file[0] = '\0';
		}
		| CACHE VALID EXPIRE time	{
			if ($4 < 1 || $4 > MAX_EXPIRE) {
				yyerror("cache valid expire must be between "
				    "1s and 365d");
				YYERROR;
			}
			conf->valid_expire = $4;
		}
		| CACHE INVALID EXPIRE time	{
			if ($4 < 1 || $4 > MAX_EXPIRE) {
				yyerror("cache invalid expire must be between "
				    "1s and 365d");
				YYERROR;
			}
			conf->invalid_expire = $4;
		}
		| CACHE SAVE INTERVAL time	{
			if ($4 > MAX_EXPIRE) {
				yyerror("cache save interval must be at most "
				    "365d");
				YYERROR;
			}
			conf->save_interval = $4;
		}
		| CACHE SIZE NUMBER		{
			if ($3 < 1 || $3 > MAX_CACHE_SIZE) {
				yyerror("cache size must be between 1 and %d "
				    "entries", MAX_CACHE_SIZE);
				YYERROR;
			}
			conf->cache_size = $3;
		}
		| CACHE SHARE REDIS STRING	{
			memset(&seen, 0, sizeof(seen));
			if (conf->share.type != SHARE_NONE) {
				yyerror("cache share given twice");
				YYERROR;
			}
			if (share_set($4) == -1)
				YYERROR;
		} shareopts
		| TIMEOUT CONNECT time		{
			if ($3 < 1 || $3 > MAX_TIMEOUT) {
				yyerror("timeout connect must be between 1s "
				    "and %ds", MAX_TIMEOUT);
				YYERROR;
			}
			conf->timeout_connect = $3;
		}
		| TIMEOUT REPLY time		{
			if ($3 < 1 || $3 > MAX_TIMEOUT) {
				yyerror("timeout reply must be between 1s "
				    "and %ds", MAX_TIMEOUT);
				YYERROR;
			}
			conf->timeout_reply = $3;
		}
		| BACKOFF time			{
			if ($2 > MAX_BACKOFF) {
				yyerror("backoff must be at most 1d");
				YYERROR;
			}
			conf->backoff = $2;
		}
		| PREFER INET			{ conf->prefer = PREFER_INET; }
		| PREFER INET6			{ conf->prefer = PREFER_INET6; }
		| UNREACHABLE ACCEPT		{
			conf->unreachable = UNREACHABLE_ACCEPT;
		}
		| UNREACHABLE TEMPFAIL		{
			conf->unreachable = UNREACHABLE_TEMPFAIL;
		}
		| INVALID REJECT		{ conf->invalid = INVALID_REJECT; }
		| INVALID DISCARD		{ conf->invalid = INVALID_DISCARD; }
		| DNS TIMEOUT time		{
			if ($3 < 1 || $3 > MAX_DNS_TIMEOUT) {
				yyerror("dns timeout must be between 1s and "
				    "%ds", MAX_DNS_TIMEOUT);
				YYERROR;
			}
			conf->dns_timeout = $3;
		}
		| DNS FAILURE dnsfailure	{ conf->dns_failure = $3; }
		| DNS RESOLVER STRING dnsport	{
			if (resolver_add($3, $4) == -1)
				YYERROR;
		}
		| SKIP DAEMON STRING		{
			struct skip_daemon	*sd;

			if (check_string("skip daemon", $3,
			    sizeof(sd->name)) == -1)
				YYERROR;
			if (*$3 == '\0') {
				yyerror("skip daemon name is empty");
				YYERROR;
			}
			/* Any skip daemon replaces the default list. */
			conf->skip_daemon_set = 1;
			TAILQ_FOREACH(sd, &conf->skip_daemons, entry)
				if (strcmp(sd->name, $3) == 0)
					break;
			if (sd == NULL) {
				if ((sd = calloc(1, sizeof(*sd))) == NULL)
					fatal(NULL);
				strlcpy(sd->name, $3, sizeof(sd->name));
				TAILQ_INSERT_TAIL(&conf->skip_daemons, sd,
				    entry);
			}
		}
		| SKIP FROM STRING		{
			if (skipnet_add($3) == -1)
				YYERROR;
		}
		| SKIP FROM '{' optnl skipnet_l '}'
		| SKIP AUTHENTICATED yesno	{
			conf->skip_authenticated = $3;
		}
		| SKIP LOCAL yesno		{ conf->skip_local = $3; }
		| DOMAIN STRING BACKEND STRING subdomains {
			if (domain_add($2, $5 ? DOMAIN_SUBDOMAINS :
			    DOMAIN_EXACT, $4) == -1)
				YYERROR;
		}
		| DOMAIN ALL BACKEND STRING	{
			if (domain_add("", DOMAIN_ALL, $4) == -1)
				YYERROR;
		}
		| MAILERTABLE STRING		{
			if (maptable_add(TABLE_MAILERTABLE, $2) == -1)
				YYERROR;
		}
		| TRANSPORT STRING		{
			if (maptable_add(TABLE_TRANSPORT, $2) == -1)
				YYERROR;
		}
		| TABLE TABLEREF		{
			if (atable_start($2) == -1)
				YYERROR;
		} tabledef			{
			curtable = NULL;
		}
		| RULES DRYRUN yesno		{ conf->rules_dryrun = $3; }
		| SAVE DIRECTORY STRING		{
			if (check_string("save directory", $3, PATH_MAX) == -1)
				YYERROR;
			if (*$3 != '/') {
				yyerror("save directory \"%s\": the path must "
				    "be absolute", $3);
				YYERROR;
			}
			free(conf->save_dir);
			if ((conf->save_dir = strdup($3)) == NULL)
				fatal(NULL);
		}
		| SAVE SIZE NUMBER		{
			if ($3 < 1 || $3 > MAX_SAVE_SIZE) {
				yyerror("save size must be between 1 and %d "
				    "octets", MAX_SAVE_SIZE);
				YYERROR;
			}
			conf->save_size = $3;
		}
		| SAVE MAXFILES NUMBER		{
			if ($3 < 1 || $3 > MAX_SAVE_FILES) {
				yyerror("save max-files must be between 1 and "
				    "%d", MAX_SAVE_FILES);
				YYERROR;
			}
			conf->save_max_files = $3;
		}
		;

/*
 * Access tables (SPEC section 11): { entry, "key" = "value", !entry,
 * regex "expr" } or a file of "key [value]" lines.
 */
tabledef	: '{' optnl tableents '}'
		| CFILE STRING			{
			const char	*why;
			int		 n;

			if (check_string("table file", $2,
			    sizeof(curtable->path)) == -1)
				YYERROR;
			readfile_add($2);
			if ((n = rulesconf_table_file(curtable, $2, &why)) ==
			    -1) {
				yyerror("table <%s> file \"%s\": %s",
				    curtable->name, $2, why);
				YYERROR;
			}
			if (n > 0) {
				yyerror("table <%s>: %d bad line%s in \"%s\"",
				    curtable->name, n, n > 1 ? "s" : "", $2);
				YYERROR;
			}
		}
		;

tableents	: /* empty */
		| tableents tableent comma
		;

tableent	: entflags STRING entvalue	{
			if (atable_entry($2, $3, $1) == -1)
				YYERROR;
		}
		;

entflags	: /* empty */			{ $$ = 0; }
		| '!'				{ $$ = TABLE_F_EXCEPT; }
		| REGEX				{ $$ = TABLE_F_REGEX; }
		| '!' REGEX			{
			$$ = TABLE_F_EXCEPT | TABLE_F_REGEX;
		}
		;

entvalue	: /* empty */			{ $$ = NULL; }
		| '=' STRING			{ $$ = $2; }
		;

/*
 * pass|reject|disconnect|match [on connect|helo|mail] conditions
 * [noverify] [save] [delay T] [log] [set permanent "..."] ["reply"]
 */
rule		: ruleaction rulestage		{
			if ((currule = calloc(1, sizeof(*currule))) == NULL)
				fatal(NULL);
			currule->action = $1;
			currule->stage = $2;
			currule_line = yylval.lineno;
		} conds ruleopts		{
			rule_end();
		}
		;

ruleaction	: PASS				{ $$ = RULE_PASS; }
		| REJECT			{ $$ = RULE_REJECT; }
		| DISCONNECT			{ $$ = RULE_DISCONNECT; }
		| MATCH				{ $$ = RULE_MATCH; }
		;

rulestage	: /* empty */			{ $$ = STAGE_RCPT; }
		| ON CONNECT			{ $$ = STAGE_CONNECT; }
		| ON HELO			{ $$ = STAGE_HELO; }
		| ON MAIL			{ $$ = STAGE_MAIL; }
		;

conds		: /* empty */
		| conds cond
		;

cond		: condneg condspec
		;

condneg		: /* empty */			{ curcond_neg = 0; }
		| '!'				{ curcond_neg = 1; }
		;

condspec	: FROM ANY			{
			if (rule_cond(0, COND_FROM_ANY, 0) == -1)
				YYERROR;
		}
		| FROM LOCAL			{
			if (rule_cond(0, COND_FROM_LOCAL, 0) == -1)
				YYERROR;
		}
		| FROM KNOWN			{
			if (rule_cond(0, COND_FROM_KNOWN, 0) == -1)
				YYERROR;
		}
		| FROM UNKNOWN			{
			if (rule_cond(0, COND_FROM_UNKNOWN, 0) == -1)
				YYERROR;
		}
		| FROM RDNS			{
			if (rule_cond(0, COND_FROM_RDNS, 0) == -1)
				YYERROR;
		}
		| FROM RDNS tableref		{
			if (rule_cond(1, COND_FROM_RDNS, 0) == -1)
				YYERROR;
		}
		| FROM tablearg			{
			if (rule_cond(1, COND_FROM_TABLE, 0) == -1)
				YYERROR;
		}
		| HELO tablearg			{
			if (rule_cond(1, COND_HELO, 0) == -1)
				YYERROR;
		}
		| AUTH				{
			if (rule_cond(0, COND_AUTH, 0) == -1)
				YYERROR;
		}
		| AUTH tableref			{
			if (rule_cond(1, COND_AUTH, 0) == -1)
				YYERROR;
		}
		| MAILFROM tablearg		{
			if (rule_cond(1, COND_MAIL_TABLE, 0) == -1)
				YYERROR;
		}
		| MAILFROM UNQUALIFIED		{
			if (rule_cond(0, COND_MAIL_UNQUALIFIED, 0) == -1)
				YYERROR;
		}
		| MAILFROM UNRESOLVABLE		{
			if (rule_cond(0, COND_MAIL_UNRESOLVABLE, 0) == -1)
				YYERROR;
		}
		| MAILFROM UNRESOLVABLE PARENT	{
			if (rule_cond(0, COND_MAIL_UNRESOLVABLE, 1) == -1)
				YYERROR;
		}
		| MAILFROM MX tablearg		{
			if (rule_cond(1, COND_MAIL_MX, 0) == -1)
				YYERROR;
		}
		| MAILFROM NS tablearg		{
			if (rule_cond(1, COND_MAIL_NS, 0) == -1)
				YYERROR;
		}
		| RCPTTO tablearg		{
			if (rule_cond(1, COND_RCPT, 0) == -1)
				YYERROR;
		}
		;

/* A table a condition looks in: <name>, { list }, or one entry. */
tableref	: TABLEREF			{
			if (rule_table($1) == -1)
				YYERROR;
		}
		| '{'				{
			if (atable_start("") == -1)
				YYERROR;
		} optnl tableents '}'
		;

tablearg	: tableref
		| STRING			{
			if (atable_start("") == -1 ||
			    atable_entry($1, NULL, 0) == -1)
				YYERROR;
		}
		;

ruleopts	: /* empty */
		| ruleopts ruleopt
		;

ruleopt		: NOVERIFY			{ currule->flags |= RULE_F_NOVERIFY; }
		| SAVE				{
			currule->flags |= RULE_F_SAVE;
			if (saverule_line == 0) {
				strlcpy(saverule_where, file->name,
				    sizeof(saverule_where));
				saverule_line = yylval.lineno;
			}
		}
		| LOG				{ currule->flags |= RULE_F_LOG; }
		| DELAY time			{ currule->delay = $2; }
		| SET PERMANENT STRING		{
			if (strlcpy(currule->permanent, $3,
			    sizeof(currule->permanent)) >=
			    sizeof(currule->permanent)) {
				yyerror("reply too long");
				YYERROR;
			}
		}
		| STRING			{
			if (currule->reply[0] != '\0') {
				yyerror("one reply a rule");
				YYERROR;
			}
			if (strlcpy(currule->reply, $1,
			    sizeof(currule->reply)) >= sizeof(currule->reply)) {
				yyerror("reply too long");
				YYERROR;
			}
		}
		;

listenopts	: /* empty */
		| listenopts listenopt
		;

listenopt	: OWNER STRING			{
			if (seen.owner++) {
				yyerror("owner given twice");
				YYERROR;
			}
			if (check_string("owner", $2,
			    sizeof(conf->listen.owner)) == -1)
				YYERROR;
			/* Counted, not YYERROR: a group after it is checked. */
			if (!(parse_flags & SCAMBACK_OPT_NOACTION) &&
			    getpwnam($2) == NULL)
				yyerror("owner \"%s\" does not exist", $2);
			strlcpy(conf->listen.owner, $2,
			    sizeof(conf->listen.owner));
		}
		| GROUP STRING			{
			if (seen.group++) {
				yyerror("group given twice");
				YYERROR;
			}
			if (check_string("group", $2,
			    sizeof(conf->listen.group)) == -1)
				YYERROR;
			if (!(parse_flags & SCAMBACK_OPT_NOACTION) &&
			    getgrnam($2) == NULL)
				yyerror("group \"%s\" does not exist", $2);
			strlcpy(conf->listen.group, $2,
			    sizeof(conf->listen.group));
		}
		| MODE NUMBER			{
			char	 buf[32], *ep;
			long	 m;

			if (seen.mode++) {
				yyerror("mode given twice");
				YYERROR;
			}
			/* The lexer read the digits as decimal: reread. */
			snprintf(buf, sizeof(buf), "%lld", (long long)$2);
			errno = 0;
			m = strtol(buf, &ep, 8);
			if ($2 < 0 || *ep != '\0' || errno != 0 || m > 0777) {
				yyerror("mode must be octal, 0000 to 0777");
				YYERROR;
			}
			conf->listen.mode = m;
			conf->listen.mode_set = 1;
		}
		;

shareopts	: /* empty */
		| shareopts shareopt
		;

shareopt	: PORT port			{
			if (seen.port++) {
				yyerror("port given twice");
				YYERROR;
			}
			conf->share.port = $2;
		}
		| PASSWORD STRING		{
			if (seen.password++) {
				yyerror("password given twice");
				YYERROR;
			}
			if (check_string("password", $2,
			    sizeof(conf->share.password)) == -1)
				YYERROR;
			if (*$2 == '\0') {
				yyerror("password is empty: leave it out when "
				    "the store asks for none");
				YYERROR;
			}
			strlcpy(conf->share.password, $2,
			    sizeof(conf->share.password));
		}
		| PREFIX STRING			{
			if (seen.prefix++) {
				yyerror("prefix given twice");
				YYERROR;
			}
			if (check_string("prefix", $2,
			    sizeof(conf->share.prefix)) == -1)
				YYERROR;
			/* A flush scans for prefix*: no other keys may match. */
			if (*$2 == '\0' || strpbrk($2, "*?[]") != NULL) {
				yyerror("prefix \"%s\": give one, without * ? "
				    "[ or ]", $2);
				YYERROR;
			}
			strlcpy(conf->share.prefix, $2,
			    sizeof(conf->share.prefix));
		}
		;

skipnet_l	: STRING comma			{
			if (skipnet_add($1) == -1)
				YYERROR;
		}
		| skipnet_l STRING comma	{
			if (skipnet_add($2) == -1)
				YYERROR;
		}
		;

subdomains	: /* empty */			{ $$ = 0; }
		| SUBDOMAINS			{ $$ = 1; }
		;

/*
 * A block may stand on one line, options after one another: every option
 * starts with its keyword.  A mistake costs the rest of its line, or of
 * the block when the block ends on that line: one error, at its line.
 */
backend		: BACKEND STRING		{
			curbackend_line = yylval.lineno;
			curbackend = backend_start($2);
			memset(&seen, 0, sizeof(seen));
		} '{' optnl backendopts_l blockend	{
			backend_end();
		}
		;

backendopts_l	: /* empty */
		| backendopts_l backendopts optnl
		| backendopts_l error nl	{ file->errors++; yyerrok; }
		;

blockend	: '}'
		| error '}'			{ file->errors++; yyerrok; }
		;

backendopts	: HOST STRING optport		{
			struct host_conf	*h;
			char			*s = $2;
			size_t			 len = strlen(s);

			/* [192.0.2.1], as in a mailertable, is accepted. */
			if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
				s[len - 1] = '\0';
				s++;
			}
			if (check_string("host", s, sizeof(h->name)) == -1)
				YYERROR;
			if (!valid_host(s)) {
				yyerror("host \"%s\" is neither an address nor "
				    "a host name", s);
				YYERROR;
			}
			if ((h = calloc(1, sizeof(*h))) == NULL)
				fatal(NULL);
			strlcpy(h->name, s, sizeof(h->name));
			h->port = $3;
			TAILQ_INSERT_TAIL(&curbackend->hosts, h, entry);
		}
		| PROTOCOL ESMTP		{
			if (seen.protocol++) {
				yyerror("protocol given twice");
				YYERROR;
			}
			curbackend->protocol = PROTO_ESMTP;
		}
		| PROTOCOL SMTP			{
			if (seen.protocol++) {
				yyerror("protocol given twice");
				YYERROR;
			}
			curbackend->protocol = PROTO_SMTP;
		}
		| TLS tlsmode
		| TLS CA STRING			{
			if (seen.tls_ca++) {
				yyerror("tls ca given twice");
				YYERROR;
			}
			if (check_string("tls ca", $3,
			    sizeof(curbackend->tls_ca)) == -1)
				YYERROR;
			if (*$3 == '\0') {
				yyerror("tls ca is empty");
				YYERROR;
			}
			strlcpy(curbackend->tls_ca, $3,
			    sizeof(curbackend->tls_ca));
		}
		| TLS NOVERIFY			{
			curbackend->tls_noverify = 1;
			seen.noverify = 1;
		}
		| SESSIONS NUMBER		{
			if (seen.sessions++) {
				yyerror("sessions given twice");
				YYERROR;
			}
			if ($2 < 1 || $2 > MAX_SESSIONS) {
				yyerror("sessions must be between 1 and %d",
				    MAX_SESSIONS);
				YYERROR;
			}
			curbackend->sessions = $2;
		}
		| CATCHALL DETECT		{
			if (seen.catchall++) {
				yyerror("catchall given twice");
				YYERROR;
			}
			curbackend->catchall = CATCHALL_DETECT;
		}
		| CATCHALL IGNORE		{
			if (seen.catchall++) {
				yyerror("catchall given twice");
				YYERROR;
			}
			curbackend->catchall = CATCHALL_IGNORE;
		}
		;

tlsmode		: NO				{
			if (seen.tls++) {
				yyerror("tls given twice");
				YYERROR;
			}
			curbackend->tls = TLSMODE_NO;
		}
		| YES				{
			if (seen.tls++) {
				yyerror("tls given twice");
				YYERROR;
			}
			curbackend->tls = TLSMODE_YES;
		}
		| REQUIRE			{
			if (seen.tls++) {
				yyerror("tls given twice");
				YYERROR;
			}
			curbackend->tls = TLSMODE_REQUIRE;
		}
		;

%%

struct keywords {
	const char	*k_name;
	int		 k_val;
};

int
yyerror(const char *fmt, ...)
{
	va_list		 ap;

	file->errors++;
	if (lexer_error && strcmp(fmt, "syntax error") == 0) {
		lexer_error = 0;
		return (0);
	}
	/*
	 * The file ended inside a block: parse_finish() says so, at the
	 * block's line, not at a line past the end.
	 */
	if (strcmp(fmt, "syntax error") == 0 && lex_eof && curbackend != NULL)
		return (0);
	/* A statement that starts with a word we do not know: say which. */
	if (strcmp(fmt, "syntax error") == 0 && stmt_word[0] != '\0') {
		conf_error(file->name, stmt_line, "unknown keyword \"%s\"",
		    stmt_word);
		stmt_word[0] = '\0';
		return (0);
	}
	va_start(ap, fmt);
	conf_vmsg(file->name, yylval.lineno, "", fmt, ap);
	va_end(ap);
	return (0);
}

int
kw_cmp(const void *k, const void *e)
{
	return (strcmp(k, ((const struct keywords *)e)->k_name));
}

int
lookup(char *s)
{
	/* this has to be sorted always */
	static const struct keywords keywords[] = {
		{ "accept",		ACCEPT },
		{ "all",		ALL },
		{ "any",		ANY },
		{ "auth",		AUTH },
		{ "authenticated",	AUTHENTICATED },
		{ "backend",		BACKEND },
		{ "backoff",		BACKOFF },
		{ "ca",			CA },
		{ "cache",		CACHE },
		{ "catchall",		CATCHALL },
		{ "connect",		CONNECT },
		{ "daemon",		DAEMON },
		{ "delay",		DELAY },
		{ "detect",		DETECT },
		{ "directory",		DIRECTORY },
		{ "discard",		DISCARD },
		{ "disconnect",		DISCONNECT },
		{ "dns",		DNS },
		{ "domain",		DOMAIN },
		{ "dry-run",		DRYRUN },
		{ "esmtp",		ESMTP },
		{ "expire",		EXPIRE },
		{ "failure",		FAILURE },
		{ "file",		CFILE },
		{ "from",		FROM },
		{ "group",		GROUP },
		{ "helo",		HELO },
		{ "host",		HOST },
		{ "hostname",		HOSTNAME },
		{ "ignore",		IGNORE },
		{ "include",		INCLUDE },
		{ "inet",		INET },
		{ "inet6",		INET6 },
		{ "interval",		INTERVAL },
		{ "invalid",		INVALID },
		{ "known",		KNOWN },
		{ "listen",		LISTEN },
		{ "local",		LOCAL },
		{ "log",		LOG },
		{ "mail",		MAIL },
		{ "mail-from",		MAILFROM },
		{ "mailertable",	MAILERTABLE },
		{ "match",		MATCH },
		{ "max-files",		MAXFILES },
		{ "mode",		MODE },
		{ "mx",			MX },
		{ "no",			NO },
		{ "none",		NONE },
		{ "noverify",		NOVERIFY },
		{ "ns",			NS },
		{ "on",			ON },
		{ "owner",		OWNER },
		{ "parent",		PARENT },
		{ "pass",		PASS },
		{ "password",		PASSWORD },
		{ "permanent",		PERMANENT },
		{ "port",		PORT },
		{ "prefer",		PREFER },
		{ "prefix",		PREFIX },
		{ "probe",		PROBE },
		{ "protocol",		PROTOCOL },
		{ "rcpt-to",		RCPTTO },
		{ "rdns",		RDNS },
		{ "redis",		REDIS },
		{ "regex",		REGEX },
		{ "reject",		REJECT },
		{ "reply",		REPLY },
		{ "require",		REQUIRE },
		{ "resolver",		RESOLVER },
		{ "rules",		RULES },
		{ "save",		SAVE },
		{ "sender",		SENDER },
		{ "sessions",		SESSIONS },
		{ "set",		SET },
		{ "share",		SHARE },
		{ "size",		SIZE },
		{ "skip",		SKIP },
		{ "smtp",		SMTP },
		{ "subdomains",		SUBDOMAINS },
		{ "table",		TABLE },
		{ "tempfail",		TEMPFAIL },
		{ "timeout",		TIMEOUT },
		{ "tls",		TLS },
		{ "transport",		TRANSPORT },
		{ "unknown",		UNKNOWN },
		{ "unqualified",	UNQUALIFIED },
		{ "unreachable",	UNREACHABLE },
		{ "unresolvable",	UNRESOLVABLE },
		{ "user",		USER },
		{ "valid",		VALID },
		{ "yes",		YES },
	};
	const struct keywords	*p;

	p = bsearch(s, keywords, sizeof(keywords)/sizeof(keywords[0]),
	    sizeof(keywords[0]), kw_cmp);

	if (p)
		return (p->k_val);
	else
		return (STRING);
}

#define START_EXPAND	1
#define DONE_EXPAND	2

int
igetc(void)
{
	int	c;

	while (1) {
		if (file->ungetpos > 0)
			c = file->ungetbuf[--file->ungetpos];
		else
			c = getc(file->stream);

		if (c == START_EXPAND)
			expanding = 1;
		else if (c == DONE_EXPAND)
			expanding = 0;
		else
			break;
	}
	return (c);
}

int
lgetc(int quotec)
{
	int		c, next;

	if (quotec) {
		if ((c = igetc()) == EOF) {
			yyerror("reached end of file while parsing "
			    "quoted string");
			lexer_error = 1;
			if (file == topfile || popfile() == EOF)
				return (EOF);
			return (quotec);
		}
		return (c);
	}

	while ((c = igetc()) == '\\') {
		next = igetc();
		if (next != '\n') {
			c = next;
			break;
		}
		yylval.lineno = file->lineno;
		file->lineno++;
	}

	if (c == EOF) {
		/*
		 * Fake EOL when hit EOF for the first time. This gets line
		 * count right if last line in included file is syntactically
		 * invalid and has no newline.
		 */
		if (file->eof_reached == 0) {
			file->eof_reached = 1;
			return ('\n');
		}
		while (c == EOF) {
			if (file == topfile || popfile() == EOF)
				return (EOF);
			c = igetc();
		}
	}
	return (c);
}

void
lungetc(int c)
{
	if (c == EOF)
		return;

	if (file->ungetpos >= file->ungetsize) {
		void *p = reallocarray(file->ungetbuf, file->ungetsize, 2);
		if (p == NULL)
			fatal("%s", __func__);
		file->ungetbuf = p;
		file->ungetsize *= 2;
	}
	file->ungetbuf[file->ungetpos++] = c;
}

int
findeol(void)
{
	int	c;

	/*
	 * Skip to the end of the line but leave the newline: the grammar's
	 * error rule ends there, and the next line is parsed, not swallowed.
	 * The lexer said what is wrong; the parser's "syntax error" that
	 * follows would only repeat it.
	 */
	lexer_error = 1;
	while (1) {
		c = lgetc(0);
		if (c == '\n') {
			lungetc(c);
			break;
		}
		if (c == EOF)
			break;
	}
	return (ERROR);
}

/*
 * The lexer proper, and what the error messages need of its tokens: the
 * word that starts a statement (at the start of a line or after a '{')
 * when it is no keyword, unless a '=' makes it a macro's name.
 */
int
yylex(void)
{
	int	 token;

	token = yylex_token();
	if (stmt_start) {
		stmt_word[0] = '\0';
		if (token == STRING && !stmt_quoted) {
			strlcpy(stmt_word, yylval.v.string, sizeof(stmt_word));
			stmt_line = yylval.lineno;
		}
	} else if (token == '=')
		stmt_word[0] = '\0';
	stmt_start = token == '\n' || token == '{';
	return (token);
}

int
yylex_token(void)
{
	char	 buf[8096];
	char	*p, *val;
	int	 quotec, next, c;
	int	 token;

top:
	p = buf;
	stmt_quoted = 0;
	while ((c = lgetc(0)) == ' ' || c == '\t')
		; /* nothing */

	yylval.lineno = file->lineno;
	if (c == '#')
		while ((c = lgetc(0)) != '\n' && c != EOF)
			; /* nothing */
	if (c == '$' && !expanding) {
		while (1) {
			if ((c = lgetc(0)) == EOF)
				return (0);

			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return (findeol());
			}
			if (isalnum(c) || c == '_') {
				*p++ = c;
				continue;
			}
			*p = '\0';
			lungetc(c);
			break;
		}
		val = symget(buf);
		if (val == NULL) {
			yyerror("macro '%s' not defined", buf);
			return (findeol());
		}
		p = val + strlen(val) - 1;
		lungetc(DONE_EXPAND);
		while (p >= val) {
			lungetc((unsigned char)*p);
			p--;
		}
		lungetc(START_EXPAND);
		goto top;
	}

	switch (c) {
	case '\'':
	case '"':
		quotec = c;
		while (1) {
			if ((c = lgetc(quotec)) == EOF)
				return (0);
			if (c == '\n') {
				file->lineno++;
				continue;
			} else if (c == '\\') {
				if ((next = lgetc(quotec)) == EOF)
					return (0);
				if (next == quotec || next == ' ' ||
				    next == '\t')
					c = next;
				else if (next == '\n') {
					file->lineno++;
					continue;
				} else
					lungetc(next);
			} else if (c == quotec) {
				*p = '\0';
				break;
			} else if (c == '\0') {
				yyerror("syntax error");
				return (findeol());
			}
			if (p + 1 >= buf + sizeof(buf) - 1) {
				yyerror("string too long");
				return (findeol());
			}
			*p++ = c;
		}
		yylval.v.string = sdup(buf);
		stmt_quoted = 1;
		return (STRING);
	}

	/* <name> names a table; <> alone is the null sender. */
	if (c == '<') {
		while ((c = lgetc(0)) != EOF && (isalnum(c) || c == '_' ||
		    c == '-' || c == '.') && p < buf + sizeof(buf) - 1)
			*p++ = c;
		if (c == '>') {
			*p = '\0';
			if (p == buf) {
				yylval.v.string = sdup("<>");
				return (STRING);
			}
			yylval.v.string = sdup(buf);
			return (TABLEREF);
		}
		lungetc(c);
		while (p > buf)
			lungetc((unsigned char)*--p);
		return ('<');
	}

#define allowed_to_end_number(x) \
	(isspace(x) || x == ')' || x ==',' || x == '}' || x == '=' || x == '#')

	if (c == '-' || isdigit(c)) {
		do {
			*p++ = c;
			if ((size_t)(p-buf) >= sizeof(buf)) {
				yyerror("string too long");
				return (findeol());
			}
		} while ((c = lgetc(0)) != EOF && isdigit(c));
		lungetc(c);
		if (p == buf + 1 && buf[0] == '-')
			goto nodigits;
		if (c == EOF || allowed_to_end_number(c)) {
			const char *errstr = NULL;

			*p = '\0';
			yylval.v.number = strtonum(buf, LLONG_MIN,
			    LLONG_MAX, &errstr);
			if (errstr) {
				yyerror("\"%s\" invalid number: %s",
				    buf, errstr);
				return (findeol());
			}
			return (NUMBER);
		} else {
nodigits:
			while (p > buf + 1)
				lungetc((unsigned char)*--p);
			c = (unsigned char)*--p;
			if (c == '-')
				return (c);
		}
	}

/*
 * Unquoted strings may hold '/' so that paths, networks (192.0.2.0/24)
 * and macros holding them ($sock = "unix:/path") need no quotes, and
 * start with '@' so that table entries such as @example.com need none.
 */
#define allowed_in_string(x) \
	(isalnum(x) || (ispunct(x) && x != '(' && x != ')' && \
	x != '{' && x != '}' && x != '<' && x != '>' && \
	x != '!' && x != '=' && x != '#' && x != ','))

	if (isalnum(c) || c == ':' || c == '_' || c == '*' || c == '/' ||
	    c == '.' || c == '[' || c == '@') {
		do {
			*p++ = c;
			if ((size_t)(p-buf) >= sizeof(buf)) {
				yyerror("string too long");
				return (findeol());
			}
		} while ((c = lgetc(0)) != EOF && (allowed_in_string(c)));
		lungetc(c);
		*p = '\0';
		if ((token = lookup(buf)) == STRING)
			yylval.v.string = sdup(buf);
		return (token);
	}
	if (c == '\n') {
		yylval.lineno = file->lineno;
		file->lineno++;
	}
	if (c == EOF) {
		lex_eof = 1;
		return (0);
	}
	/* Token 0 would end the parse quietly, the rest of the file unread. */
	if (c == '\0') {
		yyerror("NUL character");
		return (findeol());
	}
	return (c);
}

/*
 * Open a file of the configuration.  Like included files, the file
 * itself must be a regular file: a device or a fifo would never end.
 */
struct file *
pushfile(const char *name, int included)
{
	struct file	*nfile;
	const char	*why;
	int		 depth = 0;

	TAILQ_FOREACH(nfile, &files, entry)
		depth++;
	if (depth > MAX_INCLUDE_DEPTH) {
		yyerror("include \"%s\": nested too deep", name);
		return (NULL);
	}
	if ((nfile = calloc(1, sizeof(struct file))) == NULL)
		fatal("%s", __func__);
	if ((nfile->name = strdup(name)) == NULL)
		fatal("%s", __func__);
	if ((nfile->stream = config_fopen(nfile->name, &why)) == NULL) {
		if (included)
			yyerror("include \"%s\": %s", name, why);
		else if (parse_flags & SCAMBACK_OPT_NOACTION)
			fprintf(stderr, "%s: %s\n", name, why);
		else
			log_warnx("%s: %s", name, why);
		free(nfile->name);
		free(nfile);
		return (NULL);
	}
	if (included)
		readfile_add(name);
	nfile->lineno = TAILQ_EMPTY(&files) ? 1 : 0;
	nfile->ungetsize = 16;
	if ((nfile->ungetbuf = malloc(nfile->ungetsize)) == NULL)
		fatal("%s", __func__);
	TAILQ_INSERT_TAIL(&files, nfile, entry);
	return (nfile);
}

int
popfile(void)
{
	struct file	*prev;

	if ((prev = TAILQ_PREV(file, files, entry)) != NULL)
		prev->errors += file->errors;

	TAILQ_REMOVE(&files, file, entry);
	fclose(file->stream);
	free(file->name);
	free(file->ungetbuf);
	free(file);
	file = prev;
	return (file ? 0 : EOF);
}

static char *
sdup(const char *s)
{
	struct strnode	*n;
	size_t		 len = strlen(s) + 1;

	if ((n = malloc(sizeof(*n) + len)) == NULL)
		fatal("%s", __func__);
	memcpy(n->s, s, len);
	n->next = strings;
	strings = n;
	return (n->s);
}

static void
sfree(void)
{
	struct strnode	*n;

	while ((n = strings) != NULL) {
		strings = n->next;
		free(n);
	}
}

/*
 * Parse a configuration file into a new struct.  Every error is reported
 * (stderr with -n, the log otherwise); on any error nothing is returned,
 * so a reload keeps what runs.
 */
struct scamback_conf *
parse_config(const char *filename, int flags)
{
	struct sym	*sym, *next;
	struct domref	*dr;
	int		 errors = 0;

	while (nreadfiles > 0)
		free(readfiles[--nreadfiles]);
	parse_flags = flags;
	conf_begin(flags);
	lexer_error = 0;
	lex_eof = 0;
	stmt_start = 1;
	stmt_word[0] = '\0';
	expanding = 0;
	listen_where[0] = '\0';
	curbackend = NULL;
	curtable = NULL;
	currule = NULL;
	saverule_line = 0;
	if ((conf = config_new()) == NULL)
		fatal(NULL);

	if ((file = pushfile(filename, 0)) == NULL) {
		config_free(conf);
		conf = NULL;
		return (NULL);
	}
	topfile = file;

	yyparse();
	errors = file->errors;
	/* An error deep in an include may leave files open. */
	while (file != NULL && popfile() != EOF)
		;
	topfile = NULL;

	parse_finish();
	errors += conf_errors();

	/* Free macros and check which have not been used. */
	TAILQ_FOREACH_SAFE(sym, &symhead, entry, next) {
		if ((flags & SCAMBACK_OPT_VERBOSE) && !sym->used)
			fprintf(stderr, "warning: macro '%s' not used\n",
			    sym->nam);
		if (!sym->persist) {
			free(sym->nam);
			free(sym->val);
			TAILQ_REMOVE(&symhead, sym, entry);
			free(sym);
		} else
			sym->used = 0;
	}
	while ((dr = TAILQ_FIRST(&domrefs)) != NULL) {
		TAILQ_REMOVE(&domrefs, dr, entry);
		free(dr->file);
		free(dr);
	}
	sfree();

	if (errors) {
		config_free(conf);
		conf = NULL;
		return (NULL);
	}
	return (conf);
}

static void
readfile_add(const char *path)
{
	char	**r;

	if ((r = reallocarray(readfiles, nreadfiles + 1,
	    sizeof(*readfiles))) == NULL)
		fatal(NULL);
	readfiles = r;
	if ((readfiles[nreadfiles] = strdup(path)) == NULL)
		fatal(NULL);
	nreadfiles++;
}

/* The i-th file read by the last parse besides the main one, or NULL. */
const char *
parse_readfile(size_t i)
{
	return (i < nreadfiles ? readfiles[i] : NULL);
}

/*
 * What can only be checked once everything is read: domains name backends
 * that may come later, and backends get their ids.  Without skip daemon
 * the engine applies the default list (skip_daemon_set stays 0).
 */
static void
parse_finish(void)
{
	struct backend_conf	*b;
	struct domain_conf	*d;
	struct domref		*dr;
	uint32_t		 id = 0;

	if (curbackend != NULL) {
		conf_error(curbackend_file, curbackend_line, "backend \"%s\": "
		    "no } before the end of the file", curbackend->name);
		config_backend_free(curbackend);
		curbackend = NULL;
	}
	TAILQ_FOREACH(b, &conf->backends, entry)
		b->id = id++;
	TAILQ_FOREACH(d, &conf->domains, entry)
		if ((b = config_backend_byname(conf, d->backend)) != NULL)
			d->backend_id = b->id;
	TAILQ_FOREACH(dr, &domrefs, entry)
		if (config_backend_byname(conf, dr->domain->backend) == NULL)
			conf_error(dr->file, dr->lineno, "domain %s: backend "
			    "\"%s\" is not defined", dr->domain->match ==
			    DOMAIN_ALL ? "all" : dr->domain->name,
			    dr->domain->backend);
	if (saverule_line != 0 && conf->save_dir == NULL)
		conf_error(saverule_where, saverule_line, "save keeps refused "
		    "mail in the save directory: set one");
	rules_abort();
}

/*
 * A table starts: named (once, and never <domains>, which is built in),
 * or anonymous inside a rule.  A table with a bad name is still read,
 * into a table nothing uses: one error, not one per entry.
 */
static int
atable_start(const char *name)
{
	const char	*p;

	if (*name != '\0') {
		for (p = name; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' &&
			    *p != '-' && *p != '.')
				break;
		if (*p != '\0' || strlen(name) >= TABLE_NAME_LEN) {
			yyerror("table <%s>: a name is up to %d letters, "
			    "digits, '_', '-' and '.'", name,
			    TABLE_NAME_LEN - 1);
			name = "";
		} else if (strcmp(name, "domains") == 0) {
			yyerror("table <domains> is built in: the domains "
			    "scam-back verifies");
			name = "";
		} else if (rulesconf_table_byname(conf, name) != NULL) {
			yyerror("table <%s> defined twice", name);
			name = "";
		}
	}
	curtable = rulesconf_table(conf, name);
	curcond_table = curtable->id + 1;
	return (0);
}

/* An entry of the table being read; a bad one is reported, not kept. */
static int
atable_entry(const char *key, const char *value, int flags)
{
	const char	*errstr;

	if (value != NULL && check_string("value", value,
	    TABLE_VALUE_LEN) == -1)
		return (0);
	if (curtable == NULL)
		fatalx("%s: no table", __func__);
	if (table_add(curtable->table, key, value, flags, &errstr) == -1) {
		yyerror("table <%s>: \"%s\": %s", curtable->name[0] != '\0' ?
		    curtable->name : "", key, errstr);
		return (0);
	}
	/* -nv prints it back between quotes: it must read back the same. */
	if ((flags & TABLE_F_REGEX) && (strchr(key, '"') != NULL ||
	    strstr(key, "\\ ") != NULL || strstr(key, "\\\t") != NULL ||
	    key[strlen(key) - 1] == '\\'))
		yyerror("regex \"%s\": a quote, or a backslash before a "
		    "blank or at the end, cannot be written here: put it in "
		    "a table file", key);
	return (0);
}

/* A table a condition names: <domains> or one defined before. */
static int
rule_table(const char *name)
{
	struct atable_conf	*at;

	if (strcmp(name, "domains") == 0) {
		curcond_table = RULE_TABLE_DOMAINS;
		return (0);
	}
	if ((at = rulesconf_table_byname(conf, name)) == NULL) {
		yyerror("table <%s> is not defined (define it before the "
		    "rules that use it)", name);
		curcond_table = 0;
		currule_bad = 1;
		return (0);
	}
	curcond_table = at->id + 1;
	return (0);
}

/* A condition of the rule being read, with the table just named. */
static int
rule_cond(int hastable, enum cond_type type, int parent)
{
	struct rule_cond	*c;

	curtable = NULL;
	if (currule->ncond >= RULE_MAX_CONDS) {
		if (!currule_bad)
			yyerror("at most %d conditions a rule",
			    RULE_MAX_CONDS);
		currule_bad = 1;
		return (0);
	}
	c = &currule->cond[currule->ncond++];
	c->type = type;
	c->negate = curcond_neg;
	c->parent = parent;
	c->table = hastable ? curcond_table : 0;
	curcond_neg = 0;
	return (0);
}

/* The rule is read: check it (file:line of its first line), number it. */
static void
rule_end(void)
{
	struct rule_conf	*r = currule;
	const char		*err;
	uint32_t		 nr = 1;

	currule = NULL;
	if (r == NULL)
		return;
	if (!currule_bad && (err = rulesconf_check(r)) != NULL)
		conf_error(file->name, currule_line, "%s", err);
	if (TAILQ_LAST(&conf->rules, rule_list) != NULL)
		nr = TAILQ_LAST(&conf->rules, rule_list)->nr + 1;
	r->nr = nr;
	conf->rules_flags |= rules_flags(r);
	TAILQ_INSERT_TAIL(&conf->rules, r, entry);
	currule_bad = 0;
}

/* An error cut a rule or a table short. */
static void
rules_abort(void)
{
	free(currule);
	currule = NULL;
	currule_bad = 0;
	curtable = NULL;
	curcond_neg = 0;
}

/*
 * Strings end up in fixed arrays and are printed back between double
 * quotes by -nv: refuse what does not fit or would not print back.
 */
static int
check_string(const char *what, const char *s, size_t size)
{
	const char	*p;

	if (strlen(s) >= size) {
		yyerror("%s too long (at most %zu characters)", what,
		    size - 1);
		return (-1);
	}
	for (p = s; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p) || *p == '"' || *p == '\\') {
			yyerror("%s \"%s\": control characters, quotes and "
			    "backslashes are not allowed", what, s);
			return (-1);
		}
	return (0);
}

static int
listen_set(const char *spec)
{
	struct listen_conf	*l = &conf->listen;
	const char		*p, *at, *errstr;
	char			 port[8];
	size_t			 plen;

	if (check_string("listen on", spec, sizeof(l->spec)) == -1)
		return (-1);
	memset(l, 0, sizeof(*l));
	l->mode = DEFAULT_LISTEN_MODE;
	strlcpy(l->spec, spec, sizeof(l->spec));

	if (strncmp(spec, "unix:", 5) == 0 ||
	    strncmp(spec, "local:", 6) == 0) {
		p = strchr(spec, ':') + 1;
		l->family = LISTEN_UNIX;
		if (*p != '/') {
			yyerror("listen on \"%s\": the socket path must be "
			    "absolute", spec);
			return (-1);
		}
		if (strlcpy(l->path, p, sizeof(l->path)) >= sizeof(l->path)) {
			yyerror("listen on \"%s\": path too long", spec);
			return (-1);
		}
		return (0);
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		l->family = LISTEN_INET;
		p = spec + 5;
	} else if (strncmp(spec, "inet6:", 6) == 0) {
		l->family = LISTEN_INET6;
		p = spec + 6;
	} else {
		yyerror("listen on \"%s\": use unix:/path, inet:port@address "
		    "or inet6:port@address", spec);
		return (-1);
	}
	/* libmilter's inet specs: port[@host]; no host means every address. */
	if ((at = strchr(p, '@')) != NULL) {
		plen = at - p;
		if (at[1] == '\0') {
			yyerror("listen on \"%s\": address missing after @",
			    spec);
			return (-1);
		}
	} else
		plen = strlen(p);
	if (plen == 0 || plen >= sizeof(port)) {
		yyerror("listen on \"%s\": port missing or invalid", spec);
		return (-1);
	}
	memcpy(port, p, plen);
	port[plen] = '\0';
	strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL) {
		yyerror("listen on \"%s\": port %s is %s (1-65535)", spec,
		    port, errstr);
		return (-1);
	}
	return (0);
}

/*
 * A backend with a bad name is still read to its closing brace, into a
 * backend that is thrown away: one error, not one per line of the block.
 */
static struct backend_conf *
backend_start(const char *name)
{
	struct backend_conf	*b;

	curbackend_bad = 1;
	curbackend_errors = file->errors;
	strlcpy(curbackend_file, file->name, sizeof(curbackend_file));
	if (check_string("backend name", name, sizeof(b->name)) == 0) {
		if (*name == '\0')
			yyerror("backend name is empty");
		else if (config_backend_byname(conf, name) != NULL)
			yyerror("backend \"%s\" defined twice", name);
		else
			curbackend_bad = 0;
	}
	if ((b = config_backend_new(curbackend_bad ? "" : name)) == NULL)
		fatal(NULL);
	return (b);
}

static void
backend_end(void)
{
	struct backend_conf	*b = curbackend;

	curbackend = NULL;
	if (b == NULL)
		return;
	if (curbackend_bad) {
		config_backend_free(b);
		return;
	}
	/*
	 * A block with errors said so already: no "has no host" on top.  A
	 * backend with an error is still kept, so that the domains naming
	 * it find it: one mistake, one error (the configuration is refused
	 * anyway).
	 */
	if (file->errors == curbackend_errors) {
		if (TAILQ_EMPTY(&b->hosts) && seen_nothing())
			conf_error(file->name, curbackend_line, "backend "
			    "\"%s\" is empty: give it a host", b->name);
		else if (TAILQ_EMPTY(&b->hosts))
			conf_error(file->name, curbackend_line, "backend "
			    "\"%s\" has no host", b->name);
		else if (b->tls_noverify && b->tls_ca[0] != '\0')
			conf_error(file->name, curbackend_line, "backend "
			    "\"%s\": tls ca and tls noverify exclude each "
			    "other", b->name);
	}
	TAILQ_INSERT_TAIL(&conf->backends, b, entry);
}

/* Did the block just read give any option at all? */
static int
seen_nothing(void)
{
	static const struct seen	none;

	return (memcmp(&seen, &none, sizeof(seen)) == 0);
}

/*
 * Add a domain.  The backend is resolved at the end, so that domains may
 * come before their backend.
 */
static int
domain_add(const char *name, enum domain_match match, const char *backend)
{
	struct domain_conf	*d;
	struct domref		*dr;
	char			 dom[HOSTNAME_LEN];

	if (match != DOMAIN_ALL) {
		if (check_string("domain", name, sizeof(dom)) == -1)
			return (-1);
		if (*name == '.') {
			yyerror("domain \"%s\": write the domain without "
			    "the leading dot and add subdomains", name);
			return (-1);
		}
		if (parse_domain(name, dom, sizeof(dom)) == -1) {
			yyerror("domain \"%s\" is not a valid domain name",
			    name);
			return (-1);
		}
	} else
		dom[0] = '\0';
	if (check_string("backend name", backend, NAME_LEN) == -1)
		return (-1);
	if ((d = config_domain_find(conf, dom, match)) != NULL) {
		if (match == DOMAIN_ALL)
			yyerror("domain all given twice");
		else
			yyerror("domain %s%s given twice", dom,
			    match == DOMAIN_SUBDOMAINS ? " subdomains" : "");
		return (-1);
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		fatal(NULL);
	strlcpy(d->name, dom, sizeof(d->name));
	d->match = match;
	strlcpy(d->backend, backend, sizeof(d->backend));
	TAILQ_INSERT_TAIL(&conf->domains, d, entry);

	if ((dr = calloc(1, sizeof(*dr))) == NULL ||
	    (dr->file = strdup(file->name)) == NULL)
		fatal(NULL);
	dr->domain = d;
	dr->lineno = yylval.lineno;
	TAILQ_INSERT_TAIL(&domrefs, dr, entry);
	return (0);
}

/* A mailertable or transport file: its entries become backends now. */
static int
maptable_add(enum table_type type, const char *path)
{
	struct table_conf	*t;
	const char		*why;
	uint32_t		 n = 0;

	if (check_string(type == TABLE_MAILERTABLE ? "mailertable" :
	    "transport", path, sizeof(t->path)) == -1)
		return (-1);
	if (*path == '\0') {
		yyerror("table file name is empty");
		return (-1);
	}
	TAILQ_FOREACH(t, &conf->tables, entry) {
		if (strcmp(t->path, path) == 0) {
			yyerror("table \"%s\" given twice", path);
			return (-1);
		}
		n++;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal(NULL);
	t->type = type;
	strlcpy(t->path, path, sizeof(t->path));
	t->id = n;
	TAILQ_INSERT_TAIL(&conf->tables, t, entry);
	readfile_add(path);
	if (maptable_load(conf, t, &why) == -1) {
		/* The table reported its errors; say where it was named. */
		if (why != NULL)
			yyerror("%s \"%s\": %s", type == TABLE_MAILERTABLE ?
			    "mailertable" : "transport", path, why);
		else
			yyerror("%s \"%s\" not loaded", type ==
			    TABLE_MAILERTABLE ? "mailertable" : "transport",
			    path);
		return (-1);
	}
	return (0);
}

static int
skipnet_add(const char *s)
{
	struct skip_net	*n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		fatal(NULL);
	if (parse_cidr(s, n) == -1) {
		yyerror("skip from: \"%s\" is not an address or network", s);
		free(n);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&conf->skip_from, n, entry);
	return (0);
}

/* dns resolver: an address, not a name: names need a resolver first. */
static int
resolver_add(const char *s, uint16_t port)
{
	struct resolver_conf	*r, *o;
	size_t			 n = 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal(NULL);
	if (!resolve_literal(s, port, &r->ss)) {
		yyerror("dns resolver \"%s\": use an IPv4 or IPv6 address",
		    s);
		free(r);
		return (-1);
	}
	TAILQ_FOREACH(o, &conf->resolvers, entry) {
		if (memcmp(&o->ss, &r->ss, sizeof(r->ss)) == 0) {
			yyerror("dns resolver %s port %u given twice", s,
			    port);
			free(r);
			return (-1);
		}
		n++;
	}
	if (n == MAX_RESOLVERS) {
		yyerror("more than %d dns resolvers", MAX_RESOLVERS);
		free(r);
		return (-1);
	}
	TAILQ_INSERT_TAIL(&conf->resolvers, r, entry);
	return (0);
}

/*
 * cache share redis ADDRESS: an address literal, v4 or v6 (brackets
 * allowed), kept as written without the brackets.  A name would need a
 * resolver in the middle of the prober's loop and a sandbox that lets
 * its answers through.
 */
static int
share_set(const char *s)
{
	struct sockaddr_storage	 ss;
	size_t			 len = strlen(s);

	if (!resolve_literal(s, DEFAULT_SHARE_PORT, &ss)) {
		yyerror("cache share redis \"%s\": give the store's IPv4 or "
		    "IPv6 address, not a name", s);
		return (-1);
	}
	if (s[0] == '[') {
		s++;
		len -= 2;
	}
	conf->share.type = SHARE_REDIS;
	memcpy(conf->share.address, s, len);
	conf->share.address[len] = '\0';
	return (0);
}

int
symset(const char *nam, const char *val, int persist)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(nam, sym->nam) == 0)
			break;
	}

	if (sym != NULL) {
		if (sym->persist == 1)
			return (0);
		else {
			free(sym->nam);
			free(sym->val);
			TAILQ_REMOVE(&symhead, sym, entry);
			free(sym);
		}
	}
	if ((sym = calloc(1, sizeof(*sym))) == NULL)
		return (-1);

	sym->nam = strdup(nam);
	if (sym->nam == NULL) {
		free(sym);
		return (-1);
	}
	sym->val = strdup(val);
	if (sym->val == NULL) {
		free(sym->nam);
		free(sym);
		return (-1);
	}
	sym->used = 0;
	sym->persist = persist;
	TAILQ_INSERT_TAIL(&symhead, sym, entry);
	return (0);
}

int
cmdline_symset(char *s)
{
	char	*sym, *val;
	int	ret;

	if ((val = strchr(s, '=')) == NULL || val == s)
		return (-1);
	sym = strndup(s, val - s);
	if (sym == NULL)
		fatal("%s: strndup", __func__);
	ret = symset(sym, val + 1, 1);
	free(sym);

	return (ret);
}

char *
symget(const char *nam)
{
	struct sym	*sym;

	TAILQ_FOREACH(sym, &symhead, entry) {
		if (strcmp(nam, sym->nam) == 0) {
			sym->used = 1;
			return (sym->val);
		}
	}
	return (NULL);
}
