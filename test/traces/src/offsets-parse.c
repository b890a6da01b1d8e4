/* /proc/PID/timens_offsets write: the parser. Each write is separate; the namespace is
 * unfrozen (unshare, no fork) so valid lines succeed. */
#include "tns.h"
static int fd;
static void W(const char *s) { write(fd, s, strlen(s)); }
int main(void) {
  unshare(CLONE_NEWTIME);
  fd = open("/proc/self/timens_offsets", O_WRONLY);
  M("parse errors");
  write(fd, "", 0);
  W("\n");
  W("\n\n");
  W("monotonic 0x10 0\n");
  W("monotonic 10 -1\n");
  W("monotonic 10 1000000000\n");
  W("realtime 10 0\n");
  W("0 10 0\n");
  W("4 10 0\n");
  W("MONOTONIC 10 0\n");
  W("monotonic 10\n");
  W("monotonic\n");
  W("monotonic 10 0\n\nboottime 5 0\n");
  W("monotonic 10 0\nboottime x 0\n");
  W("boottime_ 10 0\n");
  W("monotonic 10 0.5\n");
  W("monotonic +10 0\n");
  W("monotonic 10 0\n   ");
  M("accepted");
  W("monotonic 10 0");
  W("monotonic 11 0 trailing garbage\n");
  W("   monotonic    12    0   \n");
  W("monotonic\t13\t0\n");
  W("1 14 0\n7 15 0\n");
  W("monotonic 16 0\nboottime 17 0\nmonotonic 99 0\n");
  RD("/proc/self/timens_offsets");
  W("monotonic 18 0\nmonotonic 19 0\n");
  RD("/proc/self/timens_offsets");
  W("monotonic -1 500000000\nboottime -2 999999999\n");
  RD("/proc/self/timens_offsets");
  W("monotonic 20 0\nboottime 21 0\nthis line is not parsed at all\n");
  W("monotonic 20 0\nboottime 21 0\ngarbage");
  W("monotonic 22 0\nboottime 23 0\n\n");
  W("monotonic 010 0\n");
  W("monotonic 24 000000001\n");
  RD("/proc/self/timens_offsets");
  M("ERANGE");
  W("monotonic 9223372037 0\n");
  W("monotonic -9223372037 0\n");
  W("monotonic 9223372036 0\n");
  W("monotonic -9223372036 0\n");
  W("boottime 4611686018 0\n");
  W("monotonic -1000000000 0\n");
  W("boottime 10 0\nmonotonic -1000000000 0\n");
  RD("/proc/self/timens_offsets");
  M("lower bound: host boottime + offset < 0");
  long up = CG(CLOCK_BOOTTIME);
  char b[64];
  snprintf(b, sizeof b, "boottime %ld 0\n", -(up + 10));
  W(b);
  snprintf(b, sizeof b, "boottime %ld 0\n", -(up - 10));
  W(b);
  RD("/proc/self/timens_offsets");
  close(fd);
  return 0;
}
