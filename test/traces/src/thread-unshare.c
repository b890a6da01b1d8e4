/* A non-leader thread unshares CLONE_NEWTIME: only that thread's C changes; a
 * multithreaded process may unshare a time namespace, but not CLONE_VM/CLONE_THREAD. */
#include "tns.h"
#include <pthread.h>
static pid_t leader;
static struct gate g1, g2;
static void *thr(void *a) {
  (void)a;
  pid_t tid = syscall(SYS_gettid);
  char p[96];
  M("thread unshare");
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 1000 0\n"); /* /proc/self = the tgid: the leader's C */
  snprintf(p, sizeof p, "/proc/thread-self/timens_offsets");
  WR(p, "monotonic 1000 0\n"); /* per-thread file does not exist */
  snprintf(p, sizeof p, "/proc/%d/task/%d/ns/time_for_children", (int)leader, (int)tid);
  NS(p);
  snprintf(p, sizeof p, "/proc/%d/task/%d/ns/time_for_children", (int)leader, (int)leader);
  NS(p);
  NS("/proc/thread-self/ns/time");
  NS("/proc/thread-self/ns/time_for_children");
  M("thread forks");
  pid_t c = fork();
  if (c == 0) { NSBOTH(); CG(CLOCK_MONOTONIC); _exit(0); }
  WAIT(c);
  gate_open(&g1);
  gate_wait(&g2);
  return NULL;
}
int main(void) {
  leader = getpid();
  gate_init(&g1); gate_init(&g2);
  NSBOTH();
  pthread_t t;
  pthread_create(&t, NULL, thr, NULL);
  gate_wait(&g1);
  M("leader: still init C; unshare(CLONE_NEWTIME) while multithreaded");
  NSBOTH();
  pid_t c = fork();
  if (c == 0) { NSBOTH(); CG(CLOCK_MONOTONIC); _exit(0); }
  WAIT(c);
  unshare(CLONE_NEWTIME);             /* allowed while multithreaded */
  NS("/proc/self/ns/time_for_children");
  unshare(CLONE_NEWTIME | CLONE_VM);  /* CLONE_VM while multithreaded → EINVAL */
  unshare(CLONE_THREAD);              /* EINVAL */
  unshare(CLONE_FS);                  /* fine */
  gate_open(&g2);
  pthread_join(t, NULL);
  M("single-threaded again");
  unshare(CLONE_VM);                  /* single-threaded: allowed, a no-op */
  unshare(CLONE_NEWTIME | CLONE_PARENT); /* CLONE_PARENT is unknown to unshare → EINVAL */
  return 0;
}
