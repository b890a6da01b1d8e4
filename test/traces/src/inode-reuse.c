/* A time namespace's inode number is freed with it and reused by the next one;
 * an nsfs fd pins the namespace (and its number). */
#include "tns.h"
int main(void) {
  M("X");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  M("Y replaces X (X is freed after Y got a number)");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  M("Z replaces Y: may reuse X's number");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  M("pin Z with an fd, replace it");
  int fd = open("/proc/self/ns/time_for_children", O_RDONLY);
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  M("close the pin: Z is freed; next one reuses its number?");
  close(fd);
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  M("held by a child's nsproxy until the child exits");
  pid_t p = fork();
  if (p == 0) { NSBOTH(); pause(); _exit(0); }
  NSP(p, "time");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  kill(p, SIGKILL);
  WAIT(p);
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  return 0;
}
