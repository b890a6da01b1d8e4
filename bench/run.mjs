// Runs every bench/*.bench.mjs in turn (each in its own process, so one's memory does not weigh on the next)
// and prints their results. `npm run bench` builds first, then runs this. Extra arguments go to every bench.
// BENCH=name runs only the benches whose file name contains it.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env.BENCH;
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs') && (!only || f.includes(only)))
  .sort();
if (benches.length === 0) {
  console.error(`no bench/*.bench.mjs${only ? ` matching "${only}"` : ''}`);
  process.exit(2);
}
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b} ===`);
  const t = Date.now();
  const r = spawnSync(process.execPath, [join(here, b), ...process.argv.slice(2)], { stdio: 'inherit' });
  const secs = ((Date.now() - t) / 1000).toFixed(0);
  if (r.status !== 0) {
    failed++;
    console.log(`=== ${b} FAILED (exit ${r.status ?? r.signal}) after ${secs} s ===`);
  } else console.log(`=== ${b} done in ${secs} s ===`);
}
process.exit(failed ? 1 : 0);
