/**
 * Writes to /proc/self/timens_offsets of a freshly unshared time namespace on the real kernel (through python3's
 * ctypes, so no compiler is needed), for the tests that compare a runtime's writes with the model's answers.
 */
import { spawnSync } from 'node:child_process';

/** The interpreter itself (not a pyenv shim, which costs a shell per call). */
export const PYTHON = (() => {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : 'python3';
})();
const LIVE_SCRIPT = String.raw`
import ctypes, os, sys, json, time
libc = ctypes.CDLL(None, use_errno=True)
arg = json.loads(sys.argv[1])
host = [time.clock_gettime_ns(time.CLOCK_MONOTONIC), time.clock_gettime_ns(time.CLOCK_BOOTTIME)]
if libc.unshare(0x80) != 0:
    print(json.dumps({"error": "unshare: " + os.strerror(ctypes.get_errno())})); sys.exit(0)
res = []
for data in arg:
    fd = os.open("/proc/self/timens_offsets", os.O_WRONLY)
    try: res.append(os.write(fd, data.encode()))
    except OSError as e: res.append(-e.errno)
    os.close(fd)
print(json.dumps({"host": host, "writes": res}))
`;
export function liveWrites(texts: string[]): { host: [number, number]; writes: number[]; error?: string } {
  const r = spawnSync(PYTHON, ['-c', LIVE_SCRIPT, JSON.stringify(texts)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
/** Why the live writes cannot run here, or null. */
export const liveReason = (() => {
  if (process.getuid?.() !== 0) return 'needs root (CAP_SYS_ADMIN and CAP_SYS_TIME)';
  try {
    const probe = liveWrites([]);
    return probe.error ? `no time namespaces here (${probe.error})` : null;
  } catch (e) {
    return `python3 unavailable: ${(e as Error).message}`;
  }
})();
export const ERRNO: Record<number, string> = { 22: 'EINVAL', 34: 'ERANGE', 1: 'EPERM', 13: 'EACCES' };
