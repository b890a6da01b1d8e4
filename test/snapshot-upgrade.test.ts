// A snapshot written before the world kept free-id lists (World.freeIds) is still a valid start: time travel completes
// it (upgradeWorld) and carries on to the same state as sequential apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInvariants, type World } from '../src/kernel/index.js';
import { openSnapshotStore, readLedgerSync } from '../src/ledger/index.js';
import type { EventRecord } from '../src/events/index.js';
import { writeSynth } from '../src/replay/synth.js';
import { applySequentially } from '../src/replay/project.js';
import { Timeline } from '../src/replay/timetravel.js';
import { modelDigest } from '../src/replay/model-digest.js';
import { readFileSync } from 'node:fs';

const plain = (w: World) => JSON.parse(JSON.stringify(w)) as World;

let dir: string;
let ledger: string;
let records: EventRecord[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tns-snapup-'));
  ledger = join(dir, 'l.ndjson');
  writeSynth(ledger, { events: 3000, seed: 5 });
  records = [...readLedgerSync(ledger)];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('snapshots from before World.freeIds', () => {
  it('are completed from their tables and replayed forward to the same state as sequential apply', () => {
    new Timeline(ledger, { snapshotEvery: 1000 }).stateAt(3000);
    // Rewrite the snapshot at 2000 as the older model wrote it: no free lists, counters past every id ever used.
    const store = openSnapshotStore(ledger, () => {});
    const snap = store.nearestSnapshot<{ kind: string; world: World }>(2000)!;
    expect(snap.seq).toBe(2000);
    const old = snap.state.world as Partial<World> & Pick<World, 'nextIds'>;
    expect(old.freeIds).toBeDefined();
    delete old.freeIds;
    old.nextIds = { ...old.nextIds, nsproxy: old.nextIds.nsproxy + 500, file: old.nextIds.file + 900, fdtable: old.nextIds.fdtable + 300, mm: old.nextIds.mm + 400 };
    store.writeSnapshot(2000, snap.hash, snap.state, modelDigest());

    for (const q of [2000, 2500]) {
      const s = new Timeline(ledger, { snapshotEvery: 0 }).stateAt(q);
      expect(s.from).toBe(2000);
      expect(s.divergences).toEqual([]);
      expect(checkInvariants(s.world)).toEqual([]);
      expect(plain(s.world)).toEqual(plain(applySequentially(records.slice(0, q))));
    }
  });
});

describe('snapshots made by another version of the model', () => {
  it('are not trusted: deleted, the state recomputed from the log, and the snapshot written again by this model', () => {
    new Timeline(ledger, { snapshotEvery: 1000 }).stateAt(3000);
    const store = openSnapshotStore(ledger, () => {});
    const snap = store.nearestSnapshot<{ kind: string; world: World }>(2000, { producer: modelDigest() })!;
    expect(snap.seq).toBe(2000);
    // What an older model might have computed: another answer somewhere in the world (here, a host clock).
    const other = structuredClone(snap.state);
    other.world.host.monotonic.sec += 1000;
    const file = join(`${ledger}.snap`, '0000000000002000.json');
    for (const producer of ['tns-world/0123456789abcdef', undefined]) {
      store.writeSnapshot(2000, snap.hash, other, producer);
      const s = new Timeline(ledger, { snapshotEvery: 1000 }).stateAt(2500);
      expect(s.from, `producer ${producer}`).toBe(1000);
      expect(plain(s.world)).toEqual(plain(applySequentially(records.slice(0, 2500))));
      const header = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]) as { producer?: string };
      expect(header.producer).toBe(modelDigest());
    }
    expect(modelDigest()).toMatch(/^tns-world\/[0-9a-f]{16}$/);
  });
});
