/* Absolute deadlines inside a namespace with monotonic +1000000 s: converted to host
 * time; a deadline below the offset fires at once; relative timers unaffected. */
#include "tns.h"
#include <sys/timerfd.h>
#include <linux/futex.h>
int main(void) {
  unshare(CLONE_NEWTIME);
  WR("/proc/self/timens_offsets", "monotonic 1000000 0\nboottime 1000000 0\n");
  pid_t p = fork();
  if (p == 0) {
    struct timespec now, d;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    M("clock_nanosleep ABSTIME now+0.1s (ns time)");
    d = now; d.tv_nsec += 100000000; if (d.tv_nsec >= 1000000000) { d.tv_sec++; d.tv_nsec -= 1000000000; }
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
    M("clock_nanosleep ABSTIME 5s (below the offset: at once)");
    d.tv_sec = 5; d.tv_nsec = 0;
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
    M("clock_nanosleep relative 0.05s");
    d.tv_sec = 0; d.tv_nsec = 50000000;
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &d, NULL);
    M("timerfd ABSTIME now+0.1s, BOOTTIME");
    int tfd = timerfd_create(CLOCK_BOOTTIME, 0);
    struct itimerspec its = {0};
    syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &now);
    its.it_value = now; its.it_value.tv_nsec += 100000000;
    if (its.it_value.tv_nsec >= 1000000000) { its.it_value.tv_sec++; its.it_value.tv_nsec -= 1000000000; }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    struct itimerspec cur;
    timerfd_gettime(tfd, &cur);
    uint64_t exp;
    read(tfd, &exp, sizeof exp);
    M("timerfd ABSTIME 1s (below the offset)");
    its.it_value.tv_sec = 1; its.it_value.tv_nsec = 0;
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    read(tfd, &exp, sizeof exp);
    close(tfd);
    M("futex FUTEX_WAIT_BITSET abs monotonic now+0.05s");
    uint32_t word = 0;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    d = now; d.tv_nsec += 50000000; if (d.tv_nsec >= 1000000000) { d.tv_sec++; d.tv_nsec -= 1000000000; }
    syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, 0, &d, NULL, FUTEX_BITSET_MATCH_ANY);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now);
    _exit(0);
  }
  WAIT(p);
  return 0;
}
