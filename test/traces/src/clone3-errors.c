/* clone3 argument checks. */
#include "tns.h"
static int child(void *a) { (void)a; return 0; }
static long c3(struct clone_args *ca, size_t size) {
  long p = raw_clone_fn(SYS_clone3, (long)ca, size, child, NULL);
  if (p > 0) WAIT(p);
  return p;
}
int main(void) {
  struct clone_args ca;
  char big[8192] __attribute__((aligned(8)));
  memset(big, 0, sizeof big);
  memset(&ca, 0, sizeof ca); ca.exit_signal = SIGCHLD;
  M("size 56 < 64"); c3(&ca, 56);
  M("size 8192 > page"); memcpy(big, &ca, sizeof ca); c3((struct clone_args *)big, sizeof big);
  M("unknown flag bit 1<<40"); ca.flags = 1ULL << 40; c3(&ca, sizeof ca);
  M("CLONE_DETACHED"); ca.flags = 0x00400000; c3(&ca, sizeof ca);
  M("CSIGNAL bit 0x11"); ca.flags = 0x11; c3(&ca, sizeof ca);
  M("exit_signal 65"); ca.flags = 0; ca.exit_signal = 65; c3(&ca, sizeof ca);
  M("CLONE_THREAD|SIGHAND|VM with exit_signal"); ca.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM; ca.exit_signal = SIGCHLD;
  ca.stack = (uint64_t)(uintptr_t)child_stack[0]; ca.stack_size = sizeof child_stack[0]; c3(&ca, sizeof ca);
  M("CLONE_PARENT with exit_signal"); memset(&ca, 0, sizeof ca); ca.flags = CLONE_PARENT; ca.exit_signal = SIGCHLD; c3(&ca, sizeof ca);
  M("stack without size"); memset(&ca, 0, sizeof ca); ca.exit_signal = SIGCHLD; ca.stack = (uint64_t)(uintptr_t)child_stack[0]; c3(&ca, sizeof ca);
  M("size without stack"); memset(&ca, 0, sizeof ca); ca.exit_signal = SIGCHLD; ca.stack_size = 4096; c3(&ca, sizeof ca);
  M("CLONE_NEWTIME exit_signal 0 (ok)"); memset(&ca, 0, sizeof ca); ca.flags = CLONE_NEWTIME; c3(&ca, sizeof ca);
  M("CLONE_NEWTIME|CLONE_THREAD (needs VM/SIGHAND)"); memset(&ca, 0, sizeof ca); ca.flags = CLONE_NEWTIME | CLONE_THREAD; c3(&ca, sizeof ca);
  M("size 64 ok"); memset(&ca, 0, sizeof ca); ca.exit_signal = SIGCHLD; c3(&ca, 64);
  M("size 4096 with zero tail ok"); memcpy(big, &ca, sizeof ca); c3((struct clone_args *)big, 4096);
  M("size 4096 with non-zero tail → E2BIG"); big[4000] = 1; c3((struct clone_args *)big, 4096);
  return 0;
}
