/**
 * A name for the code that computes replay states: the kernel model and the projection's state transitions
 * (src/kernel/*, and the replay files that apply records and recorded outcomes), as "tns-world/" + the first 16 hex
 * digits of a sha256 over their file names and contents. Snapshots carry it (src/ledger/snapshots.ts `producer`), so
 * a snapshot written by another version of tns — whose model may answer differently — is recomputed, not trusted.
 * Read once per process from the modules' own files (dist/*.js when installed, src/*.ts under the test runner).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The replay files whose code decides a state (besides the kernel). */
const REPLAY_FILES = ['project', 'force', 'outcome', 'clone', 'genesis'];

let digest: string | undefined;

export function modelDigest(): string {
  if (digest !== undefined) return digest;
  const h = createHash('sha256');
  const ext = fileURLToPath(import.meta.url).endsWith('.ts') ? '.ts' : '.js';
  const kernelDir = join(HERE, '..', 'kernel');
  const files = readdirSync(kernelDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith(`.d${ext}`))
    .sort()
    .map((f) => join(kernelDir, f));
  for (const name of REPLAY_FILES) files.push(join(HERE, name + ext));
  for (const f of files) {
    h.update(f.slice(f.lastIndexOf('/', f.lastIndexOf('/') - 1) + 1));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  digest = `tns-world/${h.digest('hex').slice(0, 16)}`;
  return digest;
}
