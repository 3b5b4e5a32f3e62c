#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "filter.h"
#include "util.h"

/* Long options that have no short form. */
enum {
	OPT_SOURCE = 0x100,
	OPT_FORMAT,
	OPT_PID,
	OPT_COMMAND,
	OPT_USER,
	OPT_PORT,
	OPT_STATE,
	OPT_WATCH,
	OPT_EVENTS,
	OPT_INTERVAL,
	OPT_OWNERS,
	OPT_ALL_NETNS,
	OPT_NETNS,
	OPT_CGROUP,
	OPT_DRY_RUN,
	OPT_RECORD,
	OPT_REPLAY,
	OPT_COUNT_BY,
	OPT_TOP,
	OPT_OUTPUT,
};

/*
 * The options that select a protocol (-t, --tcp, ...) come from the
 * protocol table, so a protocol with an option letter needs no edit here;
 * the rest are fixed. Both lists are built once, by build_option_tables.
 */
static const char fixed_short[] = "46f:alN:KnrpPeimosHjhV";

static const struct option fixed_long[] = {
	{"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
	{"family", required_argument, NULL, 'f'},
	{"all", no_argument, NULL, 'a'},
	{"listening", no_argument, NULL, 'l'},
	{"net", required_argument, NULL, 'N'},
	{"source", required_argument, NULL, OPT_SOURCE},
	{"kill", no_argument, NULL, 'K'},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"numeric", no_argument, NULL, 'n'},
	{"resolve", no_argument, NULL, 'r'},
	{"processes", no_argument, NULL, 'p'},
	{"no-processes", no_argument, NULL, 'P'},
	{"owners", required_argument, NULL, OPT_OWNERS},
	{"extended", no_argument, NULL, 'e'},
	{"info", no_argument, NULL, 'i'},
	{"memory", no_argument, NULL, 'm'},
	{"timers", no_argument, NULL, 'o'},
	{"summary", no_argument, NULL, 's'},
	{"no-header", no_argument, NULL, 'H'},
	{"json", no_argument, NULL, 'j'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"pid", required_argument, NULL, OPT_PID},
	{"command", required_argument, NULL, OPT_COMMAND},
	{"user", required_argument, NULL, OPT_USER},
	{"port", required_argument, NULL, OPT_PORT},
	{"state", required_argument, NULL, OPT_STATE},
	{"watch", optional_argument, NULL, OPT_WATCH},
	{"events", no_argument, NULL, OPT_EVENTS},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"all-netns", no_argument, NULL, OPT_ALL_NETNS},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"cgroup", no_argument, NULL, OPT_CGROUP},
	{"record", required_argument, NULL, OPT_RECORD},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"count-by", required_argument, NULL, OPT_COUNT_BY},
	{"top", required_argument, NULL, OPT_TOP},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
};

enum { FIXED_LONG = sizeof(fixed_long) / sizeof(fixed_long[0]) };

/* ':' first, so getopt tells a missing argument from an unknown option. */
static char short_opts[1 + PROTO_COUNT + sizeof(fixed_short)];
static struct option long_opts[PROTO_COUNT + FIXED_LONG + 1];

static bool long_known(size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(long_opts[i].name, name) == 0)
			return true;
	return false;
}

static void build_option_tables(void)
{
	size_t ns = 0, nl = 0;
	short_opts[ns++] = ':';
	for (int p = 0; p < PROTO_COUNT; p++) {
		const struct proto_desc *d = proto_get((enum proto)p);
		/* Rows that share a letter (-w: raw and icmp) list it once. */
		if (d->opt && !memchr(short_opts, d->opt, ns))
			short_opts[ns++] = d->opt;
		if (d->option && !long_known(nl, d->option)) {
			int val = d->opt ? d->opt : PROTO_OPTION_BASE + p;
			long_opts[nl++] = (struct option){d->option, no_argument, NULL, val};
		}
	}
	memcpy(short_opts + ns, fixed_short, sizeof(fixed_short));
	memcpy(long_opts + nl, fixed_long, sizeof(fixed_long));
	long_opts[nl + FIXED_LONG] = (struct option){NULL, 0, NULL, 0};
}

void options_usage(FILE *f)
{
	fputs("Usage: sockstat [OPTION]... [FILTER]\n"
	      "List sockets and the processes that own them.\n"
	      "\n"
	      "Which sockets:\n"
	      "  -t, --tcp               TCP sockets\n"
	      "  -u, --udp               UDP sockets\n"
	      "  -w, --raw               RAW and ping (ICMP datagram) sockets\n"
	      "  -x, --unix              UNIX domain sockets\n"
	      "  -0, --packet            packet sockets\n"
	      "  -M, --mptcp             MPTCP sockets\n"
	      "      --netlink           netlink sockets\n"
	      "                          (no protocol given: all of them)\n"
	      "  -4, --ipv4              IPv4 sockets only\n"
	      "  -6, --ipv6              IPv6 sockets only\n"
	      "  -f, --family=LIST       families: inet,inet6,unix,packet,netlink\n"
	      "  -a, --all               listening and non-listening sockets\n"
	      "  -l, --listening         listening and unconnected sockets only\n"
	      "                          (default: all but listening and unconnected)\n"
	      "  -N, --net=NAME|PATH     look inside a network namespace\n"
	      "      --source=SOURCE     auto, netlink or proc (default auto)\n"
	      "      --all-netns         every network namespace, with a Netns column\n"
	      "      --netns=PATTERN     namespaces whose name matches the glob PATTERN,\n"
	      "                          or whose inode is PATTERN (repeatable; implies\n"
	      "                          --all-netns)\n"
	      "  -K, --kill              close the TCP and UDP sockets selected (needs a\n"
	      "                          FILTER or --port/--pid/--command/--user/--state)\n"
	      "      --dry-run           with -K: show what would be closed, close nothing\n"
	      "      --record=FILE       save the kernel's replies of this run to FILE\n"
	      "      --replay=FILE       list the sockets recorded in FILE instead\n"
	      "\n"
	      "What is shown:\n"
	      "  -n, --numeric           numeric ports, no service names\n"
	      "  -r, --resolve           resolve host names\n"
	      "  -p, --processes         show owning processes (the default)\n"
	      "  -P, --no-processes      do not scan /proc for owning processes\n"
	      "      --owners=HOW        read owners through auto, bpf or proc (default auto)\n"
	      "  -e, --extended          uid, inode, socket cookie, interface\n"
	      "  -i, --info              TCP internals (rtt, cwnd, bytes, ...)\n"
	      "  -m, --memory            socket memory\n"
	      "  -o, --timers            timer information\n"
	      "      --cgroup            the cgroup v2 path of each inet socket\n"
	      "  -s, --summary           totals per protocol and state\n"
	      "  -H, --no-header         no header line\n"
	      "  -j, --json              JSON output (same as --format=json)\n"
	      "      --format=FORMAT     table, json, ndjson, prometheus or openmetrics\n"
	      "      --count-by=KEYS     count sockets per distinct value of KEYS, a comma list of\n"
	      "                          proto family state local-addr local-port peer-addr\n"
	      "                          peer-port peer-net direction port process user netns\n"
	      "                          cgroup\n"
	      "      --top=N             keep the N largest counts (metrics: N ports, default 100)\n"
	      "      --output=FILE       write the output to FILE atomically\n"
	      "\n"
	      "Filters (each repeatable, repeats or-ed; and-ed with each other and FILTER):\n"
	      "      --pid=PID           sockets held by process PID\n"
	      "      --command=NAME      sockets held by a process named NAME\n"
	      "      --user=USER         sockets of user USER (name or uid)\n"
	      "      --port=PORT         local or peer port PORT\n"
	      "      --state=STATE       sockets in STATE\n"
	      "\n"
	      "Watching:\n"
	      "      --watch[=SECONDS]   redraw the listing every SECONDS (default 2)\n"
	      "      --events            stream socket events (open, state, close) as NDJSON\n"
	      "      --interval=SECONDS  --events: compare dumps every SECONDS (default 1)\n"
	      "\n"
	      "  -h, --help              show this help and exit\n"
	      "  -V, --version           show the version and exit\n"
	      "\n"
	      "FILTER uses the ss(8) language, for example:\n"
	      "  sockstat -t state established '( dport = :443 or dport = :80 )'\n"
	      "See sockstat(8) for the full grammar and the JSON schema.\n",
	      f);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Maps one -f word to family bits; 0 when unknown. */
static unsigned family_word(const char *w, size_t len)
{
	static const struct {
		const char *name;
		unsigned bits;
	} table[] = {
		{"inet", FAM_INET},
		{"inet4", FAM_INET},
		{"ipv4", FAM_INET},
		{"inet6", FAM_INET6},
		{"ipv6", FAM_INET6},
		{"unix", FAM_UNIX},
		{"local", FAM_UNIX},
		{"packet", FAM_PACKET},
		{"link", FAM_PACKET},
		{"netlink", FAM_NETLINK},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strlen(table[i].name) == len && strncmp(table[i].name, w, len) == 0)
			return table[i].bits;
	return 0;
}

static bool valid_port_word(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

/*
 * The array v of n elements of size bytes with room for one more, or NULL
 * without memory (v is then still valid). The capacity doubles at powers
 * of two, so n elements never cost n reallocations.
 */
static void *room(void *v, size_t n, size_t size)
{
	if (n & (n - 1))
		return v;
	return realloc(v, (n ? 2 * n : 1) * size);
}

static int bad_value(char *err, size_t errlen, const char *option, const char *value,
		     const char *why)
{
	return fail(err, errlen, "bad --%s value '%.64s'%s", option, value, why);
}

/* --pid, --command, --user, --port, --state: typed, one more of each list. */
static int filter_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	uint64_t v;
	uint32_t mask;
	switch (c) {
	case OPT_PID: {
		if (!util_parse_u64z(arg, INT_MAX, &v) || v == 0)
			return bad_value(err, errlen, "pid", arg, "");
		int32_t *vpids = room(o->pids, o->npids, sizeof(*o->pids));
		if (!vpids)
			return -ENOMEM;
		o->pids = vpids;
		o->pids[o->npids++] = (int32_t)v;
		return 0;
	}
	case OPT_COMMAND: {
		if (!*arg)
			return bad_value(err, errlen, "command", arg, ": an empty name");
		const char **vcommands = room(o->commands, o->ncommands, sizeof(*o->commands));
		if (!vcommands)
			return -ENOMEM;
		o->commands = vcommands;
		o->commands[o->ncommands++] = arg;
		return 0;
	}
	case OPT_USER: {
		struct passwd *pw = getpwnam(arg);
		if (pw)
			v = pw->pw_uid;
		else if (!util_parse_u64z(arg, UINT32_MAX - 1, &v))
			return bad_value(err, errlen, "user", arg, ": no such user");
		uint32_t *vuids = room(o->uids, o->nuids, sizeof(*o->uids));
		if (!vuids)
			return -ENOMEM;
		o->uids = vuids;
		o->uids[o->nuids++] = (uint32_t)v;
		return 0;
	}
	case OPT_PORT: {
		/* Numbers and names are told apart once the services are read. */
		if (!valid_port_word(arg))
			return bad_value(err, errlen, "port", arg, "");
		const char **vports = room(o->ports, o->nports, sizeof(*o->ports));
		if (!vports)
			return -ENOMEM;
		o->ports = vports;
		o->ports[o->nports++] = arg;
		return 0;
	}
	default: /* OPT_STATE */
		if (filter_state_mask(arg, &mask) < 0)
			return bad_value(err, errlen, "state", arg, "");
		o->state_mask |= mask;
		o->has_states = true;
		return 0;
	}
}

/* What the selection options said, turned into masks at the end. */
struct selection {
	bool all, listening, family_given;
	unsigned inet_fams, fams;
};

static int family_option(struct selection *sel, const char *arg, char *err, size_t errlen)
{
	const char *w = arg;
	do {
		size_t len = strcspn(w, ",");
		unsigned bits = family_word(w, len);
		if (!bits)
			return fail(err, errlen,
				    "unknown family '%.*s' (use inet, inet6, unix, packet or netlink)",
				    (int)(len > 64 ? 64 : len), w);
		sel->fams |= bits;
		w += len;
	} while (*w++ == ',');
	sel->family_given = true;
	return 0;
}

/* Which sockets: protocols, families, states, namespace, source. */
static int select_option(struct options *o, struct selection *sel, int c, const char *arg,
			 char *err, size_t errlen)
{
	uint32_t selected = proto_by_option(c);
	if (selected) {
		o->protos |= selected;
		return 0;
	}
	switch (c) {
	case '4': sel->inet_fams |= FAM_INET; break;
	case '6': sel->inet_fams |= FAM_INET6; break;
	case 'f': return family_option(sel, arg, err, errlen);
	case 'a': sel->all = true; break;
	case 'l': sel->listening = true; break;
	case 'N': o->netns = arg; break;
	case OPT_ALL_NETNS: o->all_netns = true; break;
	case OPT_NETNS: {
		if (!*arg)
			return fail(err, errlen, "bad --netns value '': an empty pattern");
		const char **v = room(o->netns_patterns, o->nnetns_patterns, sizeof(*v));
		if (!v)
			return fail(err, errlen, "out of memory");
		o->netns_patterns = v;
		o->netns_patterns[o->nnetns_patterns++] = arg;
		o->all_netns = true;
		break;
	}
	case OPT_RECORD:
	case OPT_REPLAY:
		if (!*arg)
			return fail(err, errlen, "option '--%s' needs a file name",
				    c == OPT_RECORD ? "record" : "replay");
		if (c == OPT_RECORD)
			o->record = arg;
		else
			o->replay = arg;
		break;
	default: /* OPT_SOURCE */
		if (strcmp(arg, "auto") == 0)
			o->source = SOURCE_AUTO;
		else if (strcmp(arg, "netlink") == 0)
			o->source = SOURCE_NETLINK;
		else if (strcmp(arg, "proc") == 0)
			o->source = SOURCE_PROC;
		else
			return fail(err, errlen, "unknown source '%.64s' (use auto, netlink or proc)", arg);
	}
	return 0;
}

/* The longest interval: a day, past which a loop is not watching anything. */
enum { SECONDS_MAX_MS = 24 * 3600 * 1000 };

/* --watch[=SECONDS] (at least 0.1) and --interval SECONDS (more than 0). */
static int seconds_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	const char *name = c == OPT_WATCH ? "watch" : "interval";
	uint64_t ms = c == OPT_WATCH ? 2000 : 1000;
	if (arg && !clock_parse_seconds(arg, SECONDS_MAX_MS, &ms))
		return bad_value(err, errlen, name, arg, ": not a number of seconds");
	if (c == OPT_WATCH && ms < 100)
		return bad_value(err, errlen, name, arg, ": at least 0.1 seconds");
	if (ms == 0)
		return bad_value(err, errlen, name, arg, ": more than 0 seconds");
	if (c == OPT_WATCH) {
		o->watch = true;
		o->watch_ms = ms;
	} else {
		o->interval_given = true;
		o->interval_ms = ms;
	}
	return 0;
}

/* --format: the listing formats, or the metrics ones. */
static int format_option(struct options *o, const char *arg, char *err, size_t errlen)
{
	o->metrics = false;
	if (strcmp(arg, "table") == 0)
		o->render.format = FORMAT_TABLE;
	else if (strcmp(arg, "json") == 0)
		o->render.format = FORMAT_JSON;
	else if (strcmp(arg, "ndjson") == 0)
		o->render.format = FORMAT_NDJSON;
	else if (strcmp(arg, "prometheus") == 0 || strcmp(arg, "openmetrics") == 0) {
		o->metrics = true;
		o->metrics_format = arg[0] == 'p' ? METRICS_PROMETHEUS : METRICS_OPENMETRICS;
	} else
		return fail(err, errlen, "unknown format '%.64s' (use table, json, ndjson, "
			    "prometheus or openmetrics)", arg);
	return 0;
}

/* --count-by, --top, --output. */
static int count_option(struct options *o, int c, const char *arg, char *err, size_t errlen)
{
	uint64_t v;
	const char *bad;
	size_t badlen;
	switch (c) {
	case OPT_COUNT_BY:
		if (count_parse_keys(arg, o->count_keys, &o->ncount_keys, &bad, &badlen) < 0)
			return fail(err, errlen, "bad --count-by key '%.*s'",
				    (int)(badlen > 64 ? 64 : badlen), bad);
		return 0;
	case OPT_TOP:
		/* No group count reaches a billion; the bound keeps size_t safe. */
		if (!util_parse_u64z(arg, 1000000000, &v) || v == 0)
			return bad_value(err, errlen, "top", arg, "");
		o->top = (size_t)v;
		return 0;
	default: /* OPT_OUTPUT */
		if (!*arg)
			return bad_value(err, errlen, "output", arg, ": an empty file name");
		o->output = arg;
		return 0;
	}
}

/* Applies one option getopt returned; what is shown is handled here. */
static int apply_option(struct options *o, struct selection *sel, int c, const char *arg,
			char *err, size_t errlen)
{
	switch (c) {
	case 'n': o->render.numeric = true; break;
	case 'r': o->render.resolve = true; break;
	case 'p': o->render.processes = true; break;
	case 'P': o->render.processes = false; break;
	case 'e': o->render.extended = true; break;
	case 'i': o->render.info = true; break;
	case 'm': o->render.memory = true; break;
	case 'o': o->render.timers = true; break;
	case OPT_CGROUP: o->render.cgroup = true; break;
	case 's': o->summary = true; break;
	case 'H': o->render.header = false; break;
	case 'j':
		o->render.format = FORMAT_JSON;
		o->metrics = false;
		break;
	case 'h': o->help = true; break;
	case 'V': o->version = true; break;
	case OPT_OWNERS:
		if (strcmp(arg, "auto") != 0 && strcmp(arg, "bpf") != 0 && strcmp(arg, "proc") != 0)
			return fail(err, errlen, "bad --owners value '%.64s' (use auto, bpf or proc)", arg);
		o->owners_via = strcmp(arg, "auto") == 0 ? NULL : arg;
		break;
	case 'K': o->kill = true; break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_FORMAT:
		return format_option(o, arg, err, errlen);
	case OPT_COUNT_BY:
	case OPT_TOP:
	case OPT_OUTPUT:
		return count_option(o, c, arg, err, errlen);
	case OPT_WATCH:
	case OPT_INTERVAL:
		return seconds_option(o, c, arg, err, errlen);
	case OPT_EVENTS: o->events = true; break;
	case OPT_PID:
	case OPT_COMMAND:
	case OPT_USER:
	case OPT_PORT:
	case OPT_STATE: {
		int rc = filter_option(o, c, arg, err, errlen);
		return rc == -ENOMEM ? fail(err, errlen, "out of memory") : rc;
	}
	default:
		return select_option(o, sel, c, arg, err, errlen);
	}
	return 0;
}

/* The long option whose value getopt returns as val, or NULL. */
static const struct option *long_by_val(int val)
{
	for (const struct option *l = long_opts; l->name; l++)
		if (l->val == val)
			return l;
	return NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An unknown or ambiguous long option: word is "--name[=value]". */
static int bad_long_option(const char *word, char *err, size_t errlen)
{
	size_t len = strcspn(word + 2, "=");
	const char *cands[sizeof(long_opts) / sizeof(long_opts[0])];
	size_t n = 0;
	for (const struct option *l = long_opts; l->name; l++)
		if (strncmp(l->name, word + 2, len) == 0)
			cands[n++] = l->name;
	int shown = len > 64 ? 64 : (int)len;
	if (n < 2)
		return fail(err, errlen, "unknown option '--%.*s'", shown, word + 2);
	qsort(cands, n, sizeof(cands[0]), by_name);
	char list[200] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s--%s", i ? ", " : "",
					 cands[i]);
	return fail(err, errlen, "ambiguous option '--%.*s' (could be %s)", shown, word + 2, list);
}

/*
 * Says what getopt refused (c is '?' or ':'), in the user's words. In a
 * cluster of short options ("-Zt") getopt has not moved past the word
 * yet, so argv[optind - 1] is not always the word at fault: optopt says
 * which kind of error it was. getopt sets it to 0 for an unknown or
 * ambiguous long option, to the option's value for a long option given
 * an argument it does not take (a short option cannot be), and to the
 * character itself for an unknown short option.
 */
static int bad_option(int c, char **argv, char *err, size_t errlen)
{
	const char *word = argv[optind - 1];
	const struct option *l = optopt > 0 && optopt != ':' ? long_by_val(optopt) : NULL;
	bool known = l || (optopt > 0 && optopt < 0x100 && optopt != ':' &&
			   strchr(short_opts, optopt));
	if (c == ':') {
		if (strncmp(word, "--", 2) == 0 && l)
			return fail(err, errlen, "option '--%s' needs an argument", l->name);
		return fail(err, errlen, "option '-%c' needs an argument", optopt);
	}
	if (optopt == 0)
		return bad_long_option(word, err, errlen);
	if (known && l)
		return fail(err, errlen, "option '--%s' takes no argument", l->name);
	return fail(err, errlen, "unknown option '-%c'", optopt);
}

/* The masks the selection options give, once all are read. */
static void finish_selection(struct options *o, const struct selection *sel)
{
	/* Which protocols: those named, or every one the families allow. */
	unsigned want_fams = sel->family_given ? sel->fams : (unsigned)FAM_ALL;
	if (sel->inet_fams)
		want_fams = (want_fams & ~(unsigned)(FAM_INET | FAM_INET6)) | sel->inet_fams;
	if (!o->protos) {
		unsigned allowed = sel->family_given ? sel->fams
				   : sel->inet_fams ? sel->inet_fams : (unsigned)FAM_ALL;
		for (int p = 0; p < PROTO_COUNT; p++)
			if (proto_families((enum proto)p) & allowed)
				o->protos |= PROTO_BIT(p);
	}
	o->families = want_fams;
	/*
	 * A summary counts every socket unless -l narrows it, as ss -s does;
	 * so do the metrics formats, since a fleet wants its listeners too.
	 */
	bool all = sel->all || ((o->summary || o->metrics) && !sel->listening);
	o->states = all ? STATES_ALL : sel->listening ? STATES_LISTENING : STATES_DEFAULT;
}

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	*o = (struct options){0};
	o->render.format = FORMAT_TABLE;
	o->render.header = true;
	o->render.processes = true;
	o->source = SOURCE_AUTO;
	struct selection sel = {0};

	/*
	 * 0, not 1: getopt then forgets everything, also a cluster of short
	 * options an earlier call stopped in the middle of.
	 */
	build_option_tables();
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		int rc = c == '?' || c == ':' ? bad_option(c, argv, err, errlen)
					      : apply_option(o, &sel, c, optarg, err, errlen);
		if (rc < 0)
			return rc;
	}
	finish_selection(o, &sel);
	if (o->dry_run && !o->kill)
		return fail(err, errlen, "--dry-run is only for -K (--kill)");
	if (o->kill && (o->summary || o->ncount_keys || o->metrics))
		return fail(err, errlen, "-K (--kill) prints the sockets it closes; it cannot be "
			    "combined with -s, --count-by or a metrics --format");
	if (o->record && o->replay)
		return fail(err, errlen, "--record and --replay cannot be used together");
	if (o->kill && o->replay && !o->dry_run)
		return fail(err, errlen, "-K (--kill) cannot close recorded sockets: --replay "
			    "goes with -K only together with --dry-run");
	if (o->all_netns && o->netns)
		return fail(err, errlen, "option '-N' cannot be combined with '--%s'",
			    o->nnetns_patterns ? "netns" : "all-netns");
	o->render.all_netns = o->all_netns;
	/* A recording holds one namespace's conversation, and -K closes in one. */
	if (o->all_netns && (o->record || o->replay || o->kill))
		return fail(err, errlen, "%s and --%s cannot be used together",
			    o->record ? "--record" : o->replay ? "--replay" : "-K (--kill)",
			    o->nnetns_patterns ? "netns" : "all-netns");
	if (o->top && !o->ncount_keys && !o->metrics)
		return fail(err, errlen, "--top needs --count-by or a metrics --format");
	if (o->summary && o->ncount_keys && !o->metrics)
		return fail(err, errlen, "-s and --count-by cannot be combined");
	if (o->watch && o->events)
		return fail(err, errlen, "options '--watch' and '--events' cannot be combined");
	if (o->interval_given && !o->events)
		return fail(err, errlen, "option '--interval' needs '--events'");
	if (!o->interval_given)
		o->interval_ms = 1000;
	/* A recording is one snapshot; a loop would overwrite it every frame. */
	if ((o->record || o->replay) && (o->watch || o->events))
		return fail(err, errlen, "--%s cannot be used with --%s", o->record ? "record" : "replay",
			    o->watch ? "watch" : "events");
	/* The destroy groups and the stream's cache are one namespace's. */
	if (o->events && o->all_netns)
		return fail(err, errlen, "--events cannot be used with --all-netns");
	if ((o->watch || o->events) && (o->kill || o->output))
		return fail(err, errlen, "--%s cannot be used with %s", o->watch ? "watch" : "events",
			    o->kill ? "-K (--kill)" : "--output");

	/* The FILTER words, copied as pointers: argv outlives the options. */
	int n = argc - optind;
	if (n > 0) {
		o->filter_words = malloc((size_t)n * sizeof(*o->filter_words));
		if (!o->filter_words)
			return fail(err, errlen, "out of memory");
		for (int i = 0; i < n; i++)
			o->filter_words[i] = argv[optind + i];
		o->filter_nwords = n;
	}
	return 0;
}

int options_filter(const struct options *o, struct names *names, struct filter **out,
		   char *err, size_t errlen)
{
	*out = NULL;
	struct filter *f = NULL;
	struct filter_error ferr;
	int rc = filter_parse(o->filter_nwords, o->filter_words, names, &f, &ferr);
	if (rc == -EINVAL)
		return fail(err, errlen, "bad filter: %s", ferr.msg);
	if (rc < 0) {
		fail(err, errlen, "out of memory");
		return rc;
	}
	struct filter_options fo = {
		.ports = o->ports, .nports = o->nports,
		.has_states = o->has_states, .states = o->state_mask,
		.pids = o->pids, .npids = o->npids,
		.commands = o->commands, .ncommands = o->ncommands,
		.uids = o->uids, .nuids = o->nuids,
	};
	rc = filter_add_options(&f, &fo, names, &ferr);
	if (rc < 0) {
		filter_destroy(f);
		if (rc == -EINVAL)
			return fail(err, errlen, "%s", ferr.msg);
		fail(err, errlen, "out of memory");
		return rc;
	}
	*out = f;
	return 0;
}

void options_finish(struct options *o)
{
	if (!o)
		return;
	free(o->ports);
	free(o->pids);
	free(o->commands);
	free(o->uids);
	free(o->netns_patterns);
	free(o->filter_words);
	o->ports = o->commands = o->filter_words = NULL;
	o->pids = NULL;
	o->uids = NULL;
	o->nports = o->npids = o->ncommands = o->nuids = 0;
	o->filter_nwords = 0;
}
