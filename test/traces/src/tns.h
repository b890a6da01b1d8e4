/* Shared helpers for the trace scenarios. Every helper issues plain syscalls so the
 * strace output shows exactly what the kernel was asked and what it answered.
 * Programs never abort on an error: the trace records the kernel's answer. */
#define _GNU_SOURCE
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef __WALL
#define __WALL 0x40000000
#endif

/* A marker in the trace: write(1, "== text\n"). stdout goes to /dev/null. */
static void M(const char *s) {
  char b[256];
  int n = snprintf(b, sizeof b, "== %s\n", s);
  if (write(1, b, n) < 0) {}
}

/* Raw clock read (the vDSO would hide it from strace). Returns seconds or -errno. */
static long CG(int id) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, id, &ts)) return -errno;
  return (long)ts.tv_sec;
}
static long long CGNS(int id) {
  struct timespec ts;
  if (syscall(SYS_clock_gettime, id, &ts)) return -errno;
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* readlink of an ns link; the inode shows in the trace. */
static void NS(const char *path) {
  char b[64];
  if (readlink(path, b, sizeof b) < 0) {}
}
static void NSP(pid_t pid, const char *which) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, which);
  NS(p);
}
static void NSBOTH(void) {
  NS("/proc/self/ns/time");
  NS("/proc/self/ns/time_for_children");
}

/* open + write + close; returns write's result (errno preserved). */
static long WR(const char *path, const char *s) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  long r = write(fd, s, strlen(s));
  int e = errno;
  close(fd);
  errno = e;
  return r;
}
static long WRP(pid_t pid, const char *s) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/timens_offsets", (int)pid);
  return WR(p, s);
}
/* open + read + close of a small file. */
static long RD(const char *path) {
  char b[4096];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  long r = read(fd, b, sizeof b);
  close(fd);
  return r;
}
static long RDP(pid_t pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/timens_offsets", (int)pid);
  return RD(p);
}

static int WAIT(pid_t pid) {
  int st = 0;
  if (waitpid(pid, &st, __WALL) < 0) return -1;
  return st;
}

/* A pipe used as a one-shot barrier: child waits with read(), parent releases with write(). */
struct gate { int r, w; };
static void gate_init(struct gate *g) { int p[2]; if (pipe(p)) _exit(99); g->r = p[0]; g->w = p[1]; }
static void gate_wait(struct gate *g) { char c; if (read(g->r, &c, 1) < 0) {} }
static void gate_open(struct gate *g) { if (write(g->w, "x", 1) < 0) {} }

/* Raw clone/clone3 where the child runs fn(arg) on whatever stack the kernel gave it,
 * then exit(fn's value). Needed for CLONE_VM children (glibc wrappers would return
 * into a shared stack). nr = SYS_clone3: a1 = struct clone_args *, a2 = size.
 * nr = SYS_clone: a1 = flags, a2 = new stack top (0 = same stack). Returns pid or -errno. */
static long raw_clone_fn(long nr, long a1, long a2, int (*fn)(void *), void *arg) {
  long ret;
  register long r10 asm("r10") = 0;
  register long r8 asm("r8") = 0;
  register void *r12 asm("r12") = (void *)fn;
  register void *r13 asm("r13") = arg;
  asm volatile(
      "syscall\n\t"
      "test %%rax,%%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp,%%ebp\n\t"
      "mov %%r13,%%rdi\n\t"
      "and $-16,%%rsp\n\t"
      "call *%%r12\n\t"
      "mov %%eax,%%edi\n\t"
      "mov $60,%%eax\n\t"
      "syscall\n\t"
      "hlt\n"
      "1:\n\t"
      : "=a"(ret)
      : "0"(nr), "D"(a1), "S"(a2), "d"(0L), "r"(r10), "r"(r8), "r"(r12), "r"(r13)
      : "rcx", "r11", "memory");
  return ret;
}

static char child_stack[4][1 << 16] __attribute__((aligned(16)));

static int drop_to_nobody(void) {
  /* keep /proc/self files owned by us after the uid change */
  if (setresgid(65534, 65534, 65534)) return -1;
  if (setresuid(65534, 65534, 65534)) return -1;
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  return 0;
}
