/* sleeper: waits in pause() until killed. */
#include "tns.h"
int main(void) {
  char b[32];
  int n = snprintf(b, sizeof b, "%d\n", (int)getpid());
  NSBOTH();
  if (write(1, b, n) < 0) {}  /* tells the script its pid */
  close(1);
  pause();
  return 0;
}
