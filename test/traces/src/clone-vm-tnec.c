/* While T != C (after unshare): clone(CLONE_VM) without CLONE_THREAD and a thread are
 * allowed on 6.2+ and stay in T (they share the nsproxy); the CLONE_VM child's execve
 * then switches only that child into C. */
#include "tns.h"
#include <pthread.h>
static char probe_path[256];
static struct gate g;
static int vm_child(void *a) {
  (void)a;
  NSBOTH();
  CG(CLOCK_MONOTONIC);
  gate_wait(&g);
  char *const av[] = {"probe", NULL};
  execve(probe_path, av, (char *const[]){NULL});
  return 127;
}
static void *thr(void *a) { (void)a; NSBOTH(); CG(CLOCK_MONOTONIC); return NULL; }
int main(int argc, char **argv) {
  (void)argc;
  snprintf(probe_path, sizeof probe_path, "%s", argv[0]);
  char *slash = strrchr(probe_path, '/');
  if (slash) strcpy(slash + 1, "probe");
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 9000 0\n");
  NSBOTH();
  M("thread while T != C");
  pthread_t t;
  pthread_create(&t, NULL, thr, NULL);
  pthread_join(t, NULL);
  M("clone(CLONE_VM|SIGCHLD) while T != C");
  gate_init(&g);
  long c = raw_clone_fn(SYS_clone, CLONE_VM | SIGCHLD, (long)(child_stack[0] + sizeof child_stack[0]), vm_child, NULL);
  RD("/proc/self/timens_offsets");
  WR("/proc/self/timens_offsets", "monotonic 9001 0\n");  /* not frozen: nobody entered yet */
  gate_open(&g);
  WAIT(c);
  M("after the child's exec: C frozen");
  WR("/proc/self/timens_offsets", "monotonic 9002 0\n");
  NSBOTH();
  return 0;
}
