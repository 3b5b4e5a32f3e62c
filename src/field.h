#ifndef SRC_FIELD_H
#define SRC_FIELD_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "render.h"
#include "sock.h"

/*
 * The one schema of what a socket row holds. Each field is a table column
 * (title), a JSON key, or both, with the formatter of each form and the
 * options it needs. The table and the JSON renderers walk field_table in
 * order, so a new field is one entry here plus its formatters.
 */
enum field_id {
	F_NETNS,
	F_PROTO,
	F_FAMILY,
	F_TYPE,
	F_STATE,
	F_RECVQ,
	F_SENDQ,
	F_LOCAL,
	F_PEER,
	F_V6ONLY,
	F_UID,
	F_USER,
	F_INODE,
	F_COOKIE,
	F_IFACE,
	F_TIMER,
	F_MEMORY,
	F_INFO,
	F_CGROUP,
	F_PROCESS,
	FIELD_COUNT
};

/* What a field needs to be shown: the options that ask for it. */
enum field_need {
	NEED_EXTENDED = 1u << 0, /* -e */
	NEED_INFO = 1u << 1,     /* -i: tcp_info from the kernel */
	NEED_MEMORY = 1u << 2,   /* -m: skmeminfo from the kernel */
	NEED_TIMERS = 1u << 3,   /* -o */
	NEED_OWNERS = 1u << 4,   /* the /proc scan (not -P) */
	NEED_NETNS = 1u << 5,    /* --all-netns */
	NEED_CGROUP = 1u << 6,   /* --cgroup */
	NEED_NEVER = 1u << 7,    /* not part of this form at all */
};

/* Interface names are looked up once per index; most hosts have few. */
enum { FIELD_IFCACHE = 256 };

/*
 * What formatters share for one render: the options, the name caches and
 * scratch space. Owned by the renderer; formatters only read o and names.
 */
struct field_ctx {
	const struct render_opts *o;
	struct names *names;           /* not owned; may be NULL */
	struct buf tmp;                /* scratch for a JSON string built in pieces */
	char ifname[FIELD_IFCACHE][IF_NAMESIZE];
	uint8_t ifstate[FIELD_IFCACHE]; /* 0 not asked, 1 named, 2 unknown */
};

/*
 * Sets c up for options o (not copied: o must outlive c) and names (may
 * be NULL: numbers instead of names). field_ctx_finish frees the scratch.
 */
void field_ctx_init(struct field_ctx *c, const struct render_opts *o, struct names *names);
void field_ctx_finish(struct field_ctx *c);

struct field {
	const char *title;    /* table column title; NULL: no column */
	const char *key;      /* JSON key; NULL: not in JSON */
	uint8_t table_needs;  /* enum field_need bits the column needs */
	uint8_t json_needs;   /* enum field_need bits the key needs */
	/*
	 * The cell follows from the socket's kind alone (proto, family, type,
	 * state), so a buffered table need not store its text.
	 */
	bool from_kind;
	/*
	 * Appends the table cell: escaped, never empty, no newline. The last
	 * column (Process) is formatted from owners, uid, has_uid and inode
	 * alone, since a buffered table keeps nothing else for it.
	 */
	void (*cell)(struct field_ctx *c, struct buf *b, const struct sock *s);
	/* Writes the JSON value (after the key). */
	void (*json)(struct field_ctx *c, struct json *j, const struct sock *s);
	/* Whether s has the JSON key at all; NULL means every socket has it. */
	bool (*has)(const struct sock *s);
};

/* The schema, indexed by enum field_id; Process is the last column. */
extern const struct field field_table[FIELD_COUNT];

/* The enum field_need bits that options o turn on. */
unsigned field_have(const struct render_opts *o);

/* Whether a field needing needs is shown when have (field_have) is on. */
static inline bool field_shown(unsigned needs, unsigned have)
{
	return (needs & ~have) == 0;
}

/*
 * Whether the kernel's uid of s means anything: a socket without a file
 * (inode 0: TIME_WAIT, orphaned, not yet accepted) has a placeholder 0.
 */
static inline bool field_uid_known(const struct sock *s)
{
	return s->has_uid && s->inode != 0;
}

#endif
