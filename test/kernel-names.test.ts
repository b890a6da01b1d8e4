/**
 * Namespace names as users give them: the traced kernel's inode numbers in a ledger imported from a trace (bound to
 * the model's namespaces by the recorded outcomes that named them), and a type that must match (an inode number reused
 * by a namespace of another type is another namespace). state shows the kernel's numbers beside the model's, why and
 * log --ns accept them, snapshots keep the bindings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tnsMain } from './helpers/tns-main.js';
import { Timeline, why } from '../src/replay/timetravel.js';
import { filterLog, type NsResolution } from '../src/replay/log-filter.js';
import { writeSynth } from '../src/replay/synth.js';

const dir = mkdtempSync(join(tmpdir(), 'tns-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tns = tnsMain;

// test/traces/nested.strace: 11551 unshares a time namespace (the kernel's time:[4026532177]), its child 11552 enters
// it, unshares again (time:[4026532179]) and forks 11553 into that one.
const TRACE = 'test/traces/nested.strace';
const trace = join(dir, 'nested.ndjson');
const synth = join(dir, 'synth.ndjson');

beforeAll(async () => {
  expect((await tns('import', 'strace', TRACE, '-o', trace)).code).toBe(0);
  writeSynth(synth, { events: 2000, seed: 7 });
});

describe('the traced kernel\'s inode numbers', () => {
  it('state: bound to the model\'s namespaces by the recorded readlinks, and the same from a snapshot as from the genesis', () => {
    const fromGenesis = new Timeline(trace, { snapshotEvery: 0, useSnapshots: false }).stateAt(29);
    const names = fromGenesis.kernelNames;
    const kernel = Object.values(names).sort();
    expect(kernel).toEqual([4026532177, 4026532179]);
    for (const m of Object.keys(names)) expect(fromGenesis.world.namespaces[Number(m)].type).toBe('time');
    // Snapshots every 10 records, then a seek that starts from one: the bindings come with it.
    new Timeline(trace, { snapshotEvery: 10 }).stateAt('end');
    const seek = new Timeline(trace, { snapshotEvery: 10 }).stateAt(29);
    expect(seek.from).toBe(20);
    expect(seek.kernelNames).toEqual(names);
  });

  it('why by the kernel\'s number answers for the model\'s namespace it names, as why by the model\'s number does', () => {
    const names = new Timeline(trace, { snapshotEvery: 0, useSnapshots: false }).stateAt(29).kernelNames;
    const model = Number(Object.keys(names).find((m) => names[Number(m)] === 4026532177));
    const byKernel = why(trace, { inum: 4026532177, type: 'time' }, 29);
    const byModel = why(trace, { inum: model, type: 'time' }, 29);
    expect(byKernel.kernelInum).toBe(4026532177);
    expect(byModel.kernelInum).toBeNull();
    expect({ ...byKernel, kernelInum: null }).toEqual(byModel);
    expect(byKernel.alive).toBe(true);
    expect(byKernel.tasks.map((t) => t.tid)).toEqual([11551, 11552]);
  });

  it('log --ns by the kernel\'s number: the records that touched that namespace, the readlinks that named it too', () => {
    const resolved: { ns?: NsResolution } = {};
    const seqs = [...filterLog(trace, { ns: { inum: 4026532177, type: 'time' } }, resolved)].map((r) => r.seq);
    expect(resolved.ns?.kernelInum).toBe(4026532177);
    const model = resolved.ns!.inum;
    const byModel = [...filterLog(trace, { ns: { inum: model } })].map((r) => r.seq);
    // The model's own number misses nothing the kernel's finds, and the kernel's finds the records naming it.
    expect(seqs).toEqual(expect.arrayContaining(byModel));
    const texts = [...filterLog(trace, {})].filter((r) => r.outcome?.text === 'time:[4026532177]').map((r) => r.seq);
    expect(texts.length).toBeGreaterThan(0);
    expect(seqs).toEqual(expect.arrayContaining(texts));
  });

  it('the CLI: state shows "(trace N)", why says which namespace the number is', async () => {
    const s = await tns('state', trace, '--at', '29');
    expect(s.out).toMatch(/\(trace 4026532177\)/);
    const w = await tns('why', trace, 'time:[4026532177]', '--at', '29');
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/^time:\[4026532177\] in the trace is the model's time:\[\d+\]$/m);
  });
});

describe('a type in the namespace name', () => {
  // In the synth ledger (seed 7), time:[4026531843] is freed at seq 485 and its number reused by a mount namespace.
  const INUM = 4026531843;

  it('why: the time namespace freed, not the mount namespace that took its number', () => {
    const typed = why(synth, { inum: INUM, type: 'time' }, 600);
    expect(typed.type).toBe('time');
    expect(typed.alive).toBe(false);
    expect(typed.freed?.seq).toBe(485);
    const untyped = why(synth, INUM, 600);
    expect(untyped.type).toBe('mnt');
    expect(untyped.alive).toBe(true);
  });

  it('log --ns: the mount namespace\'s records are not the time namespace\'s', () => {
    const time = [...filterLog(synth, { ns: { inum: INUM, type: 'time' }, to: 600 })].map((r) => r.seq);
    const mnt = [...filterLog(synth, { ns: { inum: INUM, type: 'mnt' }, to: 600 })].map((r) => r.seq);
    expect(time).toContain(485);
    expect(time.every((s) => s <= 485)).toBe(true);
    expect(mnt.length).toBeGreaterThan(0);
    expect(mnt.every((s) => s > 485)).toBe(true);
  });

  it('the CLI: an unknown type is a usage error; a namespace never seen exits 1', async () => {
    const bad = await tns('why', synth, 'tyme:[4026531843]');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown type "tyme"/);
    const proto = await tns('why', synth, 'constructor:[4026531843]');
    expect(proto.code).toBe(2);
    const never = await tns('why', synth, 'time:[4026539999]');
    expect(never.code).toBe(1);
    expect(never.out).toMatch(/never seen/);
  });
});
