/* /proc/uptime, /proc/stat btime, /proc/PID/stat start time and sysinfo() inside a
 * namespace with boottime +100000 s, compared with outside. */
#include "tns.h"
#include <sys/sysinfo.h>
static void look(pid_t who) {
  char p[64];
  struct sysinfo si;
  RD("/proc/uptime");
  int fd = open("/proc/stat", O_RDONLY);
  static char b[65536];
  long n = read(fd, b, sizeof b);
  (void)n;
  close(fd);
  snprintf(p, sizeof p, "/proc/%d/stat", (int)who);
  RD(p);
  sysinfo(&si);
  CG(CLOCK_BOOTTIME);
}
int main(void) {
  pid_t me = getpid();
  M("outside");
  look(me);
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "boottime 100000 0\nmonotonic 50000 0\n");
  pid_t p = fork();
  if (p == 0) {
    M("inside, reading own and the parent's /proc/PID/stat");
    look(getppid());
    char q[64]; snprintf(q, sizeof q, "/proc/%d/stat", (int)getpid()); RD(q);
    _exit(0);
  }
  WAIT(p);
  return 0;
}
