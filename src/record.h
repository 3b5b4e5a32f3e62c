#ifndef SRC_RECORD_H
#define SRC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "nl.h"
#include "procnet.h"

/*
 * --record FILE and --replay FILE: the raw sock_diag conversation of a run
 * and the /proc text its fallback read, saved so that a later run lists
 * exactly the same sockets without the kernel that had them.
 *
 * The file format, version 1. Every integer is little-endian.
 *
 *   header   8 bytes "SSRECORD", u32 version (1), u32 flags (0)
 *   record   u32 kind, u32 length, length bytes of data, then zero
 *            bytes up to a multiple of 4
 *
 * Kinds:
 *   1 REQUEST  a netlink request as sent (at least a struct nlmsghdr)
 *   2 REPLY    one datagram as received after the last REQUEST, at most
 *              65536 bytes
 *   3 ERROR    a receive that failed after the last REQUEST: 4 bytes,
 *              the negative errno
 *   4 PROCFILE u16 name length, the name (relative to /proc, "net/tcp";
 *              no leading '/', no "..", no NUL), then the file's text
 *   5 END      no data; the last record, so a cut file is told apart
 *
 * Replies keep the portid and sequence numbers of the recording run;
 * replay gives each datagram the numbers of the request it answers.
 */

enum { RECORD_VERSION = 1 };

/* A recording being made; zero-initialise, then record_init. */
struct record {
	struct buf b;
};

void record_init(struct record *r);
void record_finish(struct record *r); /* NULL-safe */

/* The observer and tap that append to r; r must outlive their use. */
struct nl_observer record_observer(struct record *r);
struct procnet_tap record_tap(struct record *r);

/*
 * Ends the recording and writes it to path atomically (outfile.h).
 * Returns 0 or a negative errno (-ENOMEM when the recording ran out of
 * memory, else what writing the file said).
 */
int record_save(struct record *r, const char *path);

/* A recording being replayed. */
struct replay {
	unsigned char *data; /* owned */
	size_t len;
	size_t next;         /* where the search for the next request starts */
	size_t reply;        /* the next REPLY or ERROR to hand out; 0: none */
	uint32_t seq;        /* the sequence number of the request answered */
	bool missing;        /* the request is not in the recording */
};

/* Why a recording was refused: where, and what was wrong there. */
struct replay_error {
	size_t offset;
	const char *why;     /* static text */
};

/*
 * Checks len bytes of a recording and takes them over (rp->data owns data
 * on success; the caller frees it on failure). Never reads outside
 * [data, data + len). Returns 0, or -EINVAL with e filled.
 */
int replay_parse(struct replay *rp, unsigned char *data, size_t len, struct replay_error *e);

/*
 * Reads and checks the recording at path. Returns 0; a negative errno
 * when the file cannot be read; or -EINVAL with e filled.
 */
int replay_load(struct replay *rp, const char *path, struct replay_error *e);

void replay_finish(struct replay *rp); /* NULL-safe */

/*
 * The fake kernel that answers from rp: each request gets the replies
 * recorded after a request for the same dump (message type, family and
 * protocol; states, extensions and bytecode aside, as the listing applies
 * those again), the first not yet used; a request never recorded gets ENOENT, as from a
 * kernel without that diag module. The tap serves the recorded /proc text
 * and -ENOENT for a file the recording run did not read.
 */
struct nl_transport replay_transport(struct replay *rp);
struct procnet_tap replay_tap(struct replay *rp);

#endif
