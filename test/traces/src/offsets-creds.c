/* The offsets file judges CAP_SYS_TIME from the opener's credentials at open time. */
#include "tns.h"
int main(void) {
  pid_t p = fork();
  if (p == 0) {
    unshare(CLONE_NEWTIME);
    int fd_root = open("/proc/self/timens_offsets", O_WRONLY);
    M("drop to uid 65534");
    drop_to_nobody();
    write(fd_root, "monotonic 60 0\n", 15);          /* opened by root: allowed? */
    RD("/proc/self/timens_offsets");
    int fd_user = open("/proc/self/timens_offsets", O_WRONLY);
    write(fd_user, "monotonic 61 0\n", 15);          /* EPERM */
    write(fd_user, "monotonic 61 x\n", 15);          /* EINVAL: parse first */
    write(fd_user, "monotonic 9223372037 0\n", 23);  /* EPERM: cap check before range */
    M("unprivileged namespace operations");
    unshare(CLONE_NEWTIME);                          /* EPERM */
    int t = open("/proc/self/ns/time", O_RDONLY);
    setns(t, CLONE_NEWTIME);                         /* EPERM */
    struct clone_args ca = {0};
    ca.flags = CLONE_NEWTIME; ca.exit_signal = SIGCHLD;
    syscall(SYS_clone3, &ca, sizeof ca);             /* EPERM (no child is created) */
    open("/proc/1/ns/time", O_RDONLY);               /* EACCES: no ptrace read access */
    _exit(0);
  }
  WAIT(p);
  return 0;
}
