/* max_time_namespaces (ucounts). Root here lacks CAP_SYS_RESOURCE in the init user
 * namespace, so the init limit cannot be lowered: it is only read. The limit is set in
 * child user namespaces instead (root there has every capability):
 *  U1 (limit 1): 1st time ns ok; replacing it by unshare needs 2 at once → ENOSPC;
 *  clone3(CLONE_NEWTIME) → ENOSPC; raise to 2 → ok.
 *  U2 inside U1 (limit INT_MAX): the charge walks up to U1 (limit 1, already used) → ENOSPC. */
#include "tns.h"
static void map_self(const char *map) {
  WR("/proc/self/setgroups", "deny");
  WR("/proc/self/uid_map", map);
  WR("/proc/self/gid_map", map);
}
int main(void) {
  RD("/proc/sys/user/max_time_namespaces");
  WR("/proc/sys/user/max_time_namespaces", "96364\n");   /* EACCES here: no CAP_SYS_RESOURCE */
  pid_t p = fork();
  if (p == 0) {
    drop_to_nobody();
    M("U1");
    unshare(CLONE_NEWUSER);
    map_self("0 65534 1\n");                             /* uid 0 in U1 = kuid 65534 */
    NS("/proc/self/ns/user");
    RD("/proc/sys/user/max_time_namespaces");             /* a new userns starts at INT_MAX */
    WR("/proc/sys/user/max_time_namespaces", "1\n");
    RD("/proc/sys/user/max_time_namespaces");
    unshare(CLONE_NEWTIME);                               /* 1st: ok */
    NS("/proc/self/ns/time_for_children");
    unshare(CLONE_NEWTIME);                               /* replacing needs 2 at once: ENOSPC */
    NS("/proc/self/ns/time_for_children");
    struct clone_args ca = {0};
    ca.flags = CLONE_NEWTIME; ca.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &ca, sizeof ca);        /* ENOSPC */
    if (r == 0) _exit(0);
    if (r > 0) WAIT(r);
    WR("/proc/sys/user/max_time_namespaces", "2\n");
    r = syscall(SYS_clone3, &ca, sizeof ca);             /* ok */
    if (r == 0) { NSBOTH(); _exit(0); }
    if (r > 0) WAIT(r);
    WR("/proc/sys/user/max_time_namespaces", "1\n");
    M("U2 inside U1");
    unshare(CLONE_NEWUSER);
    map_self("0 0 1\n");                                 /* uid 0 in U2 = uid 0 in U1 */
    NS("/proc/self/ns/user");
    RD("/proc/sys/user/max_time_namespaces");             /* U2's own limit: INT_MAX */
    unshare(CLONE_NEWTIME);                               /* U2 level ok, U1 level over → ENOSPC */
    NS("/proc/self/ns/time_for_children");
    WR("/proc/sys/user/max_time_namespaces", "0\n");      /* U2's own limit 0 */
    unshare(CLONE_NEWTIME);                               /* ENOSPC at U2 level */
    _exit(0);
  }
  WAIT(p);
  RD("/proc/sys/user/max_time_namespaces");
  return 0;
}
