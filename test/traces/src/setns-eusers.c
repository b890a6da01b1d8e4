/* When is setns(time) EUSERS? A second thread, a vfork child sharing the mm, a live
 * CLONE_VM child (no CLONE_THREAD). */
#include "tns.h"
#include <pthread.h>
static int target;
static struct gate tg;
static void *thr(void *a) { (void)a; gate_wait(&tg); return NULL; }
static struct gate vmg;
static int vm_child(void *a) { (void)a; gate_wait(&vmg); return 0; }
int main(void) {
  struct gate ready, done;
  gate_init(&ready); gate_init(&done);
  pid_t h = fork();
  if (h == 0) {
    unshare(CLONE_NEWTIME);
    WR("/proc/self/timens_offsets", "monotonic 1000 0\n");
    pid_t hh = fork();
    if (hh == 0) { gate_open(&ready); gate_wait(&done); _exit(0); }
    WAIT(hh);
    _exit(0);
  }
  gate_wait(&ready);
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/ns/time_for_children", (int)h);
  target = open(p, O_RDONLY);
  int other_ns = open("/proc/self/ns/net", O_RDONLY);
  int own_t = open("/proc/self/ns/time", O_RDONLY);
  M("multithreaded: setns time");
  gate_init(&tg);
  pthread_t t;
  pthread_create(&t, NULL, thr, NULL);
  setns(target, CLONE_NEWTIME);
  setns(own_t, CLONE_NEWTIME);                /* the ns it is already in, while multithreaded */
  setns(other_ns, CLONE_NEWNET);              /* other types are fine multithreaded */
  gate_open(&tg);
  pthread_join(t, NULL);
  M("live CLONE_VM child: setns time");
  gate_init(&vmg);
  long c = raw_clone_fn(SYS_clone, CLONE_VM | SIGCHLD, (long)(child_stack[0] + sizeof child_stack[0]), vm_child, NULL);
  setns(target, CLONE_NEWTIME);
  gate_open(&vmg);
  WAIT(c);
  M("vfork child: setns time (parent shares the mm)");
  pid_t v = vfork();
  if (v == 0) {
    long r = setns(target, CLONE_NEWTIME);
    _exit(r == 0 ? 0 : errno);
  }
  WAIT(v);
  M("single again: setns time works");
  setns(target, CLONE_NEWTIME);
  NSBOTH();
  close(target);
  gate_open(&done);
  WAIT(h);
  return 0;
}
