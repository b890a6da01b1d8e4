// The model's own ids (struct file, files_struct, nsproxy, mm): freed ids are reused lowest first, the lists follow
// from the tables (checkInvariants), and a world written before the lists existed is completed by upgradeWorld.
import { describe, expect, it } from 'vitest';
import { Sim, NEWTIME } from './helpers.js';
import { apply, checkInvariants, createWorld, upgradeWorld, type Op, type World } from '../../src/kernel/index.js';

const fileIdAt = (s: Sim, tid: number, fd: number) => s.w.fdtables[s.w.tasks[tid].files!].fds[fd].file;

describe('ids of the model objects', () => {
  it('a freed file id is reused by the next open, lowest first', () => {
    const s = new Sim();
    const a = s.open(1, '/proc/uptime');
    const b = s.open(1, '/proc/stat');
    const c = s.open(1, '/proc/self/ns/time');
    const [fa, fb, fc] = [fileIdAt(s, 1, a), fileIdAt(s, 1, b), fileIdAt(s, 1, c)];
    expect([fa, fb, fc]).toEqual([4, 5, 6]); // 1-3 are stdin, stdout, stderr
    s.ok({ call: 'close', tid: 1, fd: b });
    s.ok({ call: 'close', tid: 1, fd: a });
    expect(s.w.freeIds.file).toEqual([4, 5]);
    const d = s.open(1, '/proc/uptime');
    expect(fileIdAt(s, 1, d)).toBe(4);
    expect(s.w.freeIds.file).toEqual([5]);
    expect(s.w.nextIds.file).toBe(7);
    // Freeing the highest id steps the counter back past every free id below it.
    s.ok({ call: 'close', tid: 1, fd: c });
    expect(s.w.freeIds.file).toEqual([]);
    expect(s.w.nextIds.file).toBe(5);
  });

  it('a reaped child gives back its mm, fd table and nsproxy ids', () => {
    const s = new Sim();
    const before = JSON.stringify(s.w);
    const child = s.fork(1);
    s.unshareTime(child);
    s.ok({ call: 'exit_group', tid: child, code: 0 });
    s.ok({ call: 'wait', tid: 1, target: child });
    const after = JSON.parse(JSON.stringify(s.w)) as World;
    // Only the pid counter (a number the kernel shows) moved on; the time namespace's inode number was freed.
    after.nextIds.pid = (JSON.parse(before) as World).nextIds.pid;
    after.inumFree = [];
    after.inumNext = (JSON.parse(before) as World).inumNext;
    expect(after).toEqual(JSON.parse(before));
  });

  it('a failed setns leaves the world exactly as it was, free lists and counters included', () => {
    const s = new Sim();
    const fd = s.open(1, '/proc/self/ns/time');
    s.thread(1);
    const before = JSON.stringify(s.w);
    s.err({ call: 'setns', tid: 1, fd, nstype: NEWTIME }, 'EUSERS');
    expect(JSON.stringify(s.w)).toBe(before);
  });

  it('checkInvariants finds a live id in a free list, a freed id missing from it, and a wrong counter', () => {
    const s = new Sim();
    const a = s.open(1, '/proc/uptime');
    s.open(1, '/proc/stat');
    s.ok({ call: 'close', tid: 1, fd: a });
    expect(checkInvariants(s.w)).toEqual([]);
    const w1 = structuredClone(s.w);
    w1.freeIds.file = [4, 5];
    expect(checkInvariants(w1).join('\n')).toMatch(/free file ids \[4, 5\] != \[4\]/);
    const w2 = structuredClone(s.w);
    w2.freeIds.file = [];
    expect(checkInvariants(w2).join('\n')).toMatch(/free file ids \[\] != \[4\]/);
    const w3 = structuredClone(s.w);
    w3.nextIds.mm = 9;
    expect(checkInvariants(w3).join('\n')).toMatch(/next mm id 9 != 3/);
    const w4 = structuredClone(s.w) as Partial<World>;
    delete w4.freeIds;
    expect(checkInvariants(w4 as World).join('\n')).toMatch(/free nsproxy ids \[missing\]/);
  });
});

describe('upgradeWorld', () => {
  /** A world as the model wrote it before freeIds: no lists, every counter past every id ever handed out. */
  function olderWorld(w: World): World {
    const old = JSON.parse(JSON.stringify(w)) as Partial<World> & Pick<World, 'nextIds'>;
    delete old.freeIds;
    old.nextIds = { ...old.nextIds, nsproxy: 90, file: 200, fdtable: 70, mm: 80 };
    return old as World;
  }

  it('derives the free lists and counters from the tables, in a copy, and the model carries on from it as from the original', () => {
    const s = new Sim();
    const child = s.fork(1);
    const fd = s.open(child, '/proc/self/ns/time_for_children');
    s.open(child, '/proc/uptime');
    s.ok({ call: 'close', tid: child, fd });
    s.unshareTime(child);
    s.ok({ call: 'exit', tid: s.thread(child), code: 0 });
    const old = Object.freeze(olderWorld(s.w));
    expect(checkInvariants(old).length).toBeGreaterThan(0);
    const up = upgradeWorld(old);
    expect(up).not.toBe(old);
    expect(checkInvariants(up)).toEqual([]);
    expect(up).toEqual(JSON.parse(JSON.stringify(s.w)));
    expect(upgradeWorld(s.w)).toBe(s.w);
    const ops: Op[] = [
      { call: 'open', tid: child, path: '/proc/self/timens_offsets', mode: 'r' },
      { call: 'fork', tid: child },
      { call: 'clock_gettime', tid: child, clockid: 1 },
      { call: 'exit_group', tid: child, code: 0 },
      { call: 'wait', tid: 1, target: child },
    ];
    const mine = structuredClone(up);
    for (const op of ops) {
      expect(apply(mine, op)).toEqual(apply(s.w, op));
      expect(checkInvariants(mine)).toEqual([]);
    }
    expect(mine).toEqual(JSON.parse(JSON.stringify(s.w)));
  });

  it('leaves a fresh world as it is', () => {
    const w = createWorld();
    expect(upgradeWorld(w)).toBe(w);
    expect(checkInvariants(w)).toEqual([]);
  });
});
