/*
 * Runs a fuzz target over saved inputs: every regular file of every
 * directory given (not recursive), and every file given directly. This is
 * how CI replays the corpora without libFuzzer. A path that cannot be read,
 * or a run that finds no input at all, is a failure: a corpus that moved
 * must not turn the test into a silent pass.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* An exactly sized heap copy, so reads past the end are caught. */
	size_t cap = 4096, len = 0;
	unsigned char *p = malloc(cap);
	for (;;) {
		if (!p) {
			fclose(f);
			fprintf(stderr, "replay: %s: out of memory\n", path);
			return -1;
		}
		len += fread(p + len, 1, cap - len, f);
		if (len < cap)
			break;
		cap *= 2;
		unsigned char *q = realloc(p, cap);
		if (!q)
			free(p);
		p = q;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(p);
		fprintf(stderr, "replay: %s: read error\n", path);
		return -1;
	}
	unsigned char *exact = malloc(len ? len : 1);
	if (!exact) {
		free(p);
		return -1;
	}
	memcpy(exact, p, len);
	free(p);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir, in name order so failures reproduce. */
static int run_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **q = realloc(names, cap * sizeof(*q));
			if (!q) {
				err = -1;
				break;
			}
			names = q;
		}
		size_t l = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(l);
		if (!names[n]) {
			err = -1;
			break;
		}
		snprintf(names[n], l, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (!err && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(names[i]) < 0)
				err = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (fuzz_init() != 0) {
		fprintf(stderr, "replay: set-up failed\n");
		return 1;
	}
	unsigned count = 0;
	int err = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			err = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) < 0)
				err = 1;
		} else if (run_file(argv[i]) < 0) {
			err = 1;
		} else {
			count++;
		}
	}
	printf("replay: %u inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	return err;
}
