#ifndef SRC_BPF_SOCKITER_H
#define SRC_BPF_SOCKITER_H

/*
 * The record the socket iterator writes for every socket file descriptor,
 * shared by the BPF program and its loader, so both agree on the layout
 * (fixed-size members, no padding: 40 bytes on every architecture).
 */
struct sockiter_rec {
	unsigned long long inode; /* the socket's inode, as in socket:[N] */
	unsigned int pid;         /* the thread group, as the reader's PID namespace numbers it */
	unsigned int tid;         /* the thread whose file table holds it (== pid for the leader's) */
	unsigned int fd;
	unsigned int uid;         /* the thread group leader's effective uid */
	char comm[16];            /* the leader's comm, NUL-padded (what /proc/PID/comm shows) */
};

#endif
