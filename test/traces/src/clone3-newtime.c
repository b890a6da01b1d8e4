/* clone3({flags=CLONE_NEWTIME}) without CLONE_VM: the child is in X at once and X is
 * frozen (child write → EACCES); the parent's own pending C (from an earlier unshare)
 * is untouched and still writable. */
#include "tns.h"
static int child(void *a) {
  (void)a;
  NSBOTH();
  CG(CLOCK_MONOTONIC);
  RD("/proc/self/timens_offsets");
  WR("/proc/self/timens_offsets", "monotonic 7 0\n");
  return 0;
}
int main(void) {
  M("unshare, write 100");
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 100 0\n");
  NSBOTH();
  M("clone3 CLONE_NEWTIME");
  struct clone_args ca = {0};
  ca.flags = CLONE_NEWTIME;
  ca.exit_signal = SIGCHLD;
  long p = raw_clone_fn(SYS_clone3, (long)&ca, sizeof ca, child, NULL);
  WAIT(p);
  M("parent: pending C still writable");
  WR("/proc/self/timens_offsets", "monotonic 200 0\n");
  RD("/proc/self/timens_offsets");
  NSBOTH();
  return 0;
}
