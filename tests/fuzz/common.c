/* What every fuzz target shares, with libFuzzer and with replay.c. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_init() != 0) {
		fprintf(stderr, "fuzz: set-up failed\n");
		abort();
	}
	return 0;
}

_Noreturn void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: invariant broken: %s\n", what);
	abort();
}
