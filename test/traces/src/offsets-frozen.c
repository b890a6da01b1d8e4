/* Writes to a frozen namespace: EACCES for a valid line, but ERANGE / EINVAL come first;
 * the init namespace is frozen too. */
#include "tns.h"
int main(void) {
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 40 0\n");
  pid_t p = fork();
  if (p == 0) _exit(0);
  WAIT(p);
  M("C frozen by the fork");
  int fd = open("/proc/self/timens_offsets", O_WRONLY);
  write(fd, "monotonic 41 0\n", 15);                 /* EACCES */
  write(fd, "monotonic 9223372037 0\n", 23);         /* ERANGE before EACCES */
  write(fd, "monotonic 41 1000000000\n", 24);        /* EINVAL (parse) */
  write(fd, "monotonic 41 0\nboottime 9223372037 0\n", 37); /* ERANGE */
  close(fd);
  M("init namespace via /proc/1; then a child of ours (it is in the frozen C)");
  WR("/proc/1/timens_offsets", "monotonic 1 0\n");   /* EACCES: init is frozen from the start */
  pid_t q = fork();
  if (q == 0) { WR("/proc/self/timens_offsets", "monotonic 1 0\n"); RD("/proc/self/timens_offsets"); _exit(0); }
  WAIT(q);
  RD("/proc/1/timens_offsets");
  return 0;
}
