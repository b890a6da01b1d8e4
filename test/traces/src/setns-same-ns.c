/* setns into the time namespace the caller is already in: init → init, X → X, and
 * into its own not-yet-entered C (T != C). */
#include "tns.h"
int main(void) {
  NSBOTH();
  int self_t = open("/proc/self/ns/time", O_RDONLY);
  M("setns init while in init");
  setns(self_t, CLONE_NEWTIME);
  M("unshare; setns into own C");
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 50 0\n");
  int c = open("/proc/self/ns/time_for_children", O_RDONLY);
  CG(CLOCK_MONOTONIC);
  setns(c, CLONE_NEWTIME);
  CG(CLOCK_MONOTONIC);
  NSBOTH();
  M("setns X while in X");
  setns(c, CLONE_NEWTIME);
  int t = open("/proc/self/ns/time", O_RDONLY);
  setns(t, CLONE_NEWTIME);
  M("setns by pidfd to self");
  int pfd = syscall(SYS_pidfd_open, getpid(), 0);
  setns(pfd, CLONE_NEWTIME);
  M("unshare again: T=X, C=Y; setns to T (X)");
  unshare(CLONE_NEWTIME);
  NSBOTH();
  setns(t, CLONE_NEWTIME);
  NSBOTH();
  close(pfd); close(t); close(c); close(self_t);
  return 0;
}
