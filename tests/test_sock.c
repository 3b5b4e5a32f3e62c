/* Tests for the record type, the protocol table, the arena and struct buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"
#include "buf.h"
#include "sock.h"
#include "socklist.h"

static void test_state_names(void **state)
{
	(void)state;
	struct sock s = {.proto = PROTO_TCP, .family = AF_INET, .state = SS_LISTEN};
	assert_string_equal(sock_state_name(&s), "LISTEN");
	s.state = SS_CLOSE;
	assert_string_equal(sock_state_name(&s), "CLOSE");
	s.state = SS_NEW_SYN_RECV;
	assert_string_equal(sock_state_name(&s), "NEW_SYN_RECV");
	s.state = 200;
	assert_string_equal(sock_state_name(&s), "UNKNOWN");
	/* An unconnected datagram socket is UNCONN, a connected one ESTABLISHED. */
	const enum proto dgram[] = {PROTO_UDP, PROTO_UDPLITE, PROTO_RAW, PROTO_UNIX, PROTO_PACKET};
	for (size_t i = 0; i < sizeof(dgram) / sizeof(dgram[0]); i++) {
		struct sock d = {.proto = (uint8_t)dgram[i], .state = SS_CLOSE};
		assert_string_equal(sock_state_name(&d), "UNCONN");
		d.state = SS_ESTABLISHED;
		assert_string_equal(sock_state_name(&d), "ESTABLISHED");
	}
	assert_null(state_name(SS_MAX));
	assert_null(state_name(0));
}

static void test_proto_names(void **state)
{
	(void)state;
	struct sock s = {.proto = PROTO_TCP, .family = AF_INET6};
	assert_string_equal(sock_proto_name(&s), "tcp6");
	assert_string_equal(sock_family_name(&s), "inet6");
	assert_int_equal(sock_fam_bit(&s), FAM_INET6);
	s.proto = PROTO_UDPLITE;
	assert_string_equal(sock_proto_name(&s), "udplite6");
	s.family = AF_INET;
	assert_string_equal(sock_proto_name(&s), "udplite");
	s.proto = PROTO_RAW;
	assert_string_equal(sock_proto_name(&s), "raw");
	s.proto = PROTO_UNIX;
	s.family = AF_UNIX;
	assert_string_equal(sock_family_name(&s), "unix");
	/* UNIX sockets show their type as ss spells it. */
	s.type = SOCK_STREAM;
	assert_string_equal(sock_proto_name(&s), "u_str");
	s.type = SOCK_DGRAM;
	assert_string_equal(sock_proto_name(&s), "u_dgr");
	s.type = SOCK_SEQPACKET;
	assert_string_equal(sock_proto_name(&s), "u_seq");
	s.type = 0;
	assert_string_equal(sock_proto_name(&s), "unix");
	s.proto = PROTO_PACKET;
	s.family = AF_PACKET;
	assert_string_equal(sock_proto_name(&s), "packet");
	assert_int_equal(sock_fam_bit(&s), FAM_PACKET);
	s.type = SOCK_RAW;
	assert_string_equal(sock_proto_name(&s), "packet");
	s.proto = PROTO_COUNT;
	assert_string_equal(sock_proto_name(&s), "?");
	assert_string_equal(sock_family_name(&s), "unknown");
	assert_int_equal(sock_fam_bit(&s), 0);
	/* A family the protocol cannot have is nonsense, not a guess. */
	s.proto = PROTO_TCP;
	s.family = AF_UNIX;
	assert_string_equal(sock_proto_name(&s), "?");
}

static void test_state_masks(void **state)
{
	(void)state;
	assert_int_equal(STATES_ALL & STATES_DEFAULT, STATES_DEFAULT);
	assert_int_equal(STATES_DEFAULT & STATES_LISTENING, 0);
	assert_int_equal(STATES_DEFAULT | STATES_LISTENING, STATES_ALL);
	assert_false(STATES_ALL & 1u);
}

static void test_arena(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a);
	char *prev = NULL;
	/* Many small allocations and one larger than a block all stay valid. */
	for (int i = 0; i < 100000; i++) {
		char *p = arena_alloc(&a, 24);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, i & 0xff, 24);
		if (prev)
			assert_int_equal((unsigned char)prev[23], (unsigned char)((i - 1) & 0xff));
		prev = p;
	}
	char *big = arena_alloc(&a, 20 * 1024 * 1024);
	assert_non_null(big);
	memset(big, 1, 20 * 1024 * 1024);
	char *s = arena_strndup(&a, "ab\0cd", 5);
	assert_memory_equal(s, "ab\0cd", 6);
	assert_non_null(arena_alloc(&a, 0));
	assert_null(arena_alloc(&a, SIZE_MAX - 4));
	arena_finish(&a);
	arena_finish(NULL);
}

static void test_buf(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	buf_adds(&b, "x=");
	buf_addu(&b, 0);
	buf_addc(&b, ',');
	buf_addu(&b, 18446744073709551615ull);
	buf_printf(&b, " %s|%05d", "long", 42);
	assert_true(buf_ok(&b));
	assert_string_equal(b.p, "x=0,18446744073709551615 long|00042");
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_reset(&b);
	buf_printf(&b, "%s", big);
	assert_int_equal(b.len, sizeof(big) - 1);
	assert_string_equal(b.p, big);

	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	assert_int_equal(buf_flush(&b, f), 0);
	assert_int_equal(b.len, 0);
	fclose(f);
	assert_int_equal(memlen, sizeof(big) - 1);
	free(mem);
	buf_finish(&b);
	buf_finish(NULL);
}

static void test_socklist_copies(void **state)
{
	(void)state;
	struct socklist l;
	socklist_init(&l);
	char path[] = "\0abstract";
	struct sock_tcpinfo info = {.rtt_us = 50, .cong = "cubic"};
	struct sock_meminfo mem = {.v = {1, 2, 3}, .count = 3};
	struct sock s = {.proto = PROTO_UNIX, .family = AF_UNIX, .path = path,
			 .path_len = sizeof(path) - 1, .info = &info, .mem = &mem, .inode = 7};
	for (int i = 0; i < 5000; i++) {
		s.inode = (uint64_t)i;
		assert_int_equal(socklist_add(&l, &s), 0);
	}
	/* The list holds its own copies: change the originals. */
	memset(path, 'x', sizeof(path));
	info.rtt_us = 0;
	mem.v[0] = 0;
	assert_int_equal(l.len, 5000);
	assert_int_equal(l.v[4999].inode, 4999);
	assert_memory_equal(l.v[123].path, "\0abstract", 9);
	assert_int_equal(l.v[123].info->rtt_us, 50);
	assert_string_equal(l.v[123].info->cong, "cubic");
	assert_int_equal(l.v[123].mem->v[0], 1);
	socklist_finish(&l);
	socklist_finish(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_proto_names),
		cmocka_unit_test(test_state_masks),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_socklist_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
