/*
 * tnsexec — runs a tns scenario on the live kernel, one real task per modelled task, on command.
 *
 * Started by the harness as:  tnsexec <unix socket path>
 * The process started is the *coordinator*: it is not a modelled task. It
 *   - becomes a child subreaper and reaps every zombie child at once (the model's outside reaper),
 *   - forks the first modelled task T0 (its own process group, stdio on /dev/null, default signal mask),
 *   - serves host-level requests on stdin/stdout (one line each):
 *       CLK            -> "C <rt s> <rt ns> <mono s> <mono ns> <boot s> <boot ns> <tai s> <tai ns> <raw s> <raw ns>"
 *       PROBE <n>      -> "P <inum> ..."  the next n dynamic inode numbers the kernel hands out (a child
 *                         unshares CLONE_NEWUTS n times holding each one), all released before the answer
 *       QUIT / EOF     -> kill every task (SIGKILL to T0's process group), reap them, restore
 *                         /proc/sys/user/max_time_namespaces, exit.
 *     and prints "S <max_time_namespaces>" and "T <pid of T0>" at start.
 * Every task connects to the socket, says "H <tid> <tgid>" and then executes commands (one line each,
 * strings hex-encoded) and answers "R <ret> <errno> [extra...]" (see cmd_* below). exit/exit_group
 * answer nothing; a successful execve re-executes this binary as "tnsexec resume <fd> <socket>", which answers
 * "R 0 0 <tid>" on the inherited connection and keeps serving. The protocol fds live at 900 and above so
 * that the fds the scenario opens are numbered as on a clean process.
 *
 * Task code uses raw syscalls only (no errno, no malloc, no stdio): threads and CLONE_VM children share
 * the creator's TLS and memory, and a vfork child runs while its parent sleeps in the same address space.
 * Per-task state lives on the task's own stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "tnsexec: only x86_64 is supported (raw clone3 trampoline)"
#endif

#define PROTO_BASE 900
#define STACK_SIZE (1024 * 1024)
#define LINE_MAX_ 20000
#define READ_MAX 8192

static char g_exe[4096];     /* this binary, for execve (read-only after start) */
static char g_sock[108];     /* the harness socket path (read-only after start) */

/* ---------- raw syscalls ---------- */
static inline long sc6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}
#define sc0(n) sc6(n, 0, 0, 0, 0, 0, 0)
#define sc1(n, a) sc6(n, (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b) sc6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c) sc6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sc5(n, a, b, c, d, e) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/*
 * clone3 with a child entry point: the child runs fn(arg) on the new stack (or on a copy of the current
 * one when args->stack is 0) and exits with its return value. r12/r13 carry fn/arg across the syscall.
 */
extern long tns_clone3(void *args, unsigned long size, int (*fn)(void *), void *arg);
__asm__(".text\n"
        ".globl tns_clone3\n"
        ".type tns_clone3,@function\n"
        "tns_clone3:\n"
        "  push %r12\n"
        "  push %r13\n"
        "  mov %rdx, %r12\n"
        "  mov %rcx, %r13\n"
        "  mov $435, %eax\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  ret\n"
        "1:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  mov %r13, %rdi\n"
        "  call *%r12\n"
        "  mov %rax, %rdi\n"
        "  mov $60, %eax\n"
        "  syscall\n"
        "  hlt\n");

/* Legacy clone(flags, newsp, parent_tid, child_tid, tls) with the same child trampoline. */
extern long tns_clone(unsigned long flags, void *stack, int *ptid, int *ctid, int (*fn)(void *), void *arg);
__asm__(".text\n"
        ".globl tns_clone\n"
        ".type tns_clone,@function\n"
        "tns_clone:\n"
        "  push %r12\n"
        "  push %r13\n"
        "  mov %r8, %r12\n"
        "  mov %r9, %r13\n"
        "  mov %rcx, %r10\n"
        "  xor %r8d, %r8d\n"
        "  mov $56, %eax\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  ret\n"
        "1:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  mov %r13, %rdi\n"
        "  call *%r12\n"
        "  mov %rax, %rdi\n"
        "  mov $60, %eax\n"
        "  syscall\n"
        "  hlt\n");

/* ---------- tiny string helpers (no libc state) ---------- */
static size_t slen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static void scopy(char *d, const char *s) { while ((*d++ = *s++)) {} }

typedef struct {
  char *p;
  size_t n, cap;
} obuf;

static void oput(obuf *o, const char *s) {
  while (*s && o->n + 1 < o->cap) o->p[o->n++] = *s++;
  o->p[o->n] = 0;
}
static void oputc(obuf *o, char c) {
  if (o->n + 1 < o->cap) o->p[o->n++] = c;
  o->p[o->n] = 0;
}
static void oputl(obuf *o, long long v) {
  char t[32];
  int i = 0;
  unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
  if (v < 0) oputc(o, '-');
  do { t[i++] = '0' + (u % 10); u /= 10; } while (u);
  while (i) oputc(o, t[--i]);
}
static void oputhex(obuf *o, const unsigned char *b, size_t n) {
  static const char hx[] = "0123456789abcdef";
  if (n == 0) { oputc(o, '-'); return; }
  for (size_t i = 0; i < n; i++) { oputc(o, hx[b[i] >> 4]); oputc(o, hx[b[i] & 15]); }
}

/* Token parsing of one command line. */
typedef struct {
  char *tok[48];
  int n;
} toks;

static void split(char *line, toks *t) {
  t->n = 0;
  char *p = line;
  while (*p && t->n < 48) {
    while (*p == ' ') p++;
    if (!*p) break;
    t->tok[t->n++] = p;
    while (*p && *p != ' ') p++;
    if (*p) *p++ = 0;
  }
}
static long long num(const char *s) {
  long long v = 0;
  int neg = 0;
  if (!s) return 0;
  if (*s == '-') { neg = 1; s++; }
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return neg ? -v : v;
}
static unsigned long long unum(const char *s) {
  unsigned long long v = 0;
  if (!s) return 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned long long)(*s++ - '0');
  return v;
}
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}
/* "-" is the empty string. */
static size_t unhex(const char *s, char *out, size_t cap) {
  size_t n = 0;
  if (!s || (s[0] == '-' && s[1] == 0)) { out[0] = 0; return 0; }
  while (s[0] && s[1] && n + 1 < cap) { out[n++] = (char)(hexval(s[0]) * 16 + hexval(s[1])); s += 2; }
  out[n] = 0;
  return n;
}

/* ---------- the task side ---------- */
typedef struct task_ctx {
  int fd;                 /* this task's connection */
  unsigned long flags;    /* the clone flags that made it (CLONE_FILES: the fd table is shared) */
  char in[LINE_MAX_];
  size_t inlen;
} task_ctx;

static int send_all(int fd, const char *b, size_t n) {
  while (n) {
    long r = sc6(SYS_sendto, fd, (long)b, (long)n, MSG_NOSIGNAL, 0, 0);
    if (r == -EINTR) continue;
    if (r <= 0) return -1;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

/* One line (without the newline) into ctx->in; returns its length or -1 at EOF. */
static long read_line(task_ctx *c, char *line, size_t cap) {
  for (;;) {
    for (size_t i = 0; i < c->inlen; i++) {
      if (c->in[i] == '\n') {
        size_t n = i < cap - 1 ? i : cap - 1;
        memcpy(line, c->in, n);
        line[n] = 0;
        memmove(c->in, c->in + i + 1, c->inlen - i - 1);
        c->inlen -= i + 1;
        return (long)n;
      }
    }
    if (c->inlen >= sizeof c->in) return -1;
    long r = sc3(SYS_read, c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
    if (r == -EINTR) continue;
    if (r <= 0) return -1;
    c->inlen += (size_t)r;
  }
}

static void die_quiet(void) { sc1(SYS_exit_group, 111); }

/* A fresh connection to the harness at fd >= PROTO_BASE. */
static int connect_harness(void) {
  int s = (int)sc3(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) die_quiet();
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  scopy(a.sun_path, g_sock);
  if (sc3(SYS_connect, s, &a, sizeof a) < 0) die_quiet();
  int h = (int)sc3(SYS_fcntl, s, F_DUPFD, PROTO_BASE);
  if (h < 0) die_quiet();
  sc1(SYS_close, s);
  return h;
}

static void reply(task_ctx *c, obuf *o) {
  oputc(o, '\n');
  if (send_all(c->fd, o->p, o->n) < 0) die_quiet();
}

static void hello(task_ctx *c) {
  char b[64];
  obuf o = {b, 0, sizeof b};
  oput(&o, "H ");
  oputl(&o, sc0(SYS_gettid));
  oputc(&o, ' ');
  oputl(&o, sc0(SYS_getpid));
  reply(c, &o);
}

static void serve(task_ctx *c) __attribute__((noreturn));

/* The entry of every new task: own connection (the inherited ones are closed unless the fd table is shared). */
static int child_main(void *arg) {
  task_ctx *c = (task_ctx *)arg;
  if (!(c->flags & CLONE_FILES)) sc3(SYS_close_range, PROTO_BASE, ~0U, 0);
  c->fd = connect_harness();
  c->inlen = 0;
  hello(c);
  serve(c);
}

/* A new stack (with the child's context at its base) for a task that may share our memory. */
static task_ctx *new_stack(unsigned long flags, void **top) {
  char *m = (char *)sc6(SYS_mmap, 0, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if ((long)m < 0 && (long)m > -4096) return NULL;
  task_ctx *c = (task_ctx *)m;
  c->flags = flags;
  c->inlen = 0;
  *top = m + STACK_SIZE;
  return c;
}

static void res(obuf *o, long r) {
  if (r < 0 && r > -4096) {
    oput(o, "R -1 ");
    oputl(o, -r);
  } else {
    oput(o, "R ");
    oputl(o, r);
    oput(o, " 0");
  }
}

struct my_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static void do_clone_legacy(unsigned long flags, obuf *o) {
  void *top;
  /* CLONE_SETTLS would need a real TLS block: dropped (it has no namespace meaning). */
  flags &= ~(unsigned long)CLONE_SETTLS;
  task_ctx *k = new_stack(flags, &top);
  if (!k) { res(o, -ENOMEM); return; }
  int ptid = -1;
  int *ctid = (int *)((char *)k + sizeof(task_ctx) + 64);
  long r = tns_clone(flags, top, &ptid, ctid, child_main, k);
  res(o, r);
  if (r > 0 && (flags & CLONE_PIDFD)) { oputc(o, ' '); oputl(o, ptid); }
}

static void do_clone3(toks *t, obuf *o) {
  /* clone3 <flags> <exit_signal> <size> <badstack> <n> <tid...> */
  static const size_t BUF = 8192;
  unsigned long long flags = unum(t->tok[1]);
  void *top;
  task_ctx *k = new_stack((unsigned long)flags, &top);
  if (!k) { res(o, -ENOMEM); return; }
  /* The argument block (zero beyond the struct, so any size up to a page is accepted) lives on the new stack's
   * mapping, which exists in both parent and child. */
  char *blk = (char *)k + sizeof(task_ctx) + 256;
  memset(blk, 0, BUF);
  struct my_clone_args *a = (struct my_clone_args *)blk;
  int pidfd = -1;
  int32_t tids[40];
  int nt = (int)num(t->tok[5]);
  for (int i = 0; i < nt && i < 40 && 6 + i < t->n; i++) tids[i] = (int32_t)num(t->tok[6 + i]);
  a->flags = flags;
  a->exit_signal = (uint64_t)num(t->tok[2]);
  a->pidfd = (uint64_t)(uintptr_t)&pidfd;
  if (num(t->tok[4])) {
    a->stack = 0;
    a->stack_size = 4096;
  } else {
    /* Leave room above the argument block: the child's stack grows down from top. */
    a->stack = (uint64_t)(uintptr_t)(blk + BUF);
    a->stack_size = (uint64_t)((char *)top - (blk + BUF));
  }
  if (nt > 0) {
    a->set_tid = (uint64_t)(uintptr_t)tids;
    a->set_tid_size = (uint64_t)nt;
  }
  unsigned long size = (unsigned long)unum(t->tok[3]);
  long r = tns_clone3(a, size, child_main, k);
  res(o, r);
  if (r > 0 && (flags & CLONE_PIDFD)) { oputc(o, ' '); oputl(o, pidfd); }
}

static long open_mode(const char *m) {
  if (m[0] == 'r' && m[1] == 'w') return O_RDWR;
  if (m[0] == 'w') return O_WRONLY;
  return O_RDONLY;
}

static int cap_bit(const char *name) {
  static const struct { const char *n; int b; } caps[] = {
      {"CAP_DAC_OVERRIDE", 1}, {"CAP_SETUID", 7}, {"CAP_SYS_PTRACE", 19}, {"CAP_SYS_ADMIN", 21},
      {"CAP_SYS_RESOURCE", 24}, {"CAP_SYS_TIME", 25}, {"CAP_WAKE_ALARM", 35}};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
    if (strcmp(caps[i].n, name) == 0) return caps[i].b;
  return -1;
}

static long ts_sub_ns(struct timespec a, struct timespec b) {
  return (a.tv_sec - b.tv_sec) * 1000000000L + (a.tv_nsec - b.tv_nsec);
}

/* timer <api> <clockid> <sec> <nsec>: "R ret errno <kind> <sec> <nsec>" where kind is
 *   rem   — timerfd/timer_settime: the remaining time the kernel reports right after arming (0 0 = expired),
 *   slept — clock_nanosleep/futex: how long the call slept (host CLOCK_MONOTONIC_RAW elapsed). */
static void do_timer(toks *t, obuf *o) {
  const char *api = t->tok[1];
  int clk = (int)num(t->tok[2]);
  struct timespec dl = {(time_t)num(t->tok[3]), (long)num(t->tok[4])};
  if (strcmp(api, "timerfd_settime") == 0) {
    long fd = sc2(SYS_timerfd_create, clk, O_CLOEXEC);
    if (fd < 0) { res(o, fd); return; }
    struct itimerspec its = {{0, 0}, dl}, cur;
    long r = sc4(SYS_timerfd_settime, fd, 1 /* TFD_TIMER_ABSTIME */, &its, 0);
    if (r < 0) { sc1(SYS_close, fd); res(o, r); return; }
    sc2(SYS_timerfd_gettime, fd, &cur);
    sc1(SYS_close, fd);
    res(o, 0);
    oput(o, " rem ");
    oputl(o, cur.it_value.tv_sec); oputc(o, ' '); oputl(o, cur.it_value.tv_nsec);
    return;
  }
  if (strcmp(api, "timer_settime") == 0) {
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_NONE;
    int tid = -1;
    long r = sc3(SYS_timer_create, clk, &sev, &tid);
    if (r < 0) { res(o, r); return; }
    struct itimerspec its = {{0, 0}, dl}, cur;
    r = sc4(SYS_timer_settime, tid, TIMER_ABSTIME, &its, 0);
    if (r < 0) { sc1(SYS_timer_delete, tid); res(o, r); return; }
    sc2(SYS_timer_gettime, tid, &cur);
    sc1(SYS_timer_delete, tid);
    res(o, 0);
    oput(o, " rem ");
    oputl(o, cur.it_value.tv_sec); oputc(o, ' '); oputl(o, cur.it_value.tv_nsec);
    return;
  }
  struct timespec a, b;
  sc2(SYS_clock_gettime, CLOCK_MONOTONIC_RAW, &a);
  long r;
  if (strcmp(api, "futex") == 0) {
    /* FUTEX_WAIT_BITSET on a word that keeps its value: times out at the absolute deadline. */
    int word = 0;
    int op = 9 /* FUTEX_WAIT_BITSET */ | 128 /* FUTEX_PRIVATE_FLAG */ | (clk == CLOCK_REALTIME ? 256 /* FUTEX_CLOCK_REALTIME */ : 0);
    if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC) { res(o, -EINVAL); return; }
    do r = sc6(SYS_futex, (long)&word, op, 0, (long)&dl, 0, -1); while (r == -EINTR);
    if (r == -ETIMEDOUT) r = 0;
  } else {
    do r = sc4(SYS_clock_nanosleep, clk, TIMER_ABSTIME, &dl, 0); while (r == -EINTR);
  }
  sc2(SYS_clock_gettime, CLOCK_MONOTONIC_RAW, &b);
  res(o, r);
  if (r >= 0) {
    long d = ts_sub_ns(b, a);
    oput(o, " slept ");
    oputl(o, d / 1000000000L); oputc(o, ' '); oputl(o, d % 1000000000L);
  }
}

static void serve(task_ctx *c) {
  char line[LINE_MAX_];
  char obufm[2 * READ_MAX + 256];
  char data[READ_MAX + 16];
  char path[4096];
  for (;;) {
    long n = read_line(c, line, sizeof line);
    if (n < 0) die_quiet();
    toks t;
    split(line, &t);
    if (t.n == 0) continue;
    obuf o = {obufm, 0, sizeof obufm};
    obufm[0] = 0;
    const char *cmd = t.tok[0];
    if (strcmp(cmd, "fork") == 0) {
      do_clone_legacy(SIGCHLD, &o);
    } else if (strcmp(cmd, "vfork") == 0) {
      /* The answer comes once the child has exec'd or exited (the parent sleeps in clone until then). */
      do_clone_legacy(CLONE_VM | CLONE_VFORK | SIGCHLD, &o);
    } else if (strcmp(cmd, "clone") == 0) {
      do_clone_legacy((unsigned long)unum(t.tok[1]), &o);
    } else if (strcmp(cmd, "clone3") == 0) {
      do_clone3(&t, &o);
    } else if (strcmp(cmd, "unshare") == 0) {
      res(&o, sc1(SYS_unshare, unum(t.tok[1])));
    } else if (strcmp(cmd, "setns") == 0) {
      res(&o, sc2(SYS_setns, num(t.tok[1]), num(t.tok[2])));
    } else if (strcmp(cmd, "exec") == 0) {
      unhex(t.tok[1], path, sizeof path);
      const char *p = strcmp(path, "@self") == 0 ? g_exe : path;
      char fds[24];
      obuf f = {fds, 0, sizeof fds};
      oputl(&f, c->fd);
      char *argv[] = {"tnsexec", "resume", fds, g_sock, NULL};
      char *envp[] = {NULL};
      long r = sc3(SYS_execve, p, argv, envp);
      res(&o, r);
    } else if (strcmp(cmd, "exit") == 0) {
      sc1(SYS_exit, num(t.tok[1]));
    } else if (strcmp(cmd, "exit_group") == 0) {
      sc1(SYS_exit_group, num(t.tok[1]));
    } else if (strcmp(cmd, "wait") == 0) {
      int st = 0;
      long r = sc4(SYS_wait4, num(t.tok[1]), &st, WNOHANG | __WALL, 0);
      if (r == 0) r = -EAGAIN; /* would block: the model's answer for "no child has exited yet" */
      res(&o, r);
      if (r > 0) { oputc(&o, ' '); oputl(&o, st); }
    } else if (strcmp(cmd, "open") == 0) {
      unhex(t.tok[1], path, sizeof path);
      long fl = open_mode(t.tok[2]) | (num(t.tok[3]) ? O_CLOEXEC : 0);
      res(&o, sc4(SYS_openat, AT_FDCWD, path, fl, 0));
    } else if (strcmp(cmd, "close") == 0) {
      res(&o, sc1(SYS_close, num(t.tok[1])));
    } else if (strcmp(cmd, "dup") == 0) {
      long fd = num(t.tok[1]), nfd = num(t.tok[2]), cx = num(t.tok[3]);
      long r;
      if (nfd < 0) r = sc3(SYS_fcntl, fd, cx ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
      else if (nfd == fd) r = sc2(SYS_dup2, fd, nfd);
      else r = sc3(SYS_dup3, fd, nfd, cx ? O_CLOEXEC : 0);
      res(&o, r);
    } else if (strcmp(cmd, "read") == 0) {
      long cnt = num(t.tok[2]);
      if (cnt > READ_MAX) cnt = READ_MAX;
      long r = sc3(SYS_read, num(t.tok[1]), data, cnt);
      res(&o, r);
      oputc(&o, ' ');
      oputhex(&o, (unsigned char *)data, r > 0 ? (size_t)r : 0);
    } else if (strcmp(cmd, "write") == 0 || strcmp(cmd, "pwrite") == 0) {
      int pw = cmd[0] == 'p';
      size_t dn = unhex(t.tok[pw ? 3 : 2], path, sizeof path);
      long r = pw ? sc4(SYS_pwrite64, num(t.tok[1]), path, dn, num(t.tok[2])) : sc3(SYS_write, num(t.tok[1]), path, dn);
      res(&o, r);
    } else if (strcmp(cmd, "lseek") == 0) {
      const char *w = t.tok[3];
      int wh = strcmp(w, "SET") == 0 ? SEEK_SET : strcmp(w, "CUR") == 0 ? SEEK_CUR : SEEK_END;
      res(&o, sc3(SYS_lseek, num(t.tok[1]), num(t.tok[2]), wh));
    } else if (strcmp(cmd, "readlink") == 0) {
      unhex(t.tok[1], path, sizeof path);
      long r = sc4(SYS_readlinkat, AT_FDCWD, path, data, READ_MAX);
      res(&o, r);
      oputc(&o, ' ');
      oputhex(&o, (unsigned char *)data, r > 0 ? (size_t)r : 0);
    } else if (strcmp(cmd, "pidfd_open") == 0) {
      res(&o, sc2(SYS_pidfd_open, num(t.tok[1]), num(t.tok[2])));
    } else if (strcmp(cmd, "clock") == 0) {
      struct timespec ts = {0, 0};
      long r = sc2(SYS_clock_gettime, num(t.tok[1]), &ts);
      res(&o, r);
      oputc(&o, ' '); oputl(&o, ts.tv_sec); oputc(&o, ' '); oputl(&o, ts.tv_nsec);
    } else if (strcmp(cmd, "timer") == 0) {
      do_timer(&t, &o);
    } else if (strcmp(cmd, "setresuid") == 0) {
      res(&o, sc3(SYS_setresuid, num(t.tok[1]), num(t.tok[2]), num(t.tok[3])));
    } else if (strcmp(cmd, "capset") == 0) {
      /* capset <name...>: effective = permitted = the set, inheritable empty (this thread only). */
      struct { uint32_t version; int pid; } hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
      struct { uint32_t eff, perm, inh; } d[2];
      memset(d, 0, sizeof d);
      long bad = 0;
      for (int i = 1; i < t.n; i++) {
        int b = cap_bit(t.tok[i]);
        if (b < 0) { bad = 1; break; }
        d[b / 32].eff |= 1u << (b % 32);
        d[b / 32].perm |= 1u << (b % 32);
      }
      res(&o, bad ? -EINVAL : sc2(SYS_capset, &hdr, d));
    } else if (strcmp(cmd, "dumpable") == 0) {
      res(&o, sc2(SYS_prctl, PR_SET_DUMPABLE, num(t.tok[1])));
    } else if (strcmp(cmd, "ping") == 0) {
      res(&o, sc0(SYS_gettid));
    } else {
      oput(&o, "E unknown-command");
    }
    reply(c, &o);
  }
}

/* ---------- the coordinator ---------- */
static int g_saved_max = -1;
static pid_t g_t0 = -1;

static int read_int_file(const char *p) {
  char b[64];
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  if (n <= 0) return -1;
  b[n] = 0;
  return atoi(b);
}
static void write_int_file(const char *p, int v) {
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  char b[32];
  int n = snprintf(b, sizeof b, "%d\n", v);
  if (write(fd, b, (size_t)n) < 0) {}
  close(fd);
}

static void reap_all(void) {
  while (waitpid(-1, NULL, WNOHANG | __WALL) > 0) {}
}

static void cleanup_and_exit(int code) {
  if (g_t0 > 0) {
    for (int round = 0; round < 200; round++) {
      int alive = kill(-g_t0, SIGKILL) == 0;
      reap_all();
      if (!alive && waitpid(-1, NULL, WNOHANG | __WALL) < 0) break;
      usleep(5000);
    }
  }
  if (g_saved_max >= 0 && read_int_file("/proc/sys/user/max_time_namespaces") != g_saved_max)
    write_int_file("/proc/sys/user/max_time_namespaces", g_saved_max);
  exit(code);
}

static void out_line(const char *s) {
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(1, s, n);
    if (w <= 0) cleanup_and_exit(3);
    s += w;
    n -= (size_t)w;
  }
}

static void probe(int n) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) { out_line("P\n"); return; }
  pid_t k = fork();
  if (k == 0) {
    char b[32];
    for (int i = 0; i < n; i++) {
      if (unshare(CLONE_NEWUTS) < 0) break;
      struct stat st;
      if (stat("/proc/self/ns/uts", &st) < 0) break;
      if (open("/proc/self/ns/uts", O_RDONLY) < 0) break; /* held until exit */
      int m = snprintf(b, sizeof b, " %llu", (unsigned long long)st.st_ino);
      if (write(p[1], b, (size_t)m) < 0) break;
    }
    _exit(0);
  }
  close(p[1]);
  char buf[8192];
  size_t len = 0;
  for (;;) {
    ssize_t r = read(p[0], buf + len, sizeof buf - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(p[0]);
  buf[len] = 0;
  if (k > 0) waitpid(k, NULL, __WALL);
  out_line("P");
  out_line(buf);
  out_line("\n");
}

static void clk_line(void) {
  struct timespec r, m, b, t, w;
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &m);
  clock_gettime(CLOCK_BOOTTIME, &b);
  clock_gettime(CLOCK_TAI, &t);
  clock_gettime(CLOCK_MONOTONIC_RAW, &w);
  char s[256];
  snprintf(s, sizeof s, "C %lld %ld %lld %ld %lld %ld %lld %ld %lld %ld\n", (long long)r.tv_sec, r.tv_nsec, (long long)m.tv_sec, m.tv_nsec,
           (long long)b.tv_sec, b.tv_nsec, (long long)t.tv_sec, t.tv_nsec, (long long)w.tv_sec, w.tv_nsec);
  out_line(s);
}

static int coordinator(void) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) { perror("tnsexec: PR_SET_CHILD_SUBREAPER"); return 2; }
  g_saved_max = read_int_file("/proc/sys/user/max_time_namespaces");
  sigset_t all, old;
  sigemptyset(&all);
  sigaddset(&all, SIGCHLD);
  sigaddset(&all, SIGTERM);
  sigaddset(&all, SIGINT);
  sigaddset(&all, SIGHUP);
  sigaddset(&all, SIGPIPE);
  sigprocmask(SIG_BLOCK, &all, &old);
  int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) { perror("tnsexec: signalfd"); return 2; }
  char s[64];
  snprintf(s, sizeof s, "S %d\n", g_saved_max);
  out_line(s);

  pid_t k = fork();
  if (k < 0) { perror("tnsexec: fork"); return 2; }
  if (k == 0) {
    /* T0: the first modelled task. */
    setpgid(0, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (int i = 1; i < 65; i++) if (i != SIGKILL && i != SIGSTOP) signal(i, SIG_DFL);
    int nul = open("/dev/null", O_RDWR);
    dup2(nul, 0); dup2(nul, 1); dup2(nul, 2);
    if (nul > 2) close(nul);
    close_range(3, ~0U, 0);
    static task_ctx c0;
    c0.flags = 0;
    c0.fd = connect_harness();
    c0.inlen = 0;
    hello(&c0);
    serve(&c0);
  }
  g_t0 = k;
  setpgid(k, k);
  snprintf(s, sizeof s, "T %d\n", (int)k);
  out_line(s);

  char in[4096];
  size_t inlen = 0;
  for (;;) {
    struct pollfd pf[2] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}};
    int r = poll(pf, 2, 1000);
    if (r < 0 && errno != EINTR) cleanup_and_exit(4);
    if (pf[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) cleanup_and_exit(0);
      }
    }
    reap_all();
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(0, in + inlen, sizeof in - 1 - inlen);
      if (n <= 0) cleanup_and_exit(0);
      inlen += (size_t)n;
      char *nl;
      while ((nl = memchr(in, '\n', inlen)) != NULL) {
        *nl = 0;
        if (strcmp(in, "CLK") == 0) clk_line();
        else if (strncmp(in, "PROBE ", 6) == 0) probe(atoi(in + 6));
        else if (strcmp(in, "REAP") == 0) { reap_all(); out_line("OK\n"); }
        else if (strcmp(in, "QUIT") == 0) cleanup_and_exit(0);
        else out_line("E unknown\n");
        size_t used = (size_t)(nl - in) + 1;
        memmove(in, nl + 1, inlen - used);
        inlen -= used;
      }
    }
  }
}

int main(int argc, char **argv) {
  ssize_t n = readlink("/proc/self/exe", g_exe, sizeof g_exe - 1);
  if (n < 0) { perror("tnsexec: /proc/self/exe"); return 2; }
  g_exe[n] = 0;
  if (argc == 4 && strcmp(argv[1], "resume") == 0 && slen(argv[3]) < sizeof g_sock) {
    scopy(g_sock, argv[3]);
    /* After a successful execve: answer it on the inherited connection and go on serving. */
    static task_ctx c;
    c.fd = (int)num(argv[2]);
    c.flags = 0;
    c.inlen = 0;
    if (c.fd > PROTO_BASE) sc3(SYS_close_range, PROTO_BASE, c.fd - 1, 0);
    sc3(SYS_close_range, c.fd + 1, ~0U, 0);
    char b[64];
    obuf o = {b, 0, sizeof b};
    oput(&o, "R 0 0 ");
    oputl(&o, sc0(SYS_gettid));
    reply(&c, &o);
    serve(&c);
  }
  if (argc != 2 || slen(argv[1]) >= sizeof g_sock) {
    fprintf(stderr, "usage: tnsexec <unix socket path>\n");
    return 2;
  }
  scopy(g_sock, argv[1]);
  return coordinator();
}
