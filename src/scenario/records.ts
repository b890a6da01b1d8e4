/**
 * A scenario machine's events as ledger records (src/events EventInput): kernel ops with the outcome the model
 * computed (recorded: false), the host clocks at each event, the scenario file and line, and markers.
 * Each machine is its own ledger: it starts with marker.genesis and, for a machine other than the first
 * of a scenario, the restorer's events.
 */
import { apply, createWorld, type World } from '../kernel/index.js';
import { cleanOutcome } from '../replay/outcome.js';
import { GENESIS_PID } from '../replay/checkpoint.js';
import type { EventInput } from '../events/schema.js';
import type { Machine } from './run.js';

/**
 * The ledger's first record, marker.genesis: the world it starts from (profile, host clocks, root's capabilities,
 * RTC, limits), with the model's own first task (GENESIS_PID) outside every scenario's pids: every other task comes
 * from an event.
 */
export function genesisRecord(w: World): EventInput {
  const world = {
    profile: w.profile,
    host: clocksOf(w),
    firstPid: GENESIS_PID,
    rootCaps: [...w.rootCaps],
    alarmClocks: w.alarmClocks,
    maxTimeNamespaces: w.namespaces[w.init.user].maxTimeNamespaces,
    taiOffset: w.taiOffset,
  };
  return { op: { call: 'marker.genesis', world }, at: clocksOf(w) };
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
  const records: EventInput[] = [genesisRecord(w)];
  const checkpoints: Record<string, number> = {};
  for (const e of m.events) {
    const src = { file, line: e.line };
    if (e.kind === 'op') {
      const at = clocksOf(w);
      const t = 'tid' in e.op ? w.tasks[e.op.tid] : undefined;
      const outcome = apply(w, e.op);
      const rec: EventInput = { op: e.op, outcome: cleanOutcome(outcome), recorded: false, at, src };
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

