/*
 * Times the two owners backends on the live system: the BPF iterator's
 * load and one read, against one /proc walk (owners_scan), medians of
 * RUNS runs, and checks that every holder the iterator reports is one the
 * /proc walk found too (a CLONE_FILES thread's sockets aside, which only
 * the iterator sees). Usage: bpfbench [RUNS]; root, HAVE_BPF builds only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "owners.h"
#include "owners_bpf.h"

static double clock_ms(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Wall time is what a user waits; CPU time (user and kernel, all threads:
 * the iterator runs in the reader's read()) is what survives a busy
 * machine, so both are kept.
 */
struct stamp {
	double wall, cpu;
};

static struct stamp now(void)
{
	return (struct stamp){clock_ms(CLOCK_MONOTONIC), clock_ms(CLOCK_PROCESS_CPUTIME_ID)};
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

struct tally {
	const struct owners *o; /* NULL: count only */
	long recs, missing;
};

static int count(void *arg, const struct owners_bpf_rec *r)
{
	struct tally *t = arg;
	t->recs++;
	if (!t->o)
		return 0;
	const struct owner *w = owners_lookup(t->o, r->inode);
	while (w && !(w->pid == r->pid && w->fd == r->fd))
		w = w->next;
	if (!w && t->missing++ < 5)
		fprintf(stderr, "missing: pid %d tid %d fd %d inode %llu comm %s\n", r->pid, r->tid, r->fd,
			(unsigned long long)r->inode, r->comm);
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	if (runs < 1 || runs > 100)
		runs = 5;
	double load[100], rd[100], scan[100], loadc[100], rdc[100], scanc[100];
	struct tally t = {0};
	for (int i = 0; i < runs; i++) {
		char why[200];
		struct owners_bpf *b;
		struct stamp t0 = now();
		if (owners_bpf_open(&b, why, sizeof(why)) != 0) {
			fprintf(stderr, "bpfbench: %s\n", why);
			return 1;
		}
		struct stamp t1 = now();
		t = (struct tally){0};
		if (owners_bpf_read(b, count, &t) != 0)
			return 1;
		struct stamp t2 = now();
		owners_bpf_close(b);
		struct owners *o;
		/* The /proc backend by name: "auto" would pick the iterator. */
		if (owners_create(&o) != 0 || owners_set_backend(o, "proc") != 0)
			return 1;
		struct stamp t3 = now();
		if (owners_scan(o, "/proc") != 0)
			return 1;
		struct stamp t4 = now();
		owners_destroy(o);
		load[i] = t1.wall - t0.wall;
		rd[i] = t2.wall - t1.wall;
		scan[i] = t4.wall - t3.wall;
		loadc[i] = t1.cpu - t0.cpu;
		rdc[i] = t2.cpu - t1.cpu;
		scanc[i] = t4.cpu - t3.cpu;
	}
	/* One more read, checked against a fresh scan. */
	struct owners *o;
	struct owners_bpf *b;
	char why[200];
	if (owners_create(&o) != 0 || owners_set_backend(o, "proc") != 0 ||
	    owners_scan(o, "/proc") != 0 ||
	    owners_bpf_open(&b, why, sizeof(why)) != 0)
		return 1;
	struct tally chk = {o, 0, 0};
	owners_bpf_read(b, count, &chk);
	owners_bpf_close(b);
	owners_destroy(o);
	printf("socket fds %ld (not found by the /proc walk: %ld)\n", t.recs, chk.missing);
	double n = (double)(t.recs ? t.recs : 1);
	printf("%-11s %10s %10s %14s\n", "medians", "wall ms", "cpu ms", "cpu ns per fd");
	printf("%-11s %10.1f %10.1f\n", "bpf load", median(load, runs), median(loadc, runs));
	printf("%-11s %10.1f %10.1f %14.0f\n", "bpf read", median(rd, runs), median(rdc, runs),
	       median(rdc, runs) * 1e6 / n);
	printf("%-11s %10.1f %10.1f %14.0f\n", "/proc walk", median(scan, runs), median(scanc, runs),
	       median(scanc, runs) * 1e6 / n);
	return 0;
}
