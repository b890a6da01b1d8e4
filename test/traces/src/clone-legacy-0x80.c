/* Legacy clone: 0x80 (CLONE_NEWTIME's value) is inside CSIGNAL, so
 * clone(CLONE_NEWTIME|SIGCHLD) is a plain fork whose exit signal is 0x91. */
#include "tns.h"
static int child(void *a) { (void)a; NSBOTH(); return 3; }
int main(void) {
  NSBOTH();
  long p = raw_clone_fn(SYS_clone, CLONE_NEWTIME | SIGCHLD, 0, child, NULL);
  WAIT(p);
  M("clone(CLONE_NEWTIME|CLONE_VM)"); /* exit signal 0x80 = 128 */
  p = raw_clone_fn(SYS_clone, CLONE_NEWTIME | CLONE_VM, (long)(child_stack[0] + sizeof child_stack[0]), child, NULL);
  WAIT(p);
  return 0;
}
