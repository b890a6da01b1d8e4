/* setns by nsfs fd: joining a namespace changes T and C at once, freezes it, clocks
 * change immediately; argument errors. */
#include "tns.h"
int main(void) {
  struct gate ready, done;
  gate_init(&ready); gate_init(&done);
  int init_fd = open("/proc/self/ns/time", O_RDONLY);
  pid_t holder = fork();
  if (holder == 0) {
    unshare(CLONE_NEWTIME);
    WR("/proc/self/timens_offsets", "monotonic 1000 0\nboottime 2000 0\n");
    gate_open(&ready);
    gate_wait(&done);
    _exit(0);
  }
  gate_wait(&ready);
  M("errors");
  setns(-1, CLONE_NEWTIME);                 /* EBADF */
  setns(999, CLONE_NEWTIME);                /* EBADF */
  int dn = open("/dev/null", O_RDONLY);
  setns(dn, CLONE_NEWTIME);                 /* not an ns file: EINVAL */
  int netfd = open("/proc/self/ns/net", O_RDONLY);
  setns(netfd, CLONE_NEWTIME);              /* wrong type: EINVAL */
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/time_for_children", (int)holder);
  int x = open(p, O_RDONLY);
  setns(x, CLONE_NEWNET);                   /* wrong nstype for a time fd: EINVAL */
  setns(x, CLONE_NEWTIME | CLONE_NEWNET);   /* EINVAL */
  M("join X (not frozen yet), nstype 0");
  CG(CLOCK_MONOTONIC);
  CG(CLOCK_BOOTTIME);
  setns(x, 0);                              /* nstype 0 accepted */
  CG(CLOCK_MONOTONIC);
  CG(CLOCK_BOOTTIME);
  NSBOTH();
  WRP(holder, "monotonic 1 0\n");           /* X frozen by the setns → EACCES */
  RD("/proc/self/timens_offsets");
  M("back to init by fd");
  setns(init_fd, CLONE_NEWTIME);
  CG(CLOCK_MONOTONIC);
  NSBOTH();
  close(x); close(netfd); close(dn); close(init_fd);
  gate_open(&done);
  WAIT(holder);
  return 0;
}
