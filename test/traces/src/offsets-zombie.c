/* A zombie (exited, not yet waited for) has no nsproxy: /proc/PID/ns/time is ENOENT,
 * timens_offsets reads empty and writes ESRCH. The zombie does not hold its namespace:
 * its inode number can be reused while it is still a zombie. */
#include "tns.h"
int main(void) {
  struct gate g, die; gate_init(&g); gate_init(&die);
  pid_t p = fork();
  if (p == 0) {
    unshare(CLONE_NEWTIME);
    WR("/proc/self/timens_offsets", "monotonic 77 0\n");
    NSBOTH();
    gate_open(&g);
    gate_wait(&die);
    _exit(0);
  }
  gate_wait(&g);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/timens_offsets", (int)p);
  int fd = open(path, O_RDWR);  /* opened while alive */
  RDP(p);
  NSP(p, "time_for_children");
  gate_open(&die);
  /* wait for it to become a zombie without reaping it */
  siginfo_t si;
  waitid(P_PID, p, &si, WEXITED | WNOWAIT);
  M("zombie");
  NSP(p, "time");
  NSP(p, "time_for_children");
  snprintf(path, sizeof path, "/proc/%d/ns/time", (int)p);
  open(path, O_RDONLY);
  RDP(p);
  WRP(p, "monotonic 78 0\n");
  write(fd, "monotonic 78 0\n", 15);   /* fd opened while alive */
  M("the zombie's namespace was freed: a new one may reuse its inode");
  unshare(CLONE_NEWTIME);
  NS("/proc/self/ns/time_for_children");
  WAIT(p);
  close(fd);
  return 0;
}
