/** Run the whole tns CLI (src/cli/main.ts) in process, capturing stdout, stderr and the exit code. */
import { main } from '../../src/cli/main.js';

export async function tnsMain(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'tns', ...args]);
    return { code: code || (typeof process.exitCode === 'number' ? process.exitCode : 0), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
  }
}
