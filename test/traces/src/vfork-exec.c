/* vfork + exec after unshare (and glibc posix_spawn = clone(CLONE_VM|CLONE_VFORK)):
 * the child shares the parent's nsproxy (T stays init) until its exec switches it to C. */
#include "tns.h"
#include <spawn.h>
int main(int argc, char **argv) {
  (void)argc;
  char path[256];
  snprintf(path, sizeof path, "%s", argv[0]);
  char *slash = strrchr(path, '/');
  if (slash) strcpy(slash + 1, "probe");
  char *const av[] = {"probe", NULL};
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 500 0\n");
  NSBOTH();
  M("vfork");
  pid_t p = vfork();
  if (p == 0) {
    execve(path, av, (char *const[]){NULL});
    _exit(127);
  }
  WAIT(p);
  M("parent: C is frozen by the child's exec");
  WR("/proc/self/timens_offsets", "monotonic 501 0\n");
  NSBOTH();
  M("posix_spawn");
  pid_t q;
  posix_spawn(&q, path, NULL, NULL, av, (char *const[]){NULL});
  WAIT(q);
  return 0;
}
