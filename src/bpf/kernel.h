#ifndef SRC_BPF_KERNEL_H
#define SRC_BPF_KERNEL_H

/*
 * The few kernel types the socket iterator reads, declared by hand so the
 * build needs neither a vmlinux.h nor BTF on the build machine. Each struct
 * lists only the fields used, under the kernel's own names: with
 * preserve_access_index clang records every field access as a CO-RE
 * relocation, and libbpf rewrites the offsets from the running kernel's
 * BTF at load time, so the same object works whatever the layout there.
 */

/* The integer types that libbpf's helper declarations are written in. */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

#define S_IFMT 00170000
#define S_IFSOCK 0140000

struct pid_namespace;

struct upid {
	int nr;
	struct pid_namespace *ns;
} __attribute__((preserve_access_index));

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __attribute__((preserve_access_index));

typedef struct {
	unsigned int val;
} kuid_t;

struct cred {
	kuid_t euid;
} __attribute__((preserve_access_index));

struct file;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct task_struct {
	struct task_struct *group_leader;
	struct pid *thread_pid;
	struct files_struct *files;
	const struct cred *cred;
	char comm[16];
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
} __attribute__((preserve_access_index));

/*
 * The iterator's context is an ABI of the task_file iterator (the same
 * four members since 5.8), so it needs no relocation.
 */
struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
};

#endif
