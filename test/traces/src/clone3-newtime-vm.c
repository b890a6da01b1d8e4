/* clone3(CLONE_NEWTIME|CLONE_VM|CLONE_VFORK): the child keeps the parent's T, its C is
 * the new X (not frozen, it may write offsets), and it enters X at execve.
 * Then clone3(CLONE_NEWTIME|CLONE_VM) without exec: the child stays in T and exits. */
#include "tns.h"
static char probe_path[256];
static int child_exec(void *a) {
  (void)a;
  NSBOTH();
  WR("/proc/self/timens_offsets", "monotonic 4242 0\n"); /* /proc/self = the child's tgid */
  char *const av[] = {"probe", NULL};
  execve(probe_path, av, (char *const[]){NULL});
  return 127;
}
static int child_stay(void *a) {
  (void)a;
  NSBOTH();
  CG(CLOCK_MONOTONIC);
  WR("/proc/self/timens_offsets", "boottime 11 0\n");
  RD("/proc/self/timens_offsets");
  return 0;
}
int main(int argc, char **argv) {
  (void)argc;
  snprintf(probe_path, sizeof probe_path, "%s", argv[0]);
  char *slash = strrchr(probe_path, '/');
  if (slash) strcpy(slash + 1, "probe");
  NSBOTH();
  M("clone3 NEWTIME|VM|VFORK then exec");
  struct clone_args ca = {0};
  ca.flags = CLONE_NEWTIME | CLONE_VM | CLONE_VFORK;
  ca.exit_signal = SIGCHLD;
  ca.stack = (uint64_t)(uintptr_t)child_stack[0];
  ca.stack_size = sizeof child_stack[0];
  long p = raw_clone_fn(SYS_clone3, (long)&ca, sizeof ca, child_exec, NULL);
  WAIT(p);
  M("clone3 NEWTIME|VM, no exec");
  struct clone_args cb = {0};
  cb.flags = CLONE_NEWTIME | CLONE_VM;
  cb.exit_signal = SIGCHLD;
  cb.stack = (uint64_t)(uintptr_t)child_stack[1];
  cb.stack_size = sizeof child_stack[1];
  p = raw_clone_fn(SYS_clone3, (long)&cb, sizeof cb, child_stay, NULL);
  WAIT(p);
  NSBOTH();
  return 0;
}
