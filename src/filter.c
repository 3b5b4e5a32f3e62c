/* For FNM_CASEFOLD, beyond POSIX. */
#define _GNU_SOURCE
#include "filter.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "cgroup.h"
#include "filter_impl.h"
#include "names.h"
#include "owners.h"
#include "util.h"

/*
 * The lexer works on the caller's words in place: a filter may arrive as
 * one quoted word, as one word per token, or as a mix, and every token
 * remembers which word and byte it came from so errors can point there.
 */
enum tok_type {
	T_EOF,
	T_LPAREN,
	T_RPAREN,
	T_AND,
	T_OR,
	T_NOT,
	T_OP,     /* a comparison operator, op holds which */
	T_WORD,
};

enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

struct token {
	enum tok_type type;
	enum cmp op;
	int word;
	int off;
	size_t len;         /* raw length inside the word */
};

/* Lexing modes: keywords and operators, or a raw operand (address, port). */
enum lex_mode { M_NORMAL, M_OPERAND };

struct parser {
	int nwords;
	const char *const *words;
	int w;              /* current word */
	size_t off;         /* current byte in that word */
	int depth;          /* open parentheses */
	int not_depth;      /* how many `not` enclose the current primary */
	struct filter *f;
	struct names *names;
	struct filter_error *err;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_opchar(char c)
{
	return c == '(' || c == ')' || c == '&' || c == '|' || c == '!' || c == '=' ||
	       c == '<' || c == '>';
}

static void skip_space(struct parser *p)
{
	while (p->w < p->nwords) {
		const char *s = p->words[p->w];
		while (s[p->off] && is_space(s[p->off]))
			p->off++;
		if (s[p->off])
			return;
		p->w++;
		p->off = 0;
	}
}

/* A keyword spelled as a whole token; words are compared exactly, as ss does. */
static bool tok_is(const struct parser *p, const struct token *t, const char *kw)
{
	size_t n = strlen(kw);
	return t->type == T_WORD && t->len == n && memcmp(p->words[t->word] + t->off, kw, n) == 0;
}

static const struct { const char *s; enum tok_type type; enum cmp op; } word_ops[] = {
	{"and", T_AND, 0}, {"or", T_OR, 0}, {"not", T_NOT, 0},
	{"eq", T_OP, C_EQ}, {"ne", T_OP, C_NE}, {"neq", T_OP, C_NE},
	{"lt", T_OP, C_LT}, {"le", T_OP, C_LE}, {"leq", T_OP, C_LE},
	{"gt", T_OP, C_GT}, {"ge", T_OP, C_GE}, {"geq", T_OP, C_GE},
};

static const struct { const char *s; enum tok_type type; enum cmp op; } sym_ops[] = {
	/* Longest spellings first so "&&" is not read as "&" "&". */
	{"&&", T_AND, 0}, {"||", T_OR, 0}, {"!=", T_OP, C_NE}, {"==", T_OP, C_EQ},
	{"<=", T_OP, C_LE}, {">=", T_OP, C_GE},
	{"&", T_AND, 0}, {"|", T_OR, 0}, {"!", T_NOT, 0}, {"=", T_OP, C_EQ},
	{"<", T_OP, C_LT}, {">", T_OP, C_GT},
};

/*
 * Reads the token at the current position into t without consuming it.
 * In M_OPERAND mode everything up to white space is one token (addresses
 * and UNIX paths may hold any byte but space; a backslash escapes one
 * byte), except that closing parentheses glued to its end are left for
 * the next token, as many as are open.
 */
static void peek(struct parser *p, enum lex_mode mode, struct token *t)
{
	skip_space(p);
	memset(t, 0, sizeof(*t));
	if (p->w >= p->nwords) {
		t->type = T_EOF;
		t->word = p->nwords > 0 ? p->nwords - 1 : 0;
		t->off = p->nwords > 0 ? (int)strlen(p->words[t->word]) : 0;
		return;
	}
	const char *s = p->words[p->w];
	size_t i = p->off;
	t->word = p->w;
	t->off = (int)i;
	if (s[i] == '(' || s[i] == ')') {
		t->type = s[i] == '(' ? T_LPAREN : T_RPAREN;
		t->len = 1;
		return;
	}
	if (mode == M_OPERAND) {
		size_t j = i;
		/*
		 * An inet operand holds no operator character, so one ends it
		 * ("dport=:22||sport=:80)"). A UNIX path may hold any byte, so
		 * it ends at white space, less the closing parentheses glued to
		 * it, as many as are open.
		 */
		bool unixish = s[i] == '/' || s[i] == '@' || strncmp(s + i, "unix:", 5) == 0;
		while (s[j] && !is_space(s[j]) && (unixish || !is_opchar(s[j]))) {
			if (s[j] == '\\' && s[j + 1])
				j++;
			j++;
		}
		int budget = unixish ? p->depth : 0;
		while (j > i + 1 && s[j - 1] == ')' && s[j - 2] != '\\' && budget > 0) {
			j--;
			budget--;
		}
		t->type = T_WORD;
		t->len = j - i;
		return;
	}
	for (size_t k = 0; k < sizeof(sym_ops) / sizeof(sym_ops[0]); k++) {
		size_t n = strlen(sym_ops[k].s);
		if (strncmp(s + i, sym_ops[k].s, n) == 0) {
			t->type = sym_ops[k].type;
			t->op = sym_ops[k].op;
			t->len = n;
			return;
		}
	}
	size_t j = i;
	while (s[j] && !is_space(s[j]) && !is_opchar(s[j])) {
		if (s[j] == '\\' && s[j + 1])
			j++;
		j++;
	}
	t->type = T_WORD;
	t->len = j - i;
	for (size_t k = 0; k < sizeof(word_ops) / sizeof(word_ops[0]); k++) {
		if (tok_is(p, t, word_ops[k].s)) {
			t->type = word_ops[k].type;
			t->op = word_ops[k].op;
			return;
		}
	}
}

static void consume(struct parser *p, const struct token *t)
{
	if (t->type == T_EOF)
		return;
	p->w = t->word;
	p->off = (size_t)t->off + t->len;
}

static void next(struct parser *p, enum lex_mode mode, struct token *t)
{
	peek(p, mode, t);
	consume(p, t);
}

/* The token's text with backslash escapes removed, owned by the filter. */
static char *tok_text(struct parser *p, const struct token *t)
{
	const char *s = p->words[t->word] + t->off;
	char *d = arena_alloc(&p->f->arena, t->len + 1);
	if (!d)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (s[i] == '\\' && i + 1 < t->len)
			i++;
		d[n++] = s[i];
	}
	d[n] = '\0';
	return d;
}

/*
 * Fills err for token t: msg is the sentence fmt followed by where it is
 * ("at word 3", counting words from 1, and the byte offset when the word
 * holds more than this token). Returns -EINVAL for the caller to pass on.
 */
__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, const struct token *t, const char *fmt, ...)
{
	struct filter_error *e = p->err;
	if (!e)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->word = t->word;
	e->offset = t->off;
	if (p->nwords > 0 && t->word < p->nwords) {
		size_t n = t->len < sizeof(e->text) - 1 ? t->len : sizeof(e->text) - 1;
		memcpy(e->text, p->words[t->word] + t->off, n);
		e->text[n] = '\0';
	}
	char what[100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (t->off > 0)
		snprintf(e->msg, sizeof(e->msg), "%s at word %d, offset %d", what, t->word + 1, t->off);
	else
		snprintf(e->msg, sizeof(e->msg), "%s at word %d", what, t->word + 1);
	return -EINVAL;
}

/* The token as text for a message, cut to a readable length. */
static const char *shown(struct parser *p, const struct token *t, char *tmp, size_t size)
{
	if (t->type == T_EOF)
		return "end of filter";
	size_t n = t->len < size - 1 ? t->len : size - 1;
	memcpy(tmp, p->words[t->word] + t->off, n);
	tmp[n] = '\0';
	return tmp;
}

static struct fnode *node_alloc(struct filter *f, enum fnode_kind kind)
{
	struct fnode *n = arena_alloc(&f->arena, sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->port = -1;
	n->id = f->nnodes++;
	return n;
}

static struct fnode *pair_alloc(struct filter *f, enum fnode_kind kind, struct fnode *a,
				struct fnode *b)
{
	struct fnode *n = node_alloc(f, kind);
	if (n) {
		n->a = a;
		n->b = b;
	}
	return n;
}

static struct fnode *new_node(struct parser *p, enum fnode_kind kind)
{
	return node_alloc(p->f, kind);
}

static struct fnode *new_pair(struct parser *p, enum fnode_kind kind, struct fnode *a,
			      struct fnode *b)
{
	return pair_alloc(p->f, kind, a, b);
}

/* ---- states ---- */

#define BUCKET (STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV) | STATE_BIT(SS_TIME_WAIT))
#define CONNECTED (STATES_ALL & ~(STATE_BIT(SS_CLOSE) | STATE_BIT(SS_LISTEN)))

/*
 * ss's names, their netstat spellings and ss's groups. Names are compared
 * case-insensitively with '_' read as '-', so "TIME_WAIT" is "time-wait".
 * A SYN_RECV socket is NEW_SYN_RECV in the kernel's request table, so the
 * two always go together.
 */
static const struct { const char *name; uint32_t mask; } state_table[] = {
	{"established", STATE_BIT(SS_ESTABLISHED)},
	{"syn-sent", STATE_BIT(SS_SYN_SENT)},
	{"syn-recv", STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV)},
	{"syn-rcv", STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV)},
	{"new-syn-recv", STATE_BIT(SS_SYN_RECV) | STATE_BIT(SS_NEW_SYN_RECV)},
	{"fin-wait-1", STATE_BIT(SS_FIN_WAIT1)},
	{"fin-wait1", STATE_BIT(SS_FIN_WAIT1)},
	{"fin-wait-2", STATE_BIT(SS_FIN_WAIT2)},
	{"fin-wait2", STATE_BIT(SS_FIN_WAIT2)},
	{"time-wait", STATE_BIT(SS_TIME_WAIT)},
	{"closed", STATE_BIT(SS_CLOSE)},
	{"close", STATE_BIT(SS_CLOSE)},
	{"unconnected", STATE_BIT(SS_CLOSE)},
	{"unconn", STATE_BIT(SS_CLOSE)},
	{"close-wait", STATE_BIT(SS_CLOSE_WAIT)},
	{"last-ack", STATE_BIT(SS_LAST_ACK)},
	{"listening", STATE_BIT(SS_LISTEN)},
	{"listen", STATE_BIT(SS_LISTEN)},
	{"closing", STATE_BIT(SS_CLOSING)},
	{"all", STATES_ALL},
	{"connected", CONNECTED},
	{"synchronized", CONNECTED & ~STATE_BIT(SS_SYN_SENT)},
	{"bucket", BUCKET},
	{"big", STATES_ALL & ~BUCKET},
};

static bool state_eq(const char *s, size_t len, const char *name)
{
	if (strlen(name) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i] == '_' ? '-' : s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != name[i])
			return false;
	}
	return true;
}

/* The mask of the len bytes at s as a state name or group; 0 when none. */
static uint32_t state_lookup(const char *s, size_t len)
{
	for (size_t k = 0; k < sizeof(state_table) / sizeof(state_table[0]); k++)
		if (state_eq(s, len, state_table[k].name))
			return state_table[k].mask;
	return 0;
}

int filter_state_mask(const char *name, uint32_t *mask)
{
	uint32_t m = name ? state_lookup(name, strlen(name)) : 0;
	if (!m)
		return -EINVAL;
	*mask = m;
	return 0;
}

static int parse_state(struct parser *p, const struct token *kw, bool exclude)
{
	struct token t;
	next(p, M_NORMAL, &t);
	if (t.type != T_WORD) {
		char tmp[64];
		return fail(p, t.type == T_EOF ? kw : &t, "missing state after '%s'%s%s",
			    exclude ? "exclude" : "state", t.type == T_EOF ? "" : ", got ",
			    t.type == T_EOF ? "" : shown(p, &t, tmp, sizeof(tmp)));
	}
	uint32_t mask = state_lookup(p->words[t.word] + t.off, t.len);
	if (!mask) {
		char tmp[64];
		return fail(p, &t, "unknown state '%s'", shown(p, &t, tmp, sizeof(tmp)));
	}
	struct filter *f = p->f;
	if (!f->has_states) {
		f->states = exclude ? STATES_ALL : 0;
		f->has_states = true;
	}
	if (exclude)
		f->states &= ~mask;
	else
		f->states |= mask;
	return 0;
}

/* ---- operands ---- */

/* Parses a decimal number of at most max; false for anything else. */
static bool parse_num(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	if (len == 0 || len > 10)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A port: number, '*' (any, -1) or service name. */
static int parse_port(struct parser *p, const struct token *t, const char *s, int32_t *port)
{
	unsigned long v;
	if (strcmp(s, "*") == 0 || *s == '\0') {
		*port = -1;
		return 0;
	}
	if (parse_num(s, strlen(s), 65535, &v)) {
		*port = (int32_t)v;
		return 0;
	}
	if (p->names && (s[0] < '0' || s[0] > '9')) {
		int r = names_service_port(p->names, s, PROTO_COUNT);
		if (r >= 0 && r <= 65535) {
			*port = r;
			return 0;
		}
	}
	return fail(p, t, "bad port '%s'", s);
}

/* Dotted IPv4 with 1 to 4 parts ("10", "127.0.0"): missing parts are 0. */
static bool parse_v4(const char *s, uint8_t *addr)
{
	memset(addr, 0, 16);
	for (int i = 0; i < 4; i++) {
		size_t n = strcspn(s, ".");
		unsigned long v;
		if (!parse_num(s, n, 255, &v))
			return false;
		addr[i] = (uint8_t)v;
		if (s[n] == '\0')
			return true;
		s += n + 1;
	}
	return false;
}

/* What parse_prefix found. */
enum prefix_result { PREFIX_OK, PREFIX_NOT_ADDR, PREFIX_BAD_LEN };

/*
 * Parses "ADDR[/LEN]" of family fam (AF_UNSPEC: whichever it is) into n.
 * The address is judged first, so "1.2.3.4.5/33" is a bad address and
 * "10.0.0.0/33" a bad prefix length.
 */
static enum prefix_result parse_prefix(char *s, int fam, struct fnode *n)
{
	char *slash = strchr(s, '/');
	if (slash)
		*slash = '\0';
	uint8_t a[16];
	unsigned long max;
	if (strchr(s, ':')) {
		if (fam == AF_INET || inet_pton(AF_INET6, s, a) != 1)
			return PREFIX_NOT_ADDR;
		n->family = AF_INET6;
		max = 128;
	} else {
		if (fam == AF_INET6 || !parse_v4(s, a))
			return PREFIX_NOT_ADDR;
		n->family = AF_INET;
		max = 32;
	}
	unsigned long plen = max;
	if (slash) {
		*slash = '/';
		if (!parse_num(slash + 1, strlen(slash + 1), max, &plen))
			return PREFIX_BAD_LEN;
	}
	memcpy(n->addr, a, 16);
	n->prefix_len = (uint8_t)plen;
	return PREFIX_OK;
}

/*
 * Takes a leading "unix:", "inet:" or "inet6:" off *s. Returns the family
 * it names (AF_UNIX for a UNIX pattern, also one spelled as a path or an
 * abstract name), or AF_UNSPEC when there is none.
 */
static int endpoint_family(char **s, bool port_only)
{
	static const struct { const char *prefix; int family; } quals[] = {
		{"unix:", AF_UNIX}, {"inet:", AF_INET}, {"inet6:", AF_INET6},
	};
	for (size_t i = 0; i < sizeof(quals) / sizeof(quals[0]); i++) {
		size_t n = strlen(quals[i].prefix);
		if (strncmp(*s, quals[i].prefix, n) == 0) {
			*s += n;
			return quals[i].family;
		}
	}
	if (!port_only && ((*s)[0] == '/' || (*s)[0] == '@'))
		return AF_UNIX;
	return AF_UNSPEC;
}

/* Is s, without brackets, a whole IPv6 address (less any "/LEN")? */
static bool is_v6_addr(const char *s)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	uint8_t a[16];
	size_t l = strcspn(s, "/");
	if (l >= sizeof(tmp))
		return false;
	memcpy(tmp, s, l);
	tmp[l] = '\0';
	return inet_pton(AF_INET6, tmp, a) == 1;
}

/*
 * Splits s (modified in place) into *addr ("" for any) and *port (NULL
 * when none is given). Returns 0 or fails on t.
 */
static int split_endpoint(struct parser *p, const struct token *t, char *s, bool port_only,
			  char **addr, char **port)
{
	*addr = s;
	*port = NULL;
	if (s[0] == '[') {
		char *end = strchr(s, ']');
		if (!end)
			return fail(p, t, "bad address '%s'", s);
		*end = '\0';
		*addr = s + 1;
		char *rest = end + 1;
		if (*rest == '/') {
			/* "[::1]/128": move the length inside for parse_prefix. */
			char *colon = strchr(rest, ':');
			if (colon)
				*colon = '\0';
			memmove(*addr + strlen(*addr), rest, strlen(rest) + 1);
			*port = colon ? colon + 1 : NULL;
		} else if (*rest == ':') {
			*port = rest + 1;
		} else if (*rest) {
			return fail(p, t, "bad address '%s'", *addr);
		}
	} else if (port_only && s[0] != '*' && !strchr(s, '.') && !strchr(s, ':')) {
		/* "dport = 22", "dport = ssh": a bare port. */
		*addr = "";
		*port = s;
	} else if (s[0] == '*') {
		if (s[1] == ':')
			*port = s + 2;
		else if (s[1])
			return fail(p, t, "bad address '%s'", s);
		*addr = "";
	} else {
		char *colon = strrchr(s, ':');
		size_t ncolons = 0;
		for (char *c = s; *c; c++)
			ncolons += *c == ':';
		/* Bare IPv6: a port only when the whole is not an address. */
		if (colon && (ncolons < 2 || !is_v6_addr(s))) {
			*colon = '\0';
			*port = colon + 1;
		}
	}
	return 0;
}

/*
 * Could s be a host name (letters, digits, '-', '.', '_', with a letter
 * somewhere)? Anything else that is not an address stays a bad address,
 * without a lookup.
 */
static bool is_host_name(const char *s)
{
	bool letter = false;
	size_t len = strlen(s);
	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalpha(c))
			letter = true;
		else if (!isdigit(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return letter;
}

/* The most addresses of one host name a filter keeps. */
enum { HOST_ADDRS_MAX = 16 };

/*
 * A host name in src/dst, resolved now, once: the or of one condition
 * per address, each a copy of first (side, port, qualifier) with that
 * address in full, as ss does. An unknown name fails on t.
 */
static int host_nodes(struct parser *p, const struct token *t, const char *name, int fam,
		      struct fnode *first, struct fnode **out)
{
	struct names_addr addrs[HOST_ADDRS_MAX];
	int n = p->names ? names_host_addrs(p->names, name, fam, addrs, HOST_ADDRS_MAX) : -ENOENT;
	if (n <= 0)
		return fail(p, t, "unknown host '%s'", name);
	struct fnode *acc = NULL;
	for (int i = 0; i < n; i++) {
		struct fnode *h = i == 0 ? first : new_node(p, FN_HOST);
		if (!h)
			return -ENOMEM;
		uint32_t id = h->id;
		*h = *first;
		h->id = id;
		h->family = (uint8_t)addrs[i].family;
		h->prefix_len = addrs[i].family == AF_INET ? 32 : 128;
		memcpy(h->addr, addrs[i].addr, 16);
		if (!(acc = acc ? new_pair(p, FN_OR, acc, h) : h))
			return -ENOMEM;
	}
	*out = acc;
	return 0;
}

/*
 * Parses an endpoint "[FAMILY:]ADDR[/LEN][:PORT]" or a UNIX pattern into
 * a new FN_HOST or FN_UNIX node. Forms: "*", "*:22", ":22", "10/8",
 * "127.0.0.1:ssh", "[::1]:22", "[::1/128]", "[::1]/128", "::1",
 * "inet6:[::]:80", "unix:/run/x*", "/run/x*", "@name*".
 */
static int parse_endpoint(struct parser *p, const struct token *t, enum fside side,
			  bool port_only, struct fnode **out)
{
	char *s = tok_text(p, t);
	struct fnode *n = new_node(p, FN_HOST);
	if (!s || !n)
		return -ENOMEM;
	n->side = (uint8_t)side;
	int fam = endpoint_family(&s, port_only);
	if (fam == AF_UNIX) {
		if (port_only)
			return fail(p, t, "bad port '%s'", s);
		n->kind = FN_UNIX;
		n->pattern = s;
		*out = n;
		return 0;
	}
	n->family = (uint8_t)fam;
	n->qualified = fam != AF_UNSPEC;
	char *addr, *port;
	int r = split_endpoint(p, t, s, port_only, &addr, &port);
	if (!r && port)
		r = parse_port(p, t, port, &n->port);
	if (r)
		return r;
	if (*addr && strcmp(addr, "*") != 0) {
		switch (parse_prefix(addr, fam, n)) {
		case PREFIX_OK:
			break;
		case PREFIX_BAD_LEN:
			return fail(p, t, "bad prefix length '%s'", strchr(addr, '/'));
		default:
			if (is_host_name(addr))
				return host_nodes(p, t, addr, fam, n, out);
			return fail(p, t, "bad address '%s'", addr);
		}
	}
	*out = n;
	return 0;
}

/*
 * The length of a run of punctuation at the start of an operand that no
 * operand can start with: a mistyped operator ("dport ~ :22"), to be
 * named as one rather than as a bad port or address.
 */
static size_t bad_operator_len(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && ispunct((unsigned char)s[n]) && !strchr("*:[/@.\\-+_", s[n]))
		n++;
	return n;
}

/*
 * Fails on an operand t that starts with a bad operator; 0 otherwise. An
 * empty operand stands before operator characters ("src !x", "dport = <1"):
 * those are the operator at fault.
 */
static int check_operator(struct parser *p, const struct token *t)
{
	const char *s = p->words[t->word] + t->off;
	size_t n = bad_operator_len(s, t->len);
	if (t->len == 0)
		while (s[n] && is_opchar(s[n]) && s[n] != '(' && s[n] != ')')
			n++;
	if (!n)
		return 0;
	struct token op = *t;
	op.len = n;
	char tmp[64];
	return fail(p, &op, "bad operator '%s'", shown(p, &op, tmp, sizeof(tmp)));
}

/* ---- expressions ---- */

static int parse_or(struct parser *p, struct fnode **out);

static bool starts_operand(const struct token *t)
{
	return t->type == T_LPAREN || t->type == T_NOT || t->type == T_WORD;
}

/* `src|dst [=] ENDPOINT` */
static int parse_hostpred(struct parser *p, const struct token *kw, enum fside side,
			  struct fnode **out)
{
	struct token t;
	char tmp[64];
	const char *name = side == FSIDE_LOCAL ? "src" : "dst";
	peek(p, M_NORMAL, &t);
	if (t.type == T_OP) {
		if (t.op != C_EQ)
			return fail(p, &t, "'%s' takes only '=', not '%s'", name,
				    shown(p, &t, tmp, sizeof(tmp)));
		consume(p, &t);
	}
	next(p, M_OPERAND, &t);
	if (t.type != T_WORD)
		return fail(p, t.type == T_EOF ? kw : &t, "missing address after '%s'", name);
	int r = check_operator(p, &t);
	return r ? r : parse_endpoint(p, &t, side, false, out);
}

/* `sport|dport [OP] [ADDR:]PORT` */
static int parse_portpred(struct parser *p, const struct token *kw, enum fside side,
			  struct fnode **out)
{
	struct token t;
	const char *name = side == FSIDE_LOCAL ? "sport" : "dport";
	enum cmp op = C_EQ;
	peek(p, M_NORMAL, &t);
	if (t.type == T_OP) {
		op = t.op;
		consume(p, &t);
	}
	next(p, M_OPERAND, &t);
	if (t.type != T_WORD)
		return fail(p, t.type == T_EOF ? kw : &t, "missing port after '%s'", name);
	struct fnode *h;
	int r = check_operator(p, &t);
	if (!r)
		r = parse_endpoint(p, &t, side, true, &h);
	if (r)
		return r;
	if (op == C_EQ) {
		*out = h;
		return 0;
	}
	if (op == C_NE) {
		/* As in ss, != is the negation of =. */
		*out = new_pair(p, FN_NOT, h, NULL);
		return *out ? 0 : -ENOMEM;
	}
	if (h->port < 0) {
		char tmp[64];
		return fail(p, &t, "bad port '%s': an ordering needs a number",
			    shown(p, &t, tmp, sizeof(tmp)));
	}
	struct fnode *c = new_node(p, FN_PORT);
	if (!c)
		return -ENOMEM;
	c->side = (uint8_t)side;
	c->port = h->port;
	c->op = op == C_LT ? FOP_LT : op == C_LE ? FOP_LE : op == C_GT ? FOP_GT : FOP_GE;
	if (h->family == AF_UNSPEC) {
		*out = c;
		return 0;
	}
	/* An address given with an ordering: that address and that ordering. */
	h->port = -1;
	*out = new_pair(p, FN_AND, h, c);
	return *out ? 0 : -ENOMEM;
}

/*
 * The id of the cgroup a literal path names, for the kernel to compare;
 * 0 for a glob, or a path no cgroup has (user space still judges it).
 */
static uint64_t cgroup_literal_id(const char *path)
{
	if (strpbrk(path, "*?[\\"))
		return 0;
	char mount[4096];
	uint64_t id = 0;
	if (cgroup_mount_find("/proc/self/mountinfo", mount, sizeof(mount)) < 0 ||
	    cgroup_path_id(mount, path, &id) < 0)
		return 0;
	return id;
}

/* `cgroup PATH`: the socket's cgroup v2 path matches the glob PATH. */
static int parse_cgroup(struct parser *p, const struct token *kw, struct fnode **out)
{
	struct token t;
	next(p, M_OPERAND, &t);
	if (t.type != T_WORD)
		return fail(p, t.type == T_EOF ? kw : &t, "missing path after 'cgroup'");
	char *s = tok_text(p, &t);
	struct fnode *n = new_node(p, FN_CGROUP);
	if (!s || !n)
		return -ENOMEM;
	n->pattern = s;
	n->cgroup_id = cgroup_literal_id(s);
	p->f->needs_cgroup = true;
	*out = n;
	return 0;
}

/*
 * The operator of `dev` and `fwmark`: none or '=' (true), '!=' (false);
 * any other fails on it.
 */
static int eq_or_ne(struct parser *p, const char *name, bool *eq)
{
	struct token t;
	char tmp[64];
	*eq = true;
	peek(p, M_NORMAL, &t);
	if (t.type != T_OP)
		return 0;
	if (t.op != C_EQ && t.op != C_NE)
		return fail(p, &t, "'%s' takes only '=' or '!=', not '%s'", name,
			    shown(p, &t, tmp, sizeof(tmp)));
	*eq = t.op == C_EQ;
	consume(p, &t);
	return 0;
}

/* n, or `not n` when the operator was '!=' (as ss reads it). */
static int maybe_not(struct parser *p, struct fnode *n, bool eq, struct fnode **out)
{
	*out = eq ? n : new_pair(p, FN_NOT, n, NULL);
	return *out ? 0 : -ENOMEM;
}

/* The operand of `dev` or `fwmark`, as text owned by the filter. */
static int operand_text(struct parser *p, const struct token *kw, const char *name,
			const char *what, struct token *t, char **text)
{
	next(p, M_OPERAND, t);
	if (t->type != T_WORD || t->len == 0)
		return fail(p, t->type == T_EOF || t->len == 0 ? kw : t, "missing %s after '%s'",
			    what, name);
	*text = tok_text(p, t);
	return *text ? 0 : -ENOMEM;
}

/*
 * `dev [=|!=] NAME|INDEX`: a name of the namespace being listed (the
 * caller enters it before parsing), else an index, as ss takes it.
 */
static int parse_devpred(struct parser *p, const struct token *kw, struct fnode **out)
{
	bool eq;
	struct token t;
	char *name;
	int r = eq_or_ne(p, "dev", &eq);
	if (!r)
		r = operand_text(p, kw, "dev", "device", &t, &name);
	if (r)
		return r;
	uint64_t index = if_nametoindex(name);
	if (index == 0 && !util_parse_u64z(name, UINT32_MAX, &index))
		return fail(p, &t, "unknown device '%s'", name);
	struct fnode *n = new_node(p, FN_DEV);
	if (!n)
		return -ENOMEM;
	n->value = (uint32_t)index;
	return maybe_not(p, n, eq, out);
}

/* `fwmark [=|!=] VALUE[/MASK]`, numbers decimal or 0x-hex; no mask: all bits. */
static int parse_markpred(struct parser *p, const struct token *kw, struct fnode **out)
{
	bool eq;
	struct token t;
	char *text;
	int r = eq_or_ne(p, "fwmark", &eq);
	if (!r)
		r = operand_text(p, kw, "fwmark", "mark", &t, &text);
	if (r)
		return r;
	uint64_t value, mask = UINT32_MAX;
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (!util_parse_x64z(text, UINT32_MAX, &value) ||
	    (slash && !util_parse_x64z(slash + 1, UINT32_MAX, &mask))) {
		if (slash)
			*slash = '/';
		return fail(p, &t, "bad mark '%s'", text);
	}
	struct fnode *n = new_node(p, FN_MARK);
	if (!n)
		return -ENOMEM;
	n->value = (uint32_t)value;
	n->mask = (uint32_t)mask;
	return maybe_not(p, n, eq, out);
}

/* `autobound`: listed on the filter so filter_set_local_ports reaches it. */
static int parse_auto(struct parser *p, struct fnode **out)
{
	struct fnode *n = new_node(p, FN_AUTO);
	if (!n)
		return -ENOMEM;
	n->port = 0;
	n->value = 65535;
	n->next_auto = p->f->autos;
	p->f->autos = n;
	*out = n;
	return 0;
}

static int too_deep(struct parser *p, const struct token *t)
{
	return fail(p, t, "filter nested too deeply (more than %d levels of '(' and 'not')",
		    FILTER_MAX_DEPTH);
}

/*
 * primary := '(' or ')' | 'not' primary | predicate | state clause.
 * A state clause yields no node (*out = NULL): it sets the global mask.
 */
static int parse_unary(struct parser *p, struct fnode **out)
{
	struct token t;
	char tmp[64];
	next(p, M_NORMAL, &t);
	switch (t.type) {
	case T_NOT: {
		struct token u;
		peek(p, M_NORMAL, &u);
		if (!starts_operand(&u))
			return fail(p, u.type == T_EOF ? &t : &u, "missing expression after '%s'",
				    shown(p, &t, tmp, sizeof(tmp)));
		if (p->depth + p->not_depth >= FILTER_MAX_DEPTH)
			return too_deep(p, &t);
		p->not_depth++;
		struct fnode *a;
		int r = parse_unary(p, &a);
		p->not_depth--;
		if (r)
			return r;
		*out = new_pair(p, FN_NOT, a, NULL);
		return *out ? 0 : -ENOMEM;
	}
	case T_LPAREN: {
		struct token u;
		peek(p, M_NORMAL, &u);
		if (u.type == T_RPAREN)
			return fail(p, &u, "unexpected ')'");
		if (p->depth + p->not_depth >= FILTER_MAX_DEPTH)
			return too_deep(p, &t);
		p->depth++;
		int r = parse_or(p, out);
		p->depth--;
		if (r)
			return r;
		next(p, M_NORMAL, &u);
		if (u.type != T_RPAREN)
			return u.type == T_EOF ? fail(p, &t, "unbalanced parenthesis '('")
					       : fail(p, &u, "unexpected '%s'",
						      shown(p, &u, tmp, sizeof(tmp)));
		return 0;
	}
	case T_WORD:
		break;
	case T_RPAREN:
		if (p->depth == 0)
			return fail(p, &t, "unbalanced parenthesis ')'");
		return fail(p, &t, "unexpected ')'");
	case T_EOF:
		return fail(p, &t, "unexpected end of filter");
	default:
		return fail(p, &t, "unexpected '%s'", shown(p, &t, tmp, sizeof(tmp)));
	}
	if (tok_is(p, &t, "src"))
		return parse_hostpred(p, &t, FSIDE_LOCAL, out);
	if (tok_is(p, &t, "dst"))
		return parse_hostpred(p, &t, FSIDE_PEER, out);
	if (tok_is(p, &t, "sport"))
		return parse_portpred(p, &t, FSIDE_LOCAL, out);
	if (tok_is(p, &t, "dport"))
		return parse_portpred(p, &t, FSIDE_PEER, out);
	if (tok_is(p, &t, "dev"))
		return parse_devpred(p, &t, out);
	if (tok_is(p, &t, "fwmark"))
		return parse_markpred(p, &t, out);
	if (tok_is(p, &t, "autobound"))
		return parse_auto(p, out);
	if (tok_is(p, &t, "cgroup"))
		return parse_cgroup(p, &t, out);
	bool excl = tok_is(p, &t, "exclude") || tok_is(p, &t, "excl");
	if (excl || tok_is(p, &t, "state")) {
		/* States are one global mask, so they cannot sit under not or in (). */
		if (p->depth > 0 || p->not_depth > 0)
			return fail(p, &t, "'%s' cannot be inside parentheses or after 'not'",
				    shown(p, &t, tmp, sizeof(tmp)));
		*out = NULL;
		return parse_state(p, &t, excl);
	}
	return fail(p, &t, "unexpected '%s'", shown(p, &t, tmp, sizeof(tmp)));
}

/* and := unary { ['and'] unary } */
static int parse_and(struct parser *p, struct fnode **out)
{
	struct fnode *acc;
	int r = parse_unary(p, &acc);
	if (r)
		return r;
	for (;;) {
		struct token t;
		peek(p, M_NORMAL, &t);
		if (t.type == T_AND) {
			consume(p, &t);
			struct token u;
			peek(p, M_NORMAL, &u);
			if (!starts_operand(&u)) {
				char tmp[64];
				return fail(p, u.type == T_EOF ? &t : &u,
					    "missing expression after '%s'",
					    shown(p, &t, tmp, sizeof(tmp)));
			}
		} else if (!starts_operand(&t)) {
			break;
		}
		struct fnode *b;
		r = parse_unary(p, &b);
		if (r)
			return r;
		if (!acc)
			acc = b;
		else if (b && !(acc = new_pair(p, FN_AND, acc, b)))
			return -ENOMEM;
	}
	*out = acc;
	return 0;
}

/* or := and { 'or' and } */
static int parse_or(struct parser *p, struct fnode **out)
{
	struct fnode *acc;
	int r = parse_and(p, &acc);
	if (r)
		return r;
	for (;;) {
		struct token t;
		char tmp[64];
		peek(p, M_NORMAL, &t);
		if (t.type != T_OR)
			break;
		consume(p, &t);
		struct token u;
		peek(p, M_NORMAL, &u);
		if (!starts_operand(&u))
			return fail(p, u.type == T_EOF ? &t : &u, "missing expression after '%s'",
				    shown(p, &t, tmp, sizeof(tmp)));
		struct fnode *b;
		r = parse_and(p, &b);
		if (r)
			return r;
		if (!acc || !b)
			return fail(p, &t, "state clauses cannot be an operand of '%s'",
				    shown(p, &t, tmp, sizeof(tmp)));
		if (!(acc = new_pair(p, FN_OR, acc, b)))
			return -ENOMEM;
	}
	*out = acc;
	return 0;
}

int filter_parse(int nwords, const char *const *words, struct names *names,
		 struct filter **out, struct filter_error *err)
{
	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	if (nwords < 0 || (nwords > 0 && !words))
		return -EINVAL;
	struct parser p = {
		.nwords = nwords,
		.words = words,
		.names = names,
		.err = err,
	};
	skip_space(&p);
	if (p.w >= nwords)
		return 0;
	struct filter *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	arena_init(&f->arena);
	p.f = f;
	int r = parse_or(&p, &f->root);
	if (!r) {
		struct token t;
		peek(&p, M_NORMAL, &t);
		if (t.type == T_RPAREN)
			r = fail(&p, &t, "unbalanced parenthesis ')'");
		else if (t.type != T_EOF) {
			char tmp[64];
			r = fail(&p, &t, "unexpected '%s'", shown(&p, &t, tmp, sizeof(tmp)));
		}
	}
	if (r) {
		filter_destroy(f);
		return r;
	}
	*out = f;
	return 0;
}

void filter_destroy(struct filter *f)
{
	if (!f)
		return;
	arena_finish(&f->arena);
	free(f);
}

uint32_t filter_states(const struct filter *f, uint32_t base)
{
	return f && f->has_states ? f->states : base;
}

/* ---- evaluation ---- */

static bool prefix_match(const uint8_t *a, const uint8_t *p, unsigned bits)
{
	unsigned bytes = bits / 8;
	if (memcmp(a, p, bytes) != 0)
		return false;
	unsigned rest = bits % 8;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return ((a[bytes] ^ p[bytes]) & mask) == 0;
}

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/*
 * The kernel's rule (inet_diag_bc_run), which this must equal so the
 * bytecode and user space agree: the family must match, except that an
 * unqualified IPv4 condition also matches an IPv4-mapped IPv6 address.
 */
static bool host_match(const struct fnode *n, const struct sock *s)
{
	const struct sock_endpoint *ep = n->side == FSIDE_LOCAL ? &s->local : &s->peer;
	if (s->family != AF_INET && s->family != AF_INET6)
		return n->family == AF_UNSPEC && n->port == -1;
	if (n->port != -1 && n->port != ep->port)
		return false;
	if (n->family == AF_UNSPEC)
		return true;
	if (n->family == s->family)
		return prefix_match(ep->addr, n->addr, n->prefix_len);
	if (n->family == AF_INET && !n->qualified && s->family == AF_INET6 &&
	    memcmp(ep->addr, v4mapped_prefix, 12) == 0)
		return prefix_match(ep->addr + 12, n->addr, n->prefix_len);
	return false;
}

static bool port_match(const struct fnode *n, const struct sock *s)
{
	if (s->family != AF_INET && s->family != AF_INET6)
		return false;
	int port = n->side == FSIDE_LOCAL ? s->local.port : s->peer.port;
	switch (n->op) {
	case FOP_LT: return port < n->port;
	case FOP_LE: return port <= n->port;
	case FOP_GT: return port > n->port;
	case FOP_GE: return port >= n->port;
	}
	return false;
}

/*
 * UNIX names are matched as ss prints them: abstract names with '@' for
 * the leading NUL, cut at any later NUL; unnamed as "". ss matches
 * case-insensitively, and so do we. The peer's name is not in the record,
 * so a dst pattern sees "".
 */
static bool unix_match(const struct fnode *n, const struct sock *s)
{
	if (s->family != AF_UNIX)
		return false;
	char name[512];
	size_t len = 0;
	if (n->side == FSIDE_LOCAL && s->path) {
		len = s->path_len < sizeof(name) - 1 ? s->path_len : sizeof(name) - 1;
		memcpy(name, s->path, len);
		if (len && name[0] == '\0')
			name[0] = '@';
	}
	name[len] = '\0';
	return fnmatch(n->pattern, name, FNM_CASEFOLD) == 0;
}

/*
 * Was the local port chosen by the kernel? The kernel knows (it reads
 * the socket's bind lock when running INET_DIAG_BC_AUTO), user space
 * does not, so here it is judged as ss judges it: an inet port inside the
 * range the kernel picks from, an unnamed UNIX socket or one autobound
 * to an abstract name of five hex digits. Both tests apply where the
 * kernel runs the bytecode, as with ss.
 */
static bool auto_match(const struct fnode *n, const struct sock *s)
{
	if (s->family == AF_INET || s->family == AF_INET6)
		return s->local.port >= n->port && s->local.port <= (int32_t)n->value;
	if (s->family != AF_UNIX)
		return false;
	if (!s->path || s->path_len == 0)
		return true;
	if (s->path_len != 6 || s->path[0] != '\0')
		return false;
	for (int i = 1; i < 6; i++)
		if (!isxdigit((unsigned char)s->path[i]) || isupper((unsigned char)s->path[i]))
			return false;
	return true;
}

/*
 * The kernel's 15-byte comm, or for a longer name the comm that is its
 * first 15 bytes together with an argv[0] whose basename is the name.
 */
static bool comm_match(const char *name, const struct owner *w)
{
	if (!w->comm)
		return false;
	if (strcmp(w->comm, name) == 0)
		return true;
	if (strlen(name) <= FILTER_COMM_MAX || !w->argv0 || strlen(w->comm) != FILTER_COMM_MAX ||
	    strncmp(w->comm, name, FILTER_COMM_MAX) != 0)
		return false;
	const char *base = strrchr(w->argv0, '/');
	return strcmp(base ? base + 1 : w->argv0, name) == 0;
}

static bool eval(const struct fnode *n, const struct sock *s, const struct owner *w);

/* Some holder of s passes n->a; with none visible, n->a is judged without one. */
static bool holder_match(const struct fnode *n, const struct sock *s)
{
	if (!s->owners)
		return eval(n->a, s, NULL);
	for (const struct owner *w = s->owners; w; w = w->next)
		if (eval(n->a, s, w))
			return true;
	return false;
}

/* A leaf; w is the holder being judged under FN_HOLDER, or NULL. */
static bool leaf_match(const struct fnode *n, const struct sock *s, const struct owner *w)
{
	switch (n->kind) {
	case FN_HOST: return host_match(n, s);
	case FN_PORT: return port_match(n, s);
	case FN_UNIX: return unix_match(n, s);
	case FN_CGROUP: return s->cgroup_path && fnmatch(n->pattern, s->cgroup_path, 0) == 0;
	case FN_HOLDER: return holder_match(n, s);
	case FN_PID: return w && (uint32_t)w->pid == n->value;
	case FN_COMM: return w && comm_match(n->pattern, w);
	case FN_DEV: return s->ifindex == n->value;
	case FN_MARK: return (s->mark & n->mask) == n->value;
	case FN_AUTO: return auto_match(n, s);
	case FN_UID:
		if (w)
			return w->uid == n->value;
		/* A socket without a file has the placeholder uid 0: no one's. */
		return s->has_uid && s->inode != 0 && s->uid == n->value;
	}
	return false;
}

/*
 * The parser grows and/or chains on their left operand, so that side is
 * walked in a loop (the right operand, a primary, is the one recursed
 * into) and a `not` only flips the sense of what follows. Operands are
 * free of side effects, so judging b before a changes nothing.
 */
static bool eval(const struct fnode *n, const struct sock *s, const struct owner *w)
{
	bool neg = false;
	for (;;) {
		switch (n->kind) {
		case FN_AND:
			if (!eval(n->b, s, w))
				return neg;
			n = n->a;
			break;
		case FN_OR:
			if (eval(n->b, s, w))
				return !neg;
			n = n->a;
			break;
		case FN_NOT:
			neg = !neg;
			n = n->a;
			break;
		default:
			return leaf_match(n, s, w) != neg;
		}
	}
}

bool filter_node_match(const struct fnode *n, const struct sock *s)
{
	return !n || eval(n, s, NULL);
}

bool filter_match(const struct filter *f, const struct sock *s)
{
	return !f || filter_node_match(f->root, s);
}

void filter_set_local_ports(struct filter *f, uint16_t lo, uint16_t hi)
{
	if (!f)
		return;
	for (struct fnode *n = f->autos; n; n = n->next_auto) {
		n->port = lo;
		n->value = hi;
	}
}

bool filter_needs_local_ports(const struct filter *f)
{
	return f && f->autos;
}

bool filter_needs_owners(const struct filter *f)
{
	return f && f->needs_owners;
}

bool filter_needs_argv0(const struct filter *f)
{
	return f && f->needs_argv0;
}

bool filter_needs_cgroup(const struct filter *f)
{
	return f && f->needs_cgroup;
}

/* ---- command-line clauses ---- */

/* acc or-ed with n (acc NULL: n alone), growing on the left as the parser does. */
static struct fnode *or_onto(struct filter *f, struct fnode *acc, struct fnode *n)
{
	if (!n)
		return NULL;
	return acc ? pair_alloc(f, FN_OR, acc, n) : n;
}

static int bad_value(struct filter_error *err, const char *option, const char *value)
{
	if (err) {
		memset(err, 0, sizeof(*err));
		err->word = -1;
		snprintf(err->text, sizeof(err->text), "%s", value);
		snprintf(err->msg, sizeof(err->msg), "bad --%s value '%.64s'", option, value);
	}
	return -EINVAL;
}

/* "local port P or peer port P" for every --port P; *out NULL when none. */
static int port_clause(struct filter *f, const struct filter_options *o, struct names *names,
		       struct fnode **out, struct filter_error *err)
{
	struct fnode *acc = NULL;
	for (size_t i = 0; i < o->nports; i++) {
		const char *v = o->ports[i];
		unsigned long num;
		int port = -1;
		if (parse_num(v, strlen(v), 65535, &num))
			port = (int)num;
		else if (names && v[0] && (v[0] < '0' || v[0] > '9'))
			port = names_service_port(names, v, PROTO_COUNT);
		if (port < 0 || port > 65535)
			return bad_value(err, "port", v);
		for (int side = FSIDE_LOCAL; side <= FSIDE_PEER; side++) {
			struct fnode *h = node_alloc(f, FN_HOST);
			if (!h)
				return -ENOMEM;
			h->side = (uint8_t)side;
			h->port = port;
			if (!(acc = or_onto(f, acc, h)))
				return -ENOMEM;
		}
	}
	*out = acc;
	return 0;
}

/* The or of one list of holder leaves; NULL with no value, or on -ENOMEM (*oom). */
static struct fnode *holder_list(struct filter *f, enum fnode_kind kind, size_t n,
				 const uint32_t *values, const char *const *names, bool *oom)
{
	struct fnode *acc = NULL;
	for (size_t i = 0; i < n && !*oom; i++) {
		struct fnode *leaf = node_alloc(f, kind);
		if (leaf && values)
			leaf->value = values[i];
		if (leaf && names) {
			leaf->pattern = arena_strndup(&f->arena, names[i], strlen(names[i]));
			if (!leaf->pattern)
				leaf = NULL;
			else if (strlen(names[i]) > FILTER_COMM_MAX)
				f->needs_argv0 = true;
		}
		if (!leaf || !(acc = or_onto(f, acc, leaf)))
			*oom = true;
	}
	return *oom ? NULL : acc;
}

/*
 * One FN_HOLDER over the and of the --pid, --command and --user lists,
 * so that all three hold for one holder; *out NULL when none is given.
 */
static int holder_clause(struct filter *f, const struct filter_options *o, struct fnode **out)
{
	bool oom = false;
	struct fnode *parts[3] = {
		holder_list(f, FN_PID, o->npids, (const uint32_t *)o->pids, NULL, &oom),
		holder_list(f, FN_COMM, o->ncommands, NULL, o->commands, &oom),
		holder_list(f, FN_UID, o->nuids, o->uids, NULL, &oom),
	};
	if (oom)
		return -ENOMEM;
	struct fnode *acc = NULL;
	for (int i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		acc = acc ? pair_alloc(f, FN_AND, acc, parts[i]) : parts[i];
		if (!acc)
			return -ENOMEM;
	}
	*out = NULL;
	if (!acc)
		return 0;
	if (!(*out = pair_alloc(f, FN_HOLDER, acc, NULL)))
		return -ENOMEM;
	/* Set before the tree holds the node: harmless if a later step fails. */
	f->needs_owners = true;
	return 0;
}

int filter_add_options(struct filter **fp, const struct filter_options *o, struct names *names,
		       struct filter_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
	if (!o->nports && !o->has_states && !o->npids && !o->ncommands && !o->nuids)
		return 0;
	/*
	 * The clauses go into the FILTER's own arena, so node ids stay
	 * unique. A failure wastes a few nodes there but leaves the tree, and
	 * so what the filter selects, as it was.
	 */
	struct filter *f = *fp;
	bool fresh = !f;
	if (fresh) {
		if (!(f = calloc(1, sizeof(*f))))
			return -ENOMEM;
		arena_init(&f->arena);
	}
	struct fnode *ports = NULL, *root = NULL;
	int r = port_clause(f, o, names, &ports, err);
	if (!r)
		r = holder_clause(f, o, &root);
	if (!r && ports && !(root = root ? pair_alloc(f, FN_AND, root, ports) : ports))
		r = -ENOMEM;
	/* The FILTER last: evaluation judges the right operand of an and first. */
	if (!r && root && f->root && !(root = pair_alloc(f, FN_AND, root, f->root)))
		r = -ENOMEM;
	if (r) {
		if (fresh)
			filter_destroy(f);
		return r;
	}
	if (root)
		f->root = root;
	if (o->has_states) {
		f->states = f->has_states ? f->states & o->states : o->states;
		f->has_states = true;
	}
	*fp = f;
	return 0;
}
