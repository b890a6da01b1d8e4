import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from './helpers/build-dist.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'tns.js');
let dir: string;
let L: string;

function tns(...args: string[]) {
  return tnsWith({}, ...args);
}

function tnsWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  buildDist();
  dir = mkdtempSync(join(tmpdir(), 'tns-cli-'));
  L = join(dir, 'l.ndjson');
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tns synth / replay / state / diff / log / why / bisect / verify / repair', () => {
  it('synth writes a ledger; again without --force is refused (exit 2)', () => {
    const r = tns('synth', '--events', '3000', '-o', L, '--seed', '4', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ events: 3000, lastSeq: 3000 });
    const again = tns('synth', '--events', '10', '-o', L);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/exists/);
    expect(tns('synth', '--events', 'many', '-o', join(dir, 'x.ndjson')).code).toBe(2);
  });

  it('replay: summary and --json with the final state and no divergences', () => {
    const t = tns('replay', L);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/replayed to seq 3000/);
    expect(t.out).toMatch(/no divergences/);
    const j = JSON.parse(tns('replay', L, '--to', '1200', '--json').out);
    expect(j.seq).toBe(1200);
    expect(j.divergences).toEqual([]);
    expect(j.state.tasks.length).toBeGreaterThan(0);
  });

  it('state --at: tasks with T/C, time namespaces with refcount/offsets/frozen, ucounts', () => {
    const t = tns('state', L, '--at', '500');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/state after seq 500/);
    expect(t.out).toMatch(/T=time:\[\d+\] C=time:\[\d+\]/);
    expect(t.out).toMatch(/time namespaces/);
    const j = JSON.parse(tns('state', L, '--at', '500', '--json').out);
    expect(j.seq).toBe(500);
    const init = j.namespaces.find((n: { type: string; initial: boolean }) => n.type === 'time' && n.initial);
    expect(init).toMatchObject({ frozen: true, offsets: { monotonic: { sec: 0, nsec: 0 } } });
    expect(tns('state', L).code).toBe(2); // --at is required
    expect(tns('state', L, '--at', '99999').code).toBe(2);
  });

  it('diff A B', () => {
    const j = JSON.parse(tns('diff', L, '0', '3000', '--json').out);
    expect(j.tasks.added.length).toBeGreaterThan(0);
    expect(tns('diff', L, '10', '10').out).toMatch(/no change/);
  });

  it('log with filters', () => {
    const all = JSON.parse(tns('log', L, '--json').out);
    expect(all).toHaveLength(3000);
    const eacces = JSON.parse(tns('log', L, '--errno', 'EACCES', '--json').out) as { outcome: { errno: string } }[];
    expect(eacces.length).toBeGreaterThan(0);
    expect(eacces.every((r) => r.outcome.errno === 'EACCES')).toBe(true);
    const range = JSON.parse(tns('log', L, '--from', '100', '--to', '120', '--call', 'clock_gettime', '--json').out) as { seq: number; op: { call: string } }[];
    expect(range.every((r) => r.seq >= 100 && r.seq <= 120 && r.op.call === 'clock_gettime')).toBe(true);
    const text = tns('log', L, '--pid', '1', '--to', '50');
    expect(text.code).toBe(0);
    expect(tns('log', L, '--errno', 'ENOTANERRNO').code).toBe(2);
    expect(tns('log', L, '--call', 'frobnicate').code).toBe(2);
  });

  it('why NS and log --ns and bisect --freed agree', () => {
    const state = JSON.parse(tns('state', L, '--at', '1500', '--json').out);
    const ns = state.namespaces.find((n: { type: string; initial: boolean; count: number }) => n.type === 'time' && !n.initial);
    const w = JSON.parse(tns('why', L, `time:[${ns.inum}]`, '--at', '1500', '--json').out);
    expect(w.count).toBe(ns.count);
    expect(w.holders.length).toBe(ns.count);
    const changes = w.changes.map((c: { seq: number }) => c.seq);
    const logged = (JSON.parse(tns('log', L, '--ns', String(ns.inum), '--to', '1500', '--json').out) as { seq: number }[]).map((r) => r.seq);
    for (const s of changes) expect(logged).toContain(s);
    expect(tns('why', L, String(ns.inum)).out).toMatch(/time:\[\d+\]/);
    const b = tns('bisect', L, '--freed', String(ns.inum), '--from', String(w.created.seq), '--json');
    const bj = JSON.parse(b.out);
    if (bj.seq !== null) {
      expect(b.code).toBe(0);
      expect(bj.seq).toBeGreaterThan(1500 - 1);
    } else expect(b.code).toBe(1);
    expect(tns('why', L, 'time:[nope]').code).toBe(2);
  });

  it('bisect --clock-backwards; usage errors', () => {
    const r = tns('bisect', L, '--clock-backwards', '1', '--json');
    expect([0, 1]).toContain(r.code);
    expect(JSON.parse(r.out).describe).toMatch(/clock/);
    expect(tns('bisect', L).code).toBe(2);
    expect(tns('bisect', L, '--freed', '1', '--clock-backwards', '1').code).toBe(2);
  });

  it('verify: intact → 0; a flipped byte → 1 naming the line; a torn tail → 1, repair fixes it', () => {
    const v = tns('verify', L);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/intact: 3000 record/);
    const bad = join(dir, 'bad.ndjson');
    const lines = readFileSync(L, 'utf8').split('\n');
    lines[41] = lines[41].replace('"seq":42', '"seq":43');
    writeFileSync(bad, lines.join('\n'));
    const b = tns('verify', bad);
    expect(b.code).toBe(1);
    expect(b.out).toContain(`${bad}:42:`);
    // repair refuses corruption that is not a torn tail
    const rr = tns('repair', bad);
    expect(rr.code).toBe(1);
    expect(rr.err).toContain(':42:');
    const torn = join(dir, 'torn.ndjson');
    writeFileSync(torn, readFileSync(L));
    appendFileSync(torn, '{"v":1,"seq":3001,"op":{"ca');
    const t = tns('verify', torn);
    expect(t.code).toBe(1);
    expect(t.out).toMatch(/:3001: torn tail/);
    const rep = tns('repair', torn);
    expect(rep.code).toBe(0);
    expect(rep.out).toMatch(/removed a torn tail/);
    expect(tns('verify', torn).code).toBe(0);
    expect(tns('repair', torn).out).toMatch(/nothing to repair/);
  });

  it('verify finds a determinism bug: a model-computed outcome changed and re-sealed', async () => {
    const { sealRecord, ZERO_HASH } = await import('../src/events/index.js');
    const recs = readFileSync(L, 'utf8').trim().split('\n').slice(0, 200).map((l) => JSON.parse(l));
    const i = recs.findIndex((r) => r.op.call === 'clock_gettime' && r.outcome.errno === undefined);
    recs[i].outcome.ts.sec += 5;
    let prev = ZERO_HASH;
    const out = recs.map((r, k) => {
      const { v: _v, seq: _s, prev: _p, hash: _h, ...input } = r;
      const s = sealRecord(input, k + 1, prev);
      prev = s.record.hash;
      return s.line;
    });
    const det = join(dir, 'det.ndjson');
    writeFileSync(det, `${out.join('\n')}\n`);
    const r = tns('verify', det);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${det}:${i + 1}:`);
    expect(r.out).toMatch(/determinism/);
  });

  it('bad input: missing file, corrupt line (file:line), unknown flag → exit 2 without a stack trace', () => {
    for (const cmd of [['replay'], ['state', '--at', '1'], ['diff', '1', '2'], ['log'], ['why', '1'], ['bisect', '--freed', '1'], ['verify'], ['repair']]) {
      const [name, ...rest] = cmd;
      const r = tns(name, join(dir, 'missing.ndjson'), ...rest);
      expect(r.code, `${cmd.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(/missing\.ndjson/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const bad = join(dir, 'corrupt.ndjson');
    const lines = readFileSync(L, 'utf8').split('\n');
    lines[9] = '{"v":1,"seq":10,not json';
    writeFileSync(bad, lines.join('\n'));
    for (const cmd of [['replay'], ['state', '--at', '20'], ['log'], ['why', '4026531834']]) {
      const [name, ...rest] = cmd;
      const r = tns(name, bad, ...rest);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.err, cmd.join(' ')).toContain(`${bad}:10:`);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(tns('replay', L, '--frobnicate').code).toBe(2);
    expect(tns('synth', '--events', '5').code).toBe(2);
  });

  it('a long ledger replays on two threads (50,000 records and more) with the same output as on one, faults included', () => {
    const big = join(dir, 'big.ndjson');
    expect(tns('synth', '--events', '60000', '-o', big, '--seed', '9').code).toBe(0);
    const one = { TNS_PIPELINE: '0' };
    const mid = JSON.parse(tns('state', big, '--at', '30000', '--json').out) as { namespaces: { inum: number; initial: boolean }[] };
    const ns = mid.namespaces.find((n) => !n.initial)!;
    expect(ns).toBeDefined();
    for (const cmd of [['replay', '--json', '--snapshot-every', '0'], ['bisect', '--freed', String(ns.inum), '--json'], ['why', String(ns.inum), '--json'], ['verify', '--json']]) {
      const [name, ...rest] = cmd;
      const two = tns(name, big, ...rest);
      expect(two.code, `${cmd.join(' ')}: ${two.err}`).toBe(0);
      expect(two.out).toBe(tnsWith(one, name, big, ...rest).out);
    }
    const bad = join(dir, 'big-bad.ndjson');
    const lines = readFileSync(big, 'utf8').split('\n');
    lines[54320] = lines[54320].replace(/"tid":\d+/, '"tid":0');
    writeFileSync(bad, lines.join('\n'));
    const two = tns('replay', bad, '--snapshot-every', '0');
    expect(two.code).toBe(2);
    expect(two.err).toContain(`${bad}:54321:`);
    expect(two.err).not.toMatch(/\n\s+at /);
    const seq = tnsWith(one, 'replay', bad, '--snapshot-every', '0');
    expect([seq.code, seq.err]).toEqual([two.code, two.err]);
  });

  it('--help of every command shows examples', () => {
    for (const c of ['replay', 'state', 'diff', 'log', 'why', 'bisect', 'verify', 'repair', 'synth']) {
      const r = tns(c, '--help');
      expect(r.code, `${c}: ${r.err}`).toBe(0);
      expect(r.out, c).toMatch(/Examples:/);
    }
  });
});
