/* probe: what the calling process sees of time namespaces. Exec'd by other scenarios. */
#include "tns.h"
int main(void) {
  M("probe");
  NSBOTH();
  CG(CLOCK_MONOTONIC);
  CG(CLOCK_BOOTTIME);
  RD("/proc/self/timens_offsets");
  return 0;
}
