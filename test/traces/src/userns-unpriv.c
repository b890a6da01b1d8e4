/* uid 65534 (no capabilities): unshare(CLONE_NEWUSER|CLONE_NEWTIME) works; the new time
 * namespace is owned by the new user namespace, so root-in-userns may write offsets and
 * setns into it, but setns to the init time namespace is EPERM. */
#include "tns.h"
int main(void) {
  pid_t p = fork();
  if (p == 0) {
    int init_t = open("/proc/self/ns/time", O_RDONLY);  /* opened while root */
    drop_to_nobody();
    M("unprivileged unshare time alone");
    unshare(CLONE_NEWTIME);                             /* EPERM */
    M("unshare user+time");
    unshare(CLONE_NEWUSER | CLONE_NEWTIME);
    NS("/proc/self/ns/user");
    NSBOTH();
    WR("/proc/self/timens_offsets", "monotonic 5000 0\nboottime 6000 0\n");
    RD("/proc/self/timens_offsets");
    int x = open("/proc/self/ns/time_for_children", O_RDONLY);
    M("setns to init time ns: EPERM");
    setns(init_t, CLONE_NEWTIME);
    M("setns into its own X");
    setns(x, CLONE_NEWTIME);
    CG(CLOCK_MONOTONIC);
    NSBOTH();
    M("nested: unshare again inside the userns, child enters");
    unshare(CLONE_NEWTIME);
    RD("/proc/self/timens_offsets");                    /* copied from C = X */
    WR("/proc/self/timens_offsets", "monotonic 5001 0\n");
    pid_t c = fork();
    if (c == 0) { NSBOTH(); CG(CLOCK_MONOTONIC); _exit(0); }
    WAIT(c);
    _exit(0);
  }
  WAIT(p);
  M("root creates a user+time ns: owner is the new userns");
  pid_t q = fork();
  if (q == 0) {
    int init_t = open("/proc/self/ns/time", O_RDONLY);  /* init time ns, opened before the unshare */
    unshare(CLONE_NEWUSER | CLONE_NEWTIME);
    NS("/proc/self/ns/user");
    NSBOTH();
    setns(init_t, CLONE_NEWTIME);                       /* EPERM: no CAP_SYS_ADMIN over the init userns */
    _exit(0);
  }
  WAIT(q);
  return 0;
}
