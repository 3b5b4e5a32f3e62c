/*
 * Tests for the protocol table, and the proof that it is the only list of
 * protocols: every row is gathered, through the fake kernel and through a
 * fixture /proc, by walking the table alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include "fakekernel.h"
#include "gather.h"
#include "proto.h"
#include "sock.h"
#include "socklist.h"

#define PROC_FIXTURE TEST_DATA "/proto/proc"

static void test_rows_complete(void **state)
{
	(void)state;
	unsigned all_fams = 0;
	for (int p = 0; p < PROTO_COUNT; p++) {
		const struct proto_desc *d = proto_get((enum proto)p);
		assert_non_null(d);
		assert_ptr_equal(d, &proto_table[p]);
		assert_non_null(d->name);
		assert_string_equal(proto_name((enum proto)p), d->name);
		assert_int_equal(proto_by_name(d->name, strlen(d->name)), p);
		/* Inet rows name their inet_diag protocol; the others have their own handler. */
		if (d->diag == PROTO_DIAG_INET)
			assert_int_not_equal(d->diag_protocol, 0);
		else
			assert_false(d->bytecode);
		assert_non_null(d->families[0].column);
		unsigned fams = 0;
		for (size_t i = 0; i < PROTO_FAMILIES_MAX && d->families[i].af; i++) {
			const struct proto_family *f = &d->families[i];
			assert_ptr_equal(proto_family((enum proto)p, f->af), f);
			assert_non_null(f->column);
			assert_non_null(f->fname);
			size_t n = strlen(PROTO_PROC_PREFIX);
			if (f->procfile)
				assert_memory_equal(f->procfile, PROTO_PROC_PREFIX, n);
			/* One bit per family, and the same family always has the same bit. */
			assert_int_equal(__builtin_popcount(f->fam), 1);
			fams |= f->fam;
		}
		assert_int_equal(proto_families((enum proto)p), fams);
		all_fams |= fams;
		if (d->services)
			assert_int_equal(proto_services_id((enum proto)p),
					 proto_services_by_name(d->services, strlen(d->services)));
		else
			assert_int_equal(proto_services_id((enum proto)p), -ENOENT);
	}
	assert_int_equal(all_fams, FAM_ALL);
	assert_null(proto_get(PROTO_COUNT));
	assert_string_equal(proto_name(PROTO_COUNT), "unknown");
	assert_int_equal(proto_families(PROTO_COUNT), 0);
	assert_int_equal(proto_by_name("tc", 2), -ENOENT);
	assert_int_equal(proto_by_name("tcpx", 4), -ENOENT);
}

static void test_columns(void **state)
{
	(void)state;
	assert_string_equal(proto_column(PROTO_TCP, AF_INET, SOCK_STREAM), "tcp");
	assert_string_equal(proto_column(PROTO_TCP, AF_INET6, SOCK_STREAM), "tcp6");
	assert_string_equal(proto_column(PROTO_UDPLITE, AF_INET6, SOCK_DGRAM), "udplite6");
	assert_string_equal(proto_column(PROTO_RAW, AF_INET, SOCK_RAW), "raw");
	/* UNIX rows say their type as ss does. */
	assert_string_equal(proto_column(PROTO_UNIX, AF_UNIX, SOCK_STREAM), "u_str");
	assert_string_equal(proto_column(PROTO_UNIX, AF_UNIX, SOCK_DGRAM), "u_dgr");
	assert_string_equal(proto_column(PROTO_UNIX, AF_UNIX, SOCK_SEQPACKET), "u_seq");
	assert_string_equal(proto_column(PROTO_UNIX, AF_UNIX, 0), "unix");
	assert_string_equal(proto_column(PROTO_PACKET, AF_PACKET, SOCK_RAW), "packet");
	assert_string_equal(proto_column(PROTO_PACKET, AF_PACKET, SOCK_DGRAM), "packet");
	assert_string_equal(proto_column(PROTO_TCP, AF_UNIX, SOCK_STREAM), "?");
	assert_string_equal(proto_column(PROTO_COUNT, AF_INET, SOCK_STREAM), "?");
	assert_null(proto_family(PROTO_UNIX, AF_INET));
	assert_null(proto_family(PROTO_TCP, 0));
}

static void test_services(void **state)
{
	(void)state;
	int tcp = proto_services_by_name("tcp", 3);
	int udp = proto_services_by_name("udp", 3);
	assert_true(tcp >= 0 && tcp < PROTO_COUNT);
	assert_true(udp >= 0 && udp < PROTO_COUNT);
	assert_int_not_equal(tcp, udp);
	assert_int_equal(proto_services_id(PROTO_TCP), tcp);
	assert_int_equal(proto_services_id(PROTO_UDP), udp);
	/* UDP-Lite ports are named from the udp table. */
	assert_int_equal(proto_services_id(PROTO_UDPLITE), udp);
	assert_int_equal(proto_services_id(PROTO_RAW), -ENOENT);
	assert_int_equal(proto_services_id(PROTO_UNIX), -ENOENT);
	assert_int_equal(proto_services_by_name("sctp", 4), -ENOENT);
	assert_int_equal(proto_services_by_name("udplite", 7), -ENOENT);
}

/*
 * The fake kernel answers every request with one socket in the layout of
 * the handler the request's family asks (which is all a script can see),
 * so a new row of an existing kind is answered without a new script.
 */
static void script_one_each(struct fake_kernel *k, const struct fake_request *r, int attempt)
{
	(void)attempt;
	struct fake_dgram *d = fake_dgram(k);
	switch (r->family) {
	case AF_INET:
	case AF_INET6:
		fake_put_inet(d, r->seq, r->family, SS_ESTABLISHED, 1000, 7, 0);
		break;
	case AF_UNIX:
		fake_put_unix(d, r->seq, SOCK_STREAM, SS_ESTABLISHED, 1007, 7);
		break;
	case AF_PACKET:
		fake_put_packet(d, r->seq, SOCK_RAW, 3, 1007, 7);
		break;
	case AF_NETLINK:
		fake_put_netlink(d, r->seq, 0, 1234, 1008, 7);
		break;
	default:
		fake_put_error(d, r->seq, -ENOENT);
		return;
	}
	fake_put_done(d, r->seq, 0);
}

static void test_every_row_gathered(void **state)
{
	(void)state;
	static struct fake_kernel k;
	struct nl_transport t = fake_transport(&k);
	for (int p = 0; p < PROTO_COUNT; p++) {
		const struct proto_desc *d = proto_get((enum proto)p);
		for (size_t i = 0; i < PROTO_FAMILIES_MAX && d->families[i].af; i++) {
			const struct proto_family *f = &d->families[i];
			struct gather_request req = {
				.protos = PROTO_BIT(p),
				.families = f->fam,
				.states = STATES_ALL,
				.source = SOURCE_NETLINK,
				.proc_root = PROC_FIXTURE,
				.transport = &t,
			};
			/* Through netlink: one request, for this family and protocol. */
			fake_reset(&k);
			struct socklist l;
			struct gather_error err = {0};
			if (d->diag == PROTO_DIAG_NONE) {
				/* Only /proc lists it: the kernel is not even asked. */
				socklist_init(&l);
				assert_int_equal(gather_run(&req, socklist_sink, &l, &err), 0);
				assert_int_equal(k.nlog, 0);
				assert_true(l.len >= 1);
				socklist_finish(&l);
				continue;
			}
			k.script = script_one_each;
			socklist_init(&l);
			assert_int_equal(gather_run(&req, socklist_sink, &l, &err), 0);
			assert_int_equal(k.nlog, 1);
			assert_int_equal(k.log[0].family, f->af);
			if (d->diag == PROTO_DIAG_INET)
				assert_int_equal(k.log[0].protocol, (uint8_t)d->diag_protocol);
			assert_int_equal(l.len, 1);
			assert_int_equal(l.v[0].proto, p);
			assert_int_equal(l.v[0].family, f->af);
			assert_int_equal(l.v[0].cookie, 7);
			assert_string_not_equal(sock_proto_name(&l.v[0]), "?");
			socklist_finish(&l);

			/* Through the fixture /proc: every file the table names has a socket. */
			if (!f->procfile)
				continue;
			req.source = SOURCE_PROC;
			socklist_init(&l);
			assert_int_equal(gather_run(&req, socklist_sink, &l, &err), 0);
			assert_true(l.len >= 1);
			for (size_t j = 0; j < l.len; j++) {
				assert_int_equal(l.v[j].proto, p);
				assert_int_equal(l.v[j].family, f->af);
				assert_string_not_equal(sock_proto_name(&l.v[j]), "?");
			}
			socklist_finish(&l);
		}
	}
}

/* The UNIX Proto column from both sources: each type as ss spells it. */
static void test_unix_types(void **state)
{
	(void)state;
	struct gather_request req = {
		.protos = PROTO_BIT(PROTO_UNIX),
		.families = FAM_UNIX,
		.states = STATES_ALL,
		.source = SOURCE_PROC,
		.proc_root = PROC_FIXTURE,
	};
	struct socklist l;
	socklist_init(&l);
	struct gather_error err = {0};
	assert_int_equal(gather_run(&req, socklist_sink, &l, &err), 0);
	assert_int_equal(l.len, 3);
	assert_string_equal(sock_proto_name(&l.v[0]), "u_str");
	assert_string_equal(sock_proto_name(&l.v[1]), "u_dgr");
	assert_string_equal(sock_proto_name(&l.v[2]), "u_seq");
	/* JSON keeps the protocol's own name and family. */
	for (size_t i = 0; i < l.len; i++) {
		assert_string_equal(proto_name((enum proto)l.v[i].proto), "unix");
		assert_string_equal(sock_family_name(&l.v[i]), "unix");
	}
	socklist_finish(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_complete),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_every_row_gathered),
		cmocka_unit_test(test_unix_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
