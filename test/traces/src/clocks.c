/* Raw clock_gettime for ids 0,1,4,5,6,7,8,9,11 (+ a CPU clock) outside and inside a time
 * namespace with monotonic +100000 s and boottime +200000 s. */
#include "tns.h"
static void all(void) {
  static const int ids[] = {0, 1, 4, 5, 6, 7, 8, 9, 11, 2};
  for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) CG(ids[i]);
  struct timespec r;
  syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r);
}
int main(void) {
  M("outside");
  all();
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 100000 0\nboottime 200000 0\n");
  M("after unshare, before entering (T = init)");
  all();
  pid_t p = fork();
  if (p == 0) {
    M("inside");
    all();
    _exit(0);
  }
  WAIT(p);
  M("outside again");
  all();
  return 0;
}
