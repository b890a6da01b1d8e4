/* unshare(CLONE_NEWTIME) then execve without fork: 6.2+ switches T := C at exec. */
#include "tns.h"
int main(int argc, char **argv) {
  (void)argc;
  NSBOTH();
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 3600 0\nboottime 7200 0\n");
  NSBOTH();
  CG(CLOCK_MONOTONIC);
  M("execve probe");
  char *const av[] = {"probe", NULL};
  char path[256];
  snprintf(path, sizeof path, "%s", argv[0]);
  char *slash = strrchr(path, '/');
  if (slash) strcpy(slash + 1, "probe");
  execve(path, av, (char *const[]){NULL});
  return 1;
}
