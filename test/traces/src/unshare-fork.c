/* unshare(CLONE_NEWTIME), write offsets, fork: the child enters the new namespace;
 * the parent's own clocks do not change; the child cannot write (frozen). */
#include "tns.h"
int main(void) {
  NSBOTH();
  CG(CLOCK_MONOTONIC);
  CG(CLOCK_BOOTTIME);
  M("unshare");
  unshare(CLONE_NEWTIME);
  NSBOTH();
  WR("/proc/self/timens_offsets", "monotonic 86400 0\nboottime 172800 0\n");
  RD("/proc/self/timens_offsets");
  CG(CLOCK_MONOTONIC); /* unchanged: T is still init */
  CG(CLOCK_BOOTTIME);
  M("fork");
  pid_t p = fork();
  if (p == 0) {
    NSBOTH();
    CG(CLOCK_MONOTONIC); /* + 86400 */
    CG(CLOCK_BOOTTIME);  /* + 172800 */
    WR("/proc/self/timens_offsets", "monotonic 1 0\n"); /* frozen → EACCES */
    _exit(0);
  }
  WAIT(p);
  M("parent after fork: its C is now frozen");
  WR("/proc/self/timens_offsets", "monotonic 2 0\n");
  NSBOTH();
  return 0;
}
