/**
 * A scenario machine's events as ledger records (src/events EventInput): kernel ops with the outcome the model
 * computed (recorded: false), the host clocks at each event, the scenario file and line, and markers.
 * Each machine is its own ledger: it starts with marker.profile and, for a machine other than the first
 * of a scenario, the restorer's events.
 */
import { apply, createWorld, type Op, type World } from '../kernel/index.js';
import { GENESIS_PID } from '../replay/checkpoint.js';
import type { EventInput } from '../events/schema.js';
import type { Machine } from './run.js';

/**
 * The record that makes a ledger's genesis explicit: the model's own first task (GENESIS_PID, which exists from the
 * start of the world) reads CLOCK_MONOTONIC. Replay takes the first caller that no earlier record created as the
 * world's first task, so this names it — whatever pids the scenario uses (pid 1 included). It changes nothing.
 */
export function genesisRecord(w: World): EventInput {
  const op: Op = { call: 'clock_gettime', tid: GENESIS_PID, clockid: 1 };
  const outcome = apply(w, op);
  return { op, outcome: stripUndefined(outcome), recorded: false, pid: GENESIS_PID, at: clocksOf(w), note: `genesis: the model's own first task (pid ${GENESIS_PID}) exists from the start; every other task comes from an event` };
}

export interface MachineRecords {
  records: EventInput[];
  /** The seq (1-based) each checkpoint marker got, by image name. */
  checkpoints: Record<string, number>;
}

const clocksOf = (w: World) => ({ monotonic: { ...w.host.monotonic }, boottime: { ...w.host.boottime }, realtime: { ...w.host.realtime } });

/**
 * The records of one machine. `file` is the scenario file (provenance). The first task of the world (its
 * options.firstPid) exists at the start of the ledger; every other task comes from an event.
 */
export function machineRecords(m: Machine, file: string): MachineRecords {
  const w = createWorld(m.options);
  const records: EventInput[] = [{ op: { call: 'marker.profile', profile: w.profile }, at: clocksOf(w) }, genesisRecord(w)];
  const checkpoints: Record<string, number> = {};
  for (const e of m.events) {
    const src = { file, line: e.line };
    if (e.kind === 'op') {
      const at = clocksOf(w);
      const t = 'tid' in e.op ? w.tasks[e.op.tid] : undefined;
      const outcome = apply(w, e.op);
      const rec: EventInput = { op: e.op, outcome: stripUndefined(outcome), recorded: false, at, src };
      if (t) rec.pid = t.tgid;
      records.push(rec);
      continue;
    }
    if (e.call === 'marker.checkpoint') {
      const image = String(e.data.image);
      records.push({ op: { call: 'marker.checkpoint', pid: Number(e.data.root), at: records.length, image }, at: clocksOf(w), src });
      checkpoints[image] = records.length;
    } else if (e.call === 'marker.restore') {
      const ns = (e.data.namespaces as { offsets: { monotonic: { sec: number; nsec: number }; boottime: { sec: number; nsec: number } } }[])[0];
      records.push({
        op: { call: 'marker.restore', pid: Number(e.data.root), image: String(e.data.image), ...(ns ? { offsets: ns.offsets } : {}) },
        at: clocksOf(w),
        src,
        note: `restored with the ${String(e.data.policy)} policy`,
      });
    } else records.push({ op: { call: 'marker.annotation', text: String(e.data.text) }, at: clocksOf(w), src });
  }
  return { records, checkpoints };
}

export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
