/* setns by pidfd: joins the target's T (not its C); flag errors; a reaped target. */
#include "tns.h"
int main(void) {
  struct gate ready, done;
  gate_init(&ready); gate_init(&done);
  /* A: unshared, not forked → T=init, C=X */
  pid_t a = fork();
  if (a == 0) {
    unshare(CLONE_NEWTIME);
    WR("/proc/self/timens_offsets", "monotonic 1000 0\n");
    NSBOTH();
    gate_open(&ready);
    gate_wait(&done);
    _exit(0);
  }
  gate_wait(&ready);
  /* B: a child of a process that unshared → T=C=Y */
  struct gate r2, d2; gate_init(&r2); gate_init(&d2);
  pid_t b = fork();
  if (b == 0) {
    unshare(CLONE_NEWTIME);
    WR("/proc/self/timens_offsets", "boottime 3000 0\n");
    pid_t bb = fork();
    if (bb == 0) { NSBOTH(); gate_open(&r2); gate_wait(&d2); _exit(0); }
    WAIT(bb);
    _exit(0);
  }
  gate_wait(&r2);
  char p[64];
  int pa = syscall(SYS_pidfd_open, a, 0);
  M("pidfd errors");
  setns(pa, 0);                               /* pidfd with flags 0: EINVAL */
  setns(pa, 0x1);                             /* unknown bits: EINVAL */
  setns(pa, CLONE_NEWTIME | 0x1);             /* EINVAL */
  M("join A's T (init, not its C)");
  setns(pa, CLONE_NEWTIME);
  NSBOTH();
  /* find B's child: read /proc/b/task/b/children */
  snprintf(p, sizeof p, "/proc/%d/task/%d/children", (int)b, (int)b);
  char buf[64] = {0};
  int fd = open(p, O_RDONLY); if (read(fd, buf, sizeof buf - 1) < 0) {} close(fd);
  pid_t bb = atoi(buf);
  int pb = syscall(SYS_pidfd_open, bb, 0);
  M("join B's child's T (Y)");
  CG(CLOCK_BOOTTIME);
  setns(pb, CLONE_NEWTIME);
  CG(CLOCK_BOOTTIME);
  NSBOTH();
  M("combined CLONE_NEWTIME|CLONE_NEWUTS by pidfd");
  setns(pa, CLONE_NEWTIME | CLONE_NEWUTS);
  NSBOTH();
  gate_open(&d2);
  WAIT(b);
  gate_open(&done);
  WAIT(a);
  M("A reaped: setns by its pidfd");
  setns(pa, CLONE_NEWTIME);                   /* ESRCH */
  close(pa); close(pb);
  return 0;
}
