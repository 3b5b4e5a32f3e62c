#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * The libFuzzer entry point every target defines. The same target links
 * either with libFuzzer (-Dfuzz=true, clang) or with replay.c, which runs
 * it over a saved corpus so that CI replays every seed and every past
 * crash with any compiler.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Called once before the first input (by libFuzzer through
 * LLVMFuzzerInitialize, by replay.c directly). Targets that need no set-up
 * define it empty.
 */
int fuzz_init(void);

/* libFuzzer calls this once; it runs fuzz_init and aborts if that fails. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Reports a broken invariant and aborts, so that libFuzzer records the
 * input and replay fails. A fuzz target is the one place where aborting is
 * the right reaction: the point is to stop at the first wrong answer.
 */
_Noreturn void fuzz_fail(const char *what);

#endif
