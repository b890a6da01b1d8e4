/* /proc/PID/timens_offsets write: file position and size checks. */
#include "tns.h"
int main(void) {
  unshare(CLONE_NEWTIME);
  int fd = open("/proc/self/timens_offsets", O_RDWR);
  M("repeated writes on one fd (write does not advance the position)");
  write(fd, "monotonic 10 0\n", 15);
  write(fd, "monotonic 11 0\n", 15);
  lseek(fd, 0, SEEK_CUR);
  M("pwrite → ESPIPE");
  pwrite(fd, "monotonic 12 0\n", 15, 0);
  pwrite(fd, "monotonic 12 0\n", 15, 5);
  M("read advances the position, then write → EINVAL");
  char b[128];
  read(fd, b, sizeof b);
  write(fd, "monotonic 13 0\n", 15);
  lseek(fd, 0, SEEK_SET);
  write(fd, "monotonic 14 0\n", 15);
  M("lseek to 1 → EINVAL");
  lseek(fd, 1, SEEK_SET);
  write(fd, "monotonic 15 0\n", 15);
  lseek(fd, 0, SEEK_SET);
  M("count >= 4096 → EINVAL, 4095 ok (one record + trailing blanks)");
  static char big[4096];
  memset(big, ' ', sizeof big);
  memcpy(big, "monotonic 16 0", 14);
  write(fd, big, 4096);
  write(fd, big, 4095);
  read(fd, b, sizeof b);
  close(fd);
  return 0;
}
