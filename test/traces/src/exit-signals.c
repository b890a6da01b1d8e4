/* Lifecycles: exit codes, death by SIGKILL / SIGTERM / SIGSEGV (raise), a zombie kept
 * by a parent that has not waited yet, a child of a child reparented. */
#include "tns.h"
int main(void) {
  unshare(CLONE_NEWTIME);
  pid_t a = fork();
  if (a == 0) _exit(3);
  pid_t b = fork();
  if (b == 0) { pause(); _exit(0); }
  pid_t c = fork();
  if (c == 0) { raise(SIGTERM); _exit(0); }
  pid_t d = fork();
  if (d == 0) { signal(SIGSEGV, SIG_DFL); raise(SIGSEGV); _exit(0); }
  siginfo_t si;
  waitid(P_PID, a, &si, WEXITED | WNOWAIT);
  M("a is a zombie");
  NSP(a, "time");
  RDP(a);
  kill(b, SIGKILL);
  WAIT(a); WAIT(b); WAIT(c); WAIT(d);
  M("orphan: a grandchild outlives its parent");
  struct gate g; gate_init(&g);
  pid_t e = fork();
  if (e == 0) {
    pid_t f = fork();
    if (f == 0) { gate_wait(&g); NSBOTH(); _exit(0); }
    _exit(0);
  }
  WAIT(e);
  gate_open(&g);
  usleep(200000);
  M("exit_group from a thread-less process");
  return 7;
}
