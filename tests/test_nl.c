#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diag.h"
#include "fakekernel.h"
#include "nl.h"

/* The replies of each test are queued up front; everything sent is logged. */
static struct fake_kernel fake;

static struct nl *open_fake(void)
{
	struct nl_transport t = fake_transport(&fake);
	struct nl *nl = NULL;
	assert_int_equal(nl_create(&nl, &t), 0);
	assert_non_null(nl);
	return nl;
}

static int setup(void **state)
{
	(void)state;
	fake_reset(&fake);
	return 0;
}

static struct fake_dgram *new_dgram(void)
{
	return fake_dgram(&fake);
}

/* Appends a message with a payload of plen bytes holding tag. */
static struct nlmsghdr *put(struct fake_dgram *d, uint16_t type, uint16_t flags, uint32_t seq,
			    uint32_t pid, size_t plen, uint32_t tag)
{
	struct nlmsghdr *nlh = fake_put(d, type, flags, seq, pid, plen);
	if (plen >= sizeof(tag))
		memcpy(NLMSG_DATA(nlh), &tag, sizeof(tag));
	return nlh;
}

static void put_sock(struct fake_dgram *d, uint32_t seq, uint32_t tag)
{
	put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0, 16, tag);
}

/* Records the tags of the messages handed to the callback. */
struct seen {
	uint32_t tags[64];
	int n;
	int fail_at; /* return -ECANCELED on this call (1-based); 0: never */
};

static int collect(const struct nlmsghdr *nlh, void *arg)
{
	struct seen *s = arg;
	assert_true(nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(uint32_t)));
	assert_true(s->n < 64);
	memcpy(&s->tags[s->n++], NLMSG_DATA(nlh), sizeof(uint32_t));
	if (s->fail_at && s->n == s->fail_at)
		return -ECANCELED;
	return 0;
}

/* A minimal valid request with the given sequence. */
static int dump(struct nl *nl, uint32_t seq, struct seen *seen)
{
	struct nlmsghdr req;
	memset(&req, 0, sizeof(req));
	req.nlmsg_len = sizeof(req);
	req.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nlmsg_seq = seq;
	return nl_dump(nl, &req, sizeof(req), collect, seen);
}

static void test_multi_datagram(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	struct fake_dgram *d = new_dgram();
	put_sock(d, seq, 1);
	put_sock(d, seq, 2);
	put_sock(d, seq, 3);
	d = new_dgram();
	put_sock(d, seq, 4);
	put(d, NLMSG_NOOP, 0, seq, 0, 4, 99);
	put(d, NLMSG_OVERRUN, 0, seq, 0, 4, 98);
	put_sock(d, seq, 5);
	fake_put_done(new_dgram(), seq, 0);
	fake_recv_error(&fake, -ETIMEDOUT); /* must never be reached */

	struct seen seen = {0};
	assert_int_equal(dump(nl, seq, &seen), 0);
	assert_int_equal(fake.nlog, 1);
	assert_int_equal(fake.log[fake.nlog - 1].seq, seq);
	assert_int_equal(seen.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(seen.tags[i], i + 1);
	assert_int_equal(fake.qnext, 3);
	nl_destroy(nl);
}

static void test_foreign_ignored(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	struct fake_dgram *d = new_dgram();
	/* Leftovers of an earlier, aborted dump, including its DONE and ERROR. */
	put_sock(d, seq - 1, 100);
	fake_put_done(d, seq - 1, 0);
	fake_put_error(d, seq - 1, -ENOENT);
	put_sock(d, seq, 1);
	/* Someone else's portid. */
	put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 4321, 16, 200);
	put(d, NLMSG_DONE, NLM_F_MULTI, seq, 4321, 4, 0);
	put_sock(d, seq, 2);
	fake_put_done(d, seq, 0);

	struct seen seen = {0};
	assert_int_equal(dump(nl, seq, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.tags[0], 1);
	assert_int_equal(seen.tags[1], 2);
	nl_destroy(nl);
}

static void test_nlmsg_error(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	fake_put_error(new_dgram(), seq, -ENOENT);
	struct seen seen = {0};
	assert_int_equal(dump(nl, seq, &seen), -ENOENT);
	assert_int_equal(seen.n, 0);

	/* An ACK (error 0) ends the conversation successfully. */
	seq = nl_next_seq(nl);
	fake_put_error(new_dgram(), seq, 0);
	assert_int_equal(dump(nl, seq, &seen), 0);

	/* A positive or absurd error is not passed on as is. */
	seq = nl_next_seq(nl);
	fake_put_error(new_dgram(), seq, EOPNOTSUPP);
	assert_int_equal(dump(nl, seq, &seen), -EOPNOTSUPP);
	seq = nl_next_seq(nl);
	fake_put_error(new_dgram(), seq, -100000);
	assert_int_equal(dump(nl, seq, &seen), -EPROTO);

	/* An error message too short to hold its code. */
	seq = nl_next_seq(nl);
	put(new_dgram(), NLMSG_ERROR, 0, seq, 0, 2, 0);
	assert_int_equal(dump(nl, seq, &seen), -EBADMSG);

	/* DONE can carry the error of a dump that failed part way. */
	seq = nl_next_seq(nl);
	struct fake_dgram *d = new_dgram();
	put_sock(d, seq, 7);
	fake_put_done(d, seq, -ENOMEM);
	assert_int_equal(dump(nl, seq, &seen), -ENOMEM);
	assert_int_equal(seen.n, 1);

	/* A DONE without payload is an ordinary end. */
	seq = nl_next_seq(nl);
	put(new_dgram(), NLMSG_DONE, NLM_F_MULTI, seq, 0, 0, 0);
	assert_int_equal(dump(nl, seq, &seen), 0);
	nl_destroy(nl);
}

static void test_transport_errors(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	put_sock(new_dgram(), seq, 1);
	fake_recv_error(&fake, -ENOBUFS);
	struct seen seen = {0};
	assert_int_equal(dump(nl, seq, &seen), -ENOBUFS);
	assert_int_equal(seen.n, 1);

	/* A signal during recv() is not an error. */
	seq = nl_next_seq(nl);
	fake_recv_error(&fake, -EINTR);
	put_sock(new_dgram(), seq, 2);
	fake_recv_error(&fake, -EINTR);
	fake_put_done(new_dgram(), seq, 0);
	seen.n = 0;
	assert_int_equal(dump(nl, seq, &seen), 0);
	assert_int_equal(seen.n, 1);

	/* End of file: the conversation is broken. */
	seq = nl_next_seq(nl);
	new_dgram(); /* a zero-length datagram */
	assert_int_equal(dump(nl, seq, &seen), -EIO);

	/* send() failing or sending short. */
	fake.send_ret = -EPERM;
	assert_int_equal(dump(nl, nl_next_seq(nl), &seen), -EPERM);
	fake.send_ret = 3;
	assert_int_equal(dump(nl, nl_next_seq(nl), &seen), -EIO);
	fake.send_ret = 0;

	/* A request too short to be one is refused before sending. */
	int sends = fake.nlog;
	assert_int_equal(nl_dump(nl, "x", 1, collect, &seen), -EINVAL);
	assert_int_equal(fake.nlog, sends);
	nl_destroy(nl);
}

static void test_dump_intr(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	struct fake_dgram *d = new_dgram();
	put_sock(d, seq, 1);
	put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | NLM_F_DUMP_INTR, seq, 0, 16, 2);
	d = new_dgram();
	put_sock(d, seq, 3);
	fake_put_done(d, seq, 0);
	struct seen seen = {0};
	/* Every message is still delivered; only the verdict changes. */
	assert_int_equal(dump(nl, seq, &seen), -EINTR);
	assert_int_equal(seen.n, 3);
	assert_int_equal(fake.qnext, fake.qlen);

	/* The flag on DONE alone counts too. */
	seq = nl_next_seq(nl);
	put(new_dgram(), NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, seq, 0, 4, 0);
	assert_int_equal(dump(nl, seq, &seen), -EINTR);

	/* A flag on someone else's message does not. */
	seq = nl_next_seq(nl);
	d = new_dgram();
	put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | NLM_F_DUMP_INTR, seq + 5, 0, 16, 9);
	fake_put_done(d, seq, 0);
	assert_int_equal(dump(nl, seq, &seen), 0);
	nl_destroy(nl);
}

static void test_truncated(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	struct fake_dgram *d = new_dgram();
	put_sock(d, seq, 1);
	struct nlmsghdr *bad = put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0, 16, 2);
	put_sock(d, seq, 3);
	/* The second message claims more than the datagram holds. */
	bad->nlmsg_len = 4000;
	d = new_dgram();
	put_sock(d, seq, 4);
	fake_put_done(d, seq, 0);

	struct seen seen = {0};
	assert_int_equal(dump(nl, seq, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.tags[0], 1);
	assert_int_equal(seen.tags[1], 4);

	/* A length shorter than the header itself, then a stray tail. */
	seq = nl_next_seq(nl);
	d = new_dgram();
	put_sock(d, seq, 5);
	bad = put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0, 16, 6);
	fake_put_done(d, seq, 0);
	bad->nlmsg_len = 8;
	d = new_dgram();
	put_sock(d, seq, 7);
	d->len += 5; /* bytes that cannot hold a header */
	d = new_dgram();
	bad = put(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, 0, 16, 8);
	bad->nlmsg_len = 0; /* would loop forever if trusted */
	fake_put_done(new_dgram(), seq, 0);
	seen.n = 0;
	assert_int_equal(dump(nl, seq, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.tags[0], 5);
	assert_int_equal(seen.tags[1], 7);
	nl_destroy(nl);
}

static void test_callback_abort(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t seq = nl_next_seq(nl);
	struct fake_dgram *d = new_dgram();
	put_sock(d, seq, 1);
	put_sock(d, seq, 2);
	put_sock(d, seq, 3);
	fake_put_done(d, seq, 0);
	struct seen seen = {.fail_at = 2};
	assert_int_equal(dump(nl, seq, &seen), -ECANCELED);
	assert_int_equal(seen.n, 2);
	nl_destroy(nl);
}

static void test_seq(void **state)
{
	(void)state;
	struct nl *nl = open_fake();
	uint32_t a = nl_next_seq(nl);
	uint32_t b = nl_next_seq(nl);
	assert_int_not_equal(a, 0);
	assert_int_equal(b, a + 1);
	nl_destroy(nl);
	nl_destroy(NULL);
}

/* The real transport against this kernel: a UNIX dump always exists. */
static int count(const struct nlmsghdr *nlh, void *arg)
{
	struct sock s;
	struct diag_scratch sc;
	if (diag_parse(nlh, PROTO_UNIX, &s, &sc) == 0)
		++*(int *)arg;
	return 0;
}

static void test_real_socket(void **state)
{
	(void)state;
	struct nl *nl = NULL;
	assert_int_equal(nl_create(&nl, NULL), 0);
	/* A socket of our own, so the dump cannot be empty. */
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	union {
		uint64_t align;
		unsigned char b[256];
	} req;
	struct diag_request r = {.proto = PROTO_UNIX, .states = STATES_ALL};
	size_t len = diag_build_request(req.b, sizeof(req.b), &r, nl_next_seq(nl));
	assert_true(len > 0);
	int n = 0;
	assert_int_equal(nl_dump(nl, req.b, len, count, &n), 0);
	assert_true(n >= 1);

	/* The same socket serves a second request. */
	r.states = 0;
	len = diag_build_request(req.b, sizeof(req.b), &r, nl_next_seq(nl));
	n = 0;
	assert_int_equal(nl_dump(nl, req.b, len, count, &n), 0);
	assert_int_equal(n, 0);
	close(fd);
	nl_destroy(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_multi_datagram, setup),
		cmocka_unit_test_setup(test_foreign_ignored, setup),
		cmocka_unit_test_setup(test_nlmsg_error, setup),
		cmocka_unit_test_setup(test_transport_errors, setup),
		cmocka_unit_test_setup(test_dump_intr, setup),
		cmocka_unit_test_setup(test_truncated, setup),
		cmocka_unit_test_setup(test_callback_abort, setup),
		cmocka_unit_test_setup(test_seq, setup),
		cmocka_unit_test_setup(test_real_socket, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
