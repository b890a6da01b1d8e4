/* Nested time namespaces: a child already in X unshares → Y copies its offsets from
 * the child's C (= X); the grandchild enters Y. */
#include "tns.h"
int main(void) {
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 1000 0\nboottime 2000 0\n");
  pid_t p = fork();
  if (p == 0) {
    NSBOTH();
    M("child in X unshares");
    unshare(CLONE_NEWTIME);
    NSBOTH();
    RD("/proc/self/timens_offsets");   /* copied: 1000 / 2000 */
    WR("/proc/self/timens_offsets", "monotonic 1500 0\n");
    RD("/proc/self/timens_offsets");
    pid_t g = fork();
    if (g == 0) {
      NSBOTH();
      CG(CLOCK_MONOTONIC);
      CG(CLOCK_BOOTTIME);
      _exit(0);
    }
    WAIT(g);
    _exit(0);
  }
  WAIT(p);
  CG(CLOCK_MONOTONIC);
  return 0;
}
