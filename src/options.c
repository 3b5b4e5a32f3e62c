#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Long options that have no short form. */
enum {
	OPT_SOURCE = 0x100,
	OPT_FORMAT,
	OPT_PID,
	OPT_COMMAND,
	OPT_USER,
	OPT_PORT,
	OPT_STATE,
};

static const char short_opts[] = ":tuwx046f:alN:nrpPeimosHjhV";

static const struct option long_opts[] = {
	{"tcp", no_argument, NULL, 't'},
	{"udp", no_argument, NULL, 'u'},
	{"raw", no_argument, NULL, 'w'},
	{"unix", no_argument, NULL, 'x'},
	{"packet", no_argument, NULL, '0'},
	{"ipv4", no_argument, NULL, '4'},
	{"ipv6", no_argument, NULL, '6'},
	{"family", required_argument, NULL, 'f'},
	{"all", no_argument, NULL, 'a'},
	{"listening", no_argument, NULL, 'l'},
	{"net", required_argument, NULL, 'N'},
	{"source", required_argument, NULL, OPT_SOURCE},
	{"numeric", no_argument, NULL, 'n'},
	{"resolve", no_argument, NULL, 'r'},
	{"processes", no_argument, NULL, 'p'},
	{"no-processes", no_argument, NULL, 'P'},
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
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

void options_usage(FILE *f)
{
	fputs("Usage: sockstat [OPTION]... [FILTER]\n"
	      "List sockets and the processes that own them.\n"
	      "\n"
	      "Which sockets:\n"
	      "  -t, --tcp               TCP sockets\n"
	      "  -u, --udp               UDP sockets\n"
	      "  -w, --raw               RAW sockets\n"
	      "  -x, --unix              UNIX domain sockets\n"
	      "  -0, --packet            packet sockets\n"
	      "                          (no protocol given: all of them)\n"
	      "  -4, --ipv4              IPv4 sockets only\n"
	      "  -6, --ipv6              IPv6 sockets only\n"
	      "  -f, --family=LIST       families: inet,inet6,unix,packet\n"
	      "  -a, --all               listening and non-listening sockets\n"
	      "  -l, --listening         listening and unconnected sockets only\n"
	      "                          (default: all but listening and unconnected)\n"
	      "  -N, --net=NAME|PATH     look inside a network namespace\n"
	      "      --source=SOURCE     auto, netlink or proc (default auto)\n"
	      "\n"
	      "What is shown:\n"
	      "  -n, --numeric           numeric ports, no service names\n"
	      "  -r, --resolve           resolve host names\n"
	      "  -p, --processes         show owning processes (the default)\n"
	      "  -P, --no-processes      do not scan /proc for owning processes\n"
	      "  -e, --extended          uid, inode, socket cookie, interface\n"
	      "  -i, --info              TCP internals (rtt, cwnd, bytes, ...)\n"
	      "  -m, --memory            socket memory\n"
	      "  -o, --timers            timer information\n"
	      "  -s, --summary           totals per protocol and state\n"
	      "  -H, --no-header         no header line\n"
	      "  -j, --json              JSON output (same as --format=json)\n"
	      "      --format=FORMAT     table, json or ndjson\n"
	      "\n"
	      "Filters (combined with FILTER by 'and'):\n"
	      "      --pid=PID           sockets held by process PID\n"
	      "      --command=NAME      sockets held by a process named NAME\n"
	      "      --user=USER         sockets of user USER (name or uid)\n"
	      "      --port=PORT         local or peer port PORT\n"
	      "      --state=STATE       sockets in STATE (repeatable)\n"
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

/* Parses a whole decimal number in [min, max]; false on anything else. */
static bool parse_number(const char *s, long long min, long long max, long long *out)
{
	if (!*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
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
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strlen(table[i].name) == len && strncmp(table[i].name, w, len) == 0)
			return table[i].bits;
	return 0;
}

/* Appends words to the filter word list. */
static int add_words(struct options *o, int n, const char *const *words)
{
	char **nv = realloc(o->filter_words, (size_t)(o->filter_nwords + n) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	o->filter_words = nv;
	for (int i = 0; i < n; i++) {
		char *w = strdup(words[i]);
		if (!w)
			return -ENOMEM;
		o->filter_words[o->filter_nwords++] = w;
	}
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

int options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	*o = (struct options){0};
	o->render.format = FORMAT_TABLE;
	o->render.header = true;
	o->render.processes = true;
	o->source = SOURCE_AUTO;

	bool all = false, listening = false, family_given = false;
	unsigned inet_fams = 0, fams = 0;
	/* --state and --port words, added around the user's FILTER at the end. */
	const char *states[32];
	int nstates = 0;
	const char *ports[32];
	int nports = 0;

	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
		long long v;
		switch (c) {
		case 't': o->protos |= PROTO_BIT(PROTO_TCP); break;
		case 'u': o->protos |= PROTO_BIT(PROTO_UDP); break;
		case 'w': o->protos |= PROTO_BIT(PROTO_RAW); break;
		case 'x': o->protos |= PROTO_BIT(PROTO_UNIX); break;
		case '0': o->protos |= PROTO_BIT(PROTO_PACKET); break;
		case '4': inet_fams |= FAM_INET; break;
		case '6': inet_fams |= FAM_INET6; break;
		case 'f': {
			const char *w = optarg;
			do {
				size_t len = strcspn(w, ",");
				unsigned bits = family_word(w, len);
				if (!bits)
					return fail(err, errlen, "unknown family '%.*s' (use inet, inet6, unix or packet)",
						    (int)(len > 64 ? 64 : len), w);
				fams |= bits;
				w += len;
			} while (*w++ == ',');
			family_given = true;
			break;
		}
		case 'a': all = true; break;
		case 'l': listening = true; break;
		case 'N': o->netns = optarg; break;
		case OPT_SOURCE:
			if (strcmp(optarg, "auto") == 0)
				o->source = SOURCE_AUTO;
			else if (strcmp(optarg, "netlink") == 0)
				o->source = SOURCE_NETLINK;
			else if (strcmp(optarg, "proc") == 0)
				o->source = SOURCE_PROC;
			else
				return fail(err, errlen, "unknown source '%.64s' (use auto, netlink or proc)", optarg);
			break;
		case 'n': o->render.numeric = true; break;
		case 'r': o->render.resolve = true; break;
		case 'p': o->render.processes = true; break;
		case 'P': o->render.processes = false; break;
		case 'e': o->render.extended = true; break;
		case 'i': o->render.info = true; break;
		case 'm': o->render.memory = true; break;
		case 'o': o->render.timers = true; break;
		case 's': o->summary = true; break;
		case 'H': o->render.header = false; break;
		case 'j': o->render.format = FORMAT_JSON; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				o->render.format = FORMAT_TABLE;
			else if (strcmp(optarg, "json") == 0)
				o->render.format = FORMAT_JSON;
			else if (strcmp(optarg, "ndjson") == 0)
				o->render.format = FORMAT_NDJSON;
			else
				return fail(err, errlen, "unknown format '%.64s' (use table, json or ndjson)", optarg);
			break;
		case OPT_PID:
			if (!parse_number(optarg, 1, INT_MAX, &v))
				return fail(err, errlen, "bad process id '%.64s'", optarg);
			o->have_pid = true;
			o->pid = (pid_t)v;
			break;
		case OPT_COMMAND:
			if (!*optarg)
				return fail(err, errlen, "empty command name for --command");
			o->command = optarg;
			break;
		case OPT_USER: {
			struct passwd *pw = getpwnam(optarg);
			if (pw)
				v = pw->pw_uid;
			else if (!parse_number(optarg, 0, UINT32_MAX - 1, &v))
				return fail(err, errlen, "unknown user '%.64s'", optarg);
			o->have_user = true;
			o->user_uid = (uint32_t)v;
			break;
		}
		case OPT_PORT:
			if (!valid_port_word(optarg))
				return fail(err, errlen, "bad port '%.64s'", optarg);
			if (nports == (int)(sizeof(ports) / sizeof(ports[0])))
				return fail(err, errlen, "too many --port options");
			ports[nports++] = optarg;
			break;
		case OPT_STATE:
			if (nstates == (int)(sizeof(states) / sizeof(states[0])))
				return fail(err, errlen, "too many --state options");
			states[nstates++] = optarg;
			break;
		case 'h': o->help = true; break;
		case 'V': o->version = true; break;
		case ':':
		case '?':
		default: {
			/* Name the option as the user typed it. */
			const char *word = argv[optind - 1];
			bool is_long = strncmp(word, "--", 2) == 0;
			int len = is_long ? (int)strcspn(word, "=") : 0;
			char name[72];
			if (is_long)
				snprintf(name, sizeof(name), "%.*s", len > 64 ? 64 : len, word);
			else
				snprintf(name, sizeof(name), "-%c", optopt);
			if (c == ':')
				return fail(err, errlen, "option '%s' needs an argument", name);
			return fail(err, errlen, "unknown option '%s'", name);
		}
		}
	}

	/* Which protocols: those named, or every one the families allow. */
	unsigned want_fams = family_given ? fams : (unsigned)FAM_ALL;
	if (inet_fams)
		want_fams = (want_fams & ~(unsigned)(FAM_INET | FAM_INET6)) | inet_fams;
	if (!o->protos) {
		unsigned allowed = family_given ? fams : (inet_fams ? inet_fams : (unsigned)FAM_ALL);
		for (int p = 0; p < PROTO_COUNT; p++)
			if (proto_families((enum proto)p) & allowed)
				o->protos |= PROTO_BIT(p);
	}
	o->families = want_fams;
	/* A summary counts every socket unless -l narrows it, as ss -s does. */
	if (o->summary && !listening)
		all = true;
	o->states = all ? STATES_ALL : listening ? STATES_LISTENING : STATES_DEFAULT;

	/*
	 * --state S stands for "state S" and --port P for "( sport = :P or
	 * dport = :P )"; the user's FILTER is put in parentheses so that an
	 * "or" inside it cannot swallow them.
	 */
	int rc = 0;
	for (int i = 0; i < nstates && !rc; i++) {
		const char *w[] = {"state", states[i]};
		rc = add_words(o, 2, w);
	}
	int nuser = argc - optind;
	bool wrap = nuser > 0 && nports > 0;
	if (!rc && wrap)
		rc = add_words(o, 1, (const char *[]){"("});
	if (!rc && nuser > 0)
		rc = add_words(o, nuser, (const char *const *)argv + optind);
	if (!rc && wrap)
		rc = add_words(o, 1, (const char *[]){")"});
	for (int i = 0; i < nports && !rc; i++) {
		char sport[40];
		snprintf(sport, sizeof(sport), ":%s", ports[i]);
		const char *w[] = {"(", "sport", "=", sport, "or", "dport", "=", sport, ")"};
		rc = add_words(o, 9, w);
	}
	if (rc)
		return fail(err, errlen, "out of memory");
	return 0;
}

void options_finish(struct options *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->filter_nwords; i++)
		free(o->filter_words[i]);
	free(o->filter_words);
	o->filter_words = NULL;
	o->filter_nwords = 0;
}
