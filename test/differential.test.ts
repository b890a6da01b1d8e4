/**
 * Differential tests against the real kernel: every fixed scenario in test/scenarios/*.json and a batch of seeded
 * random scenarios run on the live kernel (test/live/tnsexec.c, one real task per modelled task) and in the model,
 * op by op; any disagreement fails with the op, both answers and the ops so far (random ones also with their seed
 * and a minimized scenario). Needs root, CONFIG_TIME_NS and a C compiler; skips with the reason otherwise.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario } from './live/harness.js';
import { buildTnsexec, liveUnavailableReason } from './live/live.js';
import { checkRandom, randomSeeds } from './live/random.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCEN_DIR = join(HERE, 'scenarios');
const reason = liveUnavailableReason();
if (reason) console.warn(`differential tests against the live kernel skipped: ${reason}`);

const files = readdirSync(SCEN_DIR)
  .filter((f) => /^\d+-.*\.json$/.test(f))
  .sort((a, b) => parseInt(a) - parseInt(b));
const fixed: { file: string; scenario: Scenario }[] = [];
for (const f of files) for (const s of JSON.parse(readFileSync(join(SCEN_DIR, f), 'utf8')) as Scenario[]) fixed.push({ file: f, scenario: s });

/** Random scenarios per run (≥ 200), in groups; TNS_RANDOM / TNS_SEED override (e.g. to replay one seed). */
const RANDOM_TOTAL = Number(process.env.TNS_RANDOM ?? 200);
const GROUPS = 4;
const BASE_SEED = process.env.TNS_SEED !== undefined ? Number(process.env.TNS_SEED) : Date.now() % 1_000_000_007;

describe.skipIf(reason !== null)('differential: the model against the live kernel', () => {
  it('builds tnsexec', () => {
    expect(buildTnsexec()).toMatch(/tnsexec$/);
  });

  describe('the harness catches a model clock that is off', () => {
    // A busy machine widens the window a live reading may fall in (the time the call took); a model whose clocks are
    // off by more than the tolerance must still fail, ahead or behind, on every clock a time namespace shifts.
    const clocks: Scenario = {
      name: 'clocks in and out of a time namespace',
      ops: [
        { call: 'clock_gettime', clockid: 1 },
        { call: 'clock_gettime', clockid: 7 },
        { call: 'unshare', flags: 'NEWTIME' },
        { call: 'open', path: '/proc/self/timens_offsets', mode: 'w', as: 'w' },
        { call: 'write', fd: 'w', data: 'monotonic 5 0\n' },
        { call: 'fork', as: 'B' },
        { call: 'clock_gettime', task: 'B', clockid: 1 },
      ],
    };
    it('in step: no mismatch', async () => {
      const r = await runScenario(clocks);
      expect(r.mismatch?.report).toBeUndefined();
    });
    it.each([[250_000_000], [-250_000_000]])('model clocks off by %i ns: a clock mismatch at the first reading', async (skew) => {
      const r = await runScenario(clocks, { modelClockSkewNs: skew });
      expect(r.mismatch?.report).toMatch(/at op #0 .*\n\s*clock 1 differs by/);
    });
  });

  describe('fixed scenarios', () => {
    it.each(fixed.map((x) => [`${x.file}: ${x.scenario.name}`, x] as const))('%s', async (_n, { scenario }) => {
      const r = await runScenario(scenario);
      if (r.mismatch) throw new Error(r.mismatch.report);
      expect(r.skipped).toBe(0);
      expect(r.executed).toBe(scenario.ops.length);
    }, 30_000);
  });

  describe(`random scenarios (${RANDOM_TOTAL}, base seed ${BASE_SEED})`, () => {
    const seeds = randomSeeds(BASE_SEED, RANDOM_TOTAL);
    const per = Math.ceil(seeds.length / GROUPS);
    for (let g = 0; g < GROUPS; g++) {
      const group = seeds.slice(g * per, (g + 1) * per);
      if (group.length === 0) continue;
      it(`seeds ${group[0]} … ${group[group.length - 1]} (${group.length})`, async () => {
        const failures: string[] = [];
        for (const seed of group) {
          const f = await checkRandom(seed);
          if (f) failures.push(f);
          if (failures.length >= 1) break;
        }
        if (failures.length) throw new Error(failures.join('\n\n'));
      }, 120_000);
    }
  });
});
