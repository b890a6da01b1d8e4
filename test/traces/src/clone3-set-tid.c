/* After unshare(CLONE_NEWTIME) (T != C), clone3 with set_tid of a live pid fails with
 * EEXIST after the namespace step: the pending C is frozen anyway (write → EACCES). */
#include "tns.h"
static int child(void *a) { (void)a; return 0; }
int main(void) {
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 300 0\n");
  NSBOTH();
  pid_t tids[1] = {getpid()};
  struct clone_args ca = {0};
  ca.exit_signal = SIGCHLD;
  ca.set_tid = (uint64_t)(uintptr_t)tids;
  ca.set_tid_size = 1;
  M("clone3 set_tid=[own pid]");
  long p = raw_clone_fn(SYS_clone3, (long)&ca, sizeof ca, child, NULL);
  if (p > 0) WAIT(p);
  M("pending C is now frozen");
  WR("/proc/self/timens_offsets", "monotonic 301 0\n");
  RD("/proc/self/timens_offsets");
  NSBOTH();
  return 0;
}
