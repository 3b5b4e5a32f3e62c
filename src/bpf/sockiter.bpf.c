/*
 * sockiter: a BPF task_file iterator that lists every socket file
 * descriptor of every process, so sockstat learns each socket's holders
 * from one read() instead of a readlink per descriptor in /proc.
 *
 * It only reads kernel memory and writes nothing but the iterator's own
 * output and its one small global (the .bss below, private to this load):
 * no other maps, nothing pinned, nothing attached beyond the reader's
 * link, all of it gone when the loader closes its descriptors.
 */
#include "kernel.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "sockiter.h"

/* bpf_seq_write and bpf_probe_read_kernel are for GPL-compatible programs. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";

/*
 * The reader's PID namespace and its depth, worked out at the first
 * socket of each read (each iterator session) rather than at every one:
 * the reader is the task that read()s the iterator, so its namespace is
 * the one whose numbers sockstat shows. This global is the program's
 * only state.
 */
static struct {
	__u64 session;
	unsigned int level;
	struct pid_namespace *ns;
} reader;

static __always_inline int reader_update(__u64 session)
{
	struct task_struct *me = (struct task_struct *)bpf_get_current_task();
	struct pid *pid = BPF_CORE_READ(me, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct pid_namespace *ns = 0;

	if (!pid || bpf_core_read(&ns, sizeof(ns), &pid->numbers[level].ns) || !ns)
		return -1;
	reader.level = level;
	reader.ns = ns;
	reader.session = session;
	return 0;
}

/*
 * The number that the reader's PID namespace gives to pid, or 0 when pid
 * is not visible there: it was made in a namespace above the reader's
 * level, or beside it. The numbers array is indexed by a run-time level,
 * so its entry is read with a helper rather than a direct load.
 */
static __always_inline int nr_in(struct pid *pid)
{
	unsigned int level = reader.level;
	struct upid up = {};

	if (!pid || pid->level < level)
		return 0;
	if (bpf_core_read(&up, sizeof(up), &pid->numbers[level]) || up.ns != reader.ns)
		return 0;
	return up.nr;
}

/*
 * Whether the leader's own file table holds this very file at fd: then a
 * thread that copied the table (unshare(CLONE_FILES)) adds no holder the
 * leader has not already given, and the record would repeat it.
 */
static __always_inline int leader_has(struct task_struct *leader, __u32 fd, struct file *file)
{
	struct files_struct *files = BPF_CORE_READ(leader, files);
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = 0;

	if (!files)
		return 0;
	fdt = BPF_CORE_READ(files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return 0;
	return f == file;
}

SEC("iter/task_file")
int sockiter(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sockiter_rec rec = {};

	if (!task || !file)
		return 0;
	struct inode *inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;

	/*
	 * The kernel iterates the tasks of the reader's PID namespace and
	 * already skips threads that share their leader's file table; the
	 * same tests are repeated here so that no kernel version's iterator
	 * can make a process appear twice or from outside the namespace.
	 */
	struct task_struct *leader = task->group_leader;
	if (!leader)
		return 0;
	if (task != leader && (task->files == leader->files || leader_has(leader, ctx->fd, file)))
		return 0;

	if (reader.session != ctx->meta->session_id && reader_update(ctx->meta->session_id))
		return 0;
	rec.pid = nr_in(leader->thread_pid);
	rec.tid = task == leader ? rec.pid : nr_in(task->thread_pid);
	if (!rec.pid || !rec.tid)
		return 0;
	rec.fd = ctx->fd;
	rec.inode = inode->i_ino;
	const struct cred *cred = leader->cred;
	if (cred)
		rec.uid = cred->euid.val;
	bpf_core_read_str(rec.comm, sizeof(rec.comm), &leader->comm);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}
