/**
 * `tns demo`: run the CRIU migration scenario (replay/migration-chain.tns) end to end and tell its story — the tree
 * and its namespaces, the checkpoint, each restore plan with the offsets and the formula with its numbers, the proof,
 * and a terminal plot of CLOCK_MONOTONIC inside the container and on each host across the migration.
 * Pure: returns data and text; the CLI writes the ledgers and prints.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { apply, createWorld, readClock, type Timespec, type World } from '../kernel/index.js';
import { runScenarioText, type Machine, type RunResult } from './run.js';
import type { CheckpointImage } from '../replay/checkpoint.js';
import { formatTs, timespecToNs } from './values.js';
import { plot, type Series } from '../cli/render/plot.js';
import { renderTree, type TreeNode } from '../cli/render/tree.js';
import { table } from '../cli/render/table.js';

/** The library folder (replay/ at the package root), from src/scenario or dist/scenario alike. */
export function libraryDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'replay');
}

export const DEMO_SCENARIO = 'migration-chain.tns';

export interface DemoSample {
  machine: string;
  /** The host's realtime (seconds) when sampled. */
  realtime: number;
  hostMonotonic: Timespec;
  container: Timespec | null;
}

export interface DemoData {
  scenario: string;
  run: RunResult;
  /** The container's root pid (the root of the first checkpoint). */
  container: number;
  samples: DemoSample[];
}

/** Run the demo scenario and sample the clocks after every event on every machine. */
export function runDemo(file = join(libraryDir(), DEMO_SCENARIO)): DemoData {
  const text = readFileSync(file, 'utf8');
  const run = runScenarioText(text, file);
  const first = Object.values(run.images)[0];
  if (!first) throw new Error(`${file}: the demo scenario takes no checkpoint`);
  const container = first.root;
  const samples: DemoSample[] = [];
  for (const m of run.machines) samples.push(...sampleMachine(m, container));
  return { scenario: file, run, container, samples };
}

/** Re-apply a machine's events on a fresh world from its options and read the clocks after each one. */
function sampleMachine(m: Machine, container: number): DemoSample[] {
  const w: World = createWorld(m.options);
  const out: DemoSample[] = [];
  const take = () => {
    const t = w.tasks[container];
    const r = t && t.nsproxy !== null ? readClock(w, t, 1) : null;
    out.push({ machine: m.name, realtime: Number(timespecToNs(w.host.realtime)) / 1e9, hostMonotonic: { ...w.host.monotonic }, container: r && r.ok ? r.ts : null });
  };
  // A restored machine is sampled from the end of the restore on (during it, the tasks are still being re-created).
  const restoreOps = m.restoredFrom?.result.ok ? m.restoredFrom.result.events.length : 0;
  let n = 0;
  if (!restoreOps) take();
  for (const e of m.events) {
    if (e.kind !== 'op') continue;
    apply(w, e.op);
    n++;
    if (n === restoreOps || (n > restoreOps && ['host.advance', 'host.suspend', 'fork', 'clone3'].includes(e.op.call))) take();
  }
  take();
  return out;
}

const s = (t: Timespec) => `${formatTs(t)} s`;

function treeOfImage(img: CheckpointImage, names: Map<number, string>): TreeNode[] {
  const procs = img.tasks.filter((t) => !t.thread);
  const nodeOf = (pid: number): TreeNode => {
    const t = img.tasks.find((x) => x.tid === pid)!;
    const ns = t.ns;
    const tn = ns ? img.timens.find((n) => n.id === ns.time)! : null;
    const label = `${names.get(pid) ?? 'task'} (pid ${pid})${ns ? `  time:[${ns.time}]${ns.time_for_children !== ns.time ? `  time_for_children:[${ns.time_for_children}]` : ''}` : '  (zombie)'}`;
    const details = tn
      ? [`offsets monotonic ${s(tn.offsets.monotonic)}, boottime ${s(tn.offsets.boottime)}; reads monotonic ${s(tn.monotonic)}, boottime ${s(tn.boottime)}`]
      : [];
    return { label, details, children: procs.filter((c) => c.ppid === pid && c.tid !== pid).map((c) => nodeOf(c.tid)) };
  };
  return [nodeOf(img.root)];
}

export interface StoryOptions {
  /** Ledger paths per machine, to print the commands that explore them. */
  ledgers?: { machine: string; path: string; events: number; checkpointSeq?: number; divergences?: number }[];
  color?: boolean;
  width?: number;
}

/** The readable story. */
export function demoStory(d: DemoData, opts: StoryOptions = {}): string {
  const { run } = d;
  const out: string[] = [];
  const names = new Map<number, string>();
  // Task names as the scenario wrote them: the bindings of fork lines are in the source; recover them from the text.
  const src = readFileSync(d.scenario, 'utf8').split('\n');
  for (const m of run.machines)
    for (const e of m.events)
      if (e.kind === 'op' && (e.op.call === 'fork' || e.op.call === 'clone3') && !e.outcome.errno) {
        const bind = /->\s*([A-Za-z_][\w-]*)/.exec(src[e.line - 1] ?? '');
        if (bind && e.line <= src.length && m.restoredFrom === null) names.set(e.outcome.ret, bind[1]);
      }
  for (const line of src) {
    const t = /^task\s+(\S+)\s+pid=(\d+)/.exec(line);
    if (t) names.set(Number(t[2]), t[1]);
  }
  const title = run.scenario.title ?? 'migration';
  out.push(`tns demo — ${title}`);
  out.push(`scenario: ${d.scenario}`);
  out.push('');
  for (const line of run.scenario.shows) out.push(`  ${line}`);
  out.push('');
  const host1 = run.machines[0];
  out.push(`1. The container on ${host1.name} (host clocks at start: monotonic ${s(host1.options.host!.monotonic)}, boottime ${s(host1.options.host!.boottime)})`);
  const images = Object.entries(run.images);
  let step = 2;
  for (let i = 0; i < images.length; i++) {
    const [name, img] = images[i];
    const on = run.machines.find((m) => m.events.some((e) => e.kind === 'marker' && e.call === 'marker.checkpoint' && e.data.image === name))!;
    if (i === 0) {
      out.push(renderTree(treeOfImage(img, names), '   '));
      out.push('');
    }
    out.push(`${step++}. Checkpoint "${name}" of pid ${img.root} on ${on.name} (scenario line ${img.source.scenarioLine}): host monotonic ${s(img.host.monotonic)}`);
    out.push(
      table(
        ['time namespace', 'offset monotonic', 'offset boottime', 'D monotonic', 'D boottime', 'tasks'],
        img.timens.map((n) => [`time:[${n.id}]`, s(n.offsets.monotonic), s(n.offsets.boottime), s(n.monotonic), s(n.boottime), n.tasks.join(',')]),
        { indent: 3 },
      ),
    );
    out.push(`   D = host clock + offsets (what CRIU's timens.img records). CRIU: ${img.criu.accepts ? 'accepts this tree' : `refuses — ${img.criu.refusals.join('; ')}`}`);
    for (const n of img.notes) out.push(`   note: ${n}`);
    out.push('');
    const target = run.machines.find((m) => m.restoredFrom?.image === name);
    if (!target) continue;
    const r = target.restoredFrom!.result;
    if (!r.ok) continue;
    const h = target.options.host!;
    out.push(`${step++}. Restore "${name}" on ${target.name} (policy ${r.policy}): its clocks read monotonic ${s(h.monotonic)}, boottime ${s(h.boottime)}, realtime ${s(h.realtime)}`);
    for (const n of r.namespaces) {
      out.push(`   time:[${n.id}] → new time:[${n.newId}], offsets written by pid ${(n.createdBy as { tid: number }).tid ?? '?'} with numeric clock ids:`);
      out.push(`     monotonic: ${n.why.monotonic}`);
      out.push(`     boottime:  ${n.why.boottime}`);
    }
    out.push(
      `   why: ${r.policy === 'freeze' ? 'freeze (CRIU) makes the downtime invisible: the clocks continue from D' : 'advance counts the time on the wire: the clocks continue from D + elapsed'}; now = the restorer's reading on the new host, P = the offsets the new namespace inherited.`,
    );
    const ops = r.events.map((e) => e.op.call);
    out.push(`   restorer events: ${ops.length} (${[...new Set(ops)].join(', ')}), every one accepted by the model`);
    out.push('   proof:');
    for (const p of r.proof) out.push(`     ${p.ok ? 'ok ' : 'BAD'} ${p.detail}`);
    out.push('');
  }

  // The plot: CLOCK_MONOTONIC inside the container and on each host; x is the running time, the downtime between
  // hosts is drawn as a fixed gap (marked ┊).
  const machines = run.machines.map((m) => m.name);
  const spans = machines.map((name) => {
    const ss = d.samples.filter((x) => x.machine === name);
    return { name, from: Math.min(...ss.map((x) => x.realtime)), to: Math.max(...ss.map((x) => x.realtime)) };
  });
  const running = spans.reduce((a, b) => a + Math.max(b.to - b.from, 1), 0);
  const gap = running * 0.06;
  let base = 0;
  const xOf = new Map<string, (rt: number) => number>();
  const marks: { x: number; label: string }[] = [];
  const downtimes: string[] = [];
  spans.forEach((sp, i) => {
    const b = base;
    xOf.set(sp.name, (rt) => b + (rt - sp.from));
    if (i > 0) {
      const prev = spans[i - 1];
      marks.push({ x: b - gap / 2, label: `┊→${sp.name}` });
      downtimes.push(`${prev.name} → ${sp.name}: ${Math.round(sp.from - prev.to)} s of realtime between checkpoint and restore`);
    }
    base += Math.max(sp.to - sp.from, 1) + gap;
  });
  const glyphs = ['A', 'B', 'C', 'D', 'E', 'F'];
  const series: Series[] = [
    {
      name: `inside the container (pid ${d.container})`,
      glyph: '●',
      color: 32,
      points: d.samples.filter((x) => x.container).map((x) => ({ x: xOf.get(x.machine)!(x.realtime), y: Number(timespecToNs(x.container!)) / 1e9 })),
    },
    ...machines.map((name, i) => ({
      name: `${name} (host)`,
      glyph: glyphs[i] ?? '+',
      color: 33 + i,
      points: d.samples.filter((x) => x.machine === name).map((x) => ({ x: xOf.get(x.machine)!(x.realtime), y: Math.max(Number(timespecToNs(x.hostMonotonic)) / 1e9, 1) })),
    })),
  ];
  out.push(`${step++}. CLOCK_MONOTONIC across the migration`);
  out.push(
    plot(series, {
      width: opts.width ?? 64,
      height: 14,
      log: true,
      marks,
      yLabel: 'CLOCK_MONOTONIC (s)',
      xLabel: 'running time on each host →  (downtime between hosts drawn as ┊)',
      color: opts.color,
    })
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n'),
  );
  out.push(`   downtime: ${downtimes.join('; ')}`);
  out.push('');
  out.push('   the container alone (linear scale): flat across a freeze restore, a step of the elapsed time across an advance one');
  out.push(
    plot([series[0]], { width: opts.width ?? 64, height: 8, marks, yLabel: 'CLOCK_MONOTONIC inside the container (s)', color: opts.color, formatY: (y) => y.toFixed(1) })
      .split('\n')
      .map((l) => `   ${l}`)
      .join('\n'),
  );
  const readings = d.samples.filter((x) => x.container);
  const mono = readings.map((x) => timespecToNs(x.container!));
  const never = mono.every((v, i) => i === 0 || v >= mono[i - 1]);
  out.push(
    `   inside the container: ${formatTs(readings[0].container!)} s → ${formatTs(readings[readings.length - 1].container!)} s, ${never ? 'never backwards' : 'WENT BACKWARDS'}; the hosts' own clocks jump (${spans.map((sp) => sp.name).join(' → ')}).`,
  );
  out.push('');
  const fails = run.results.filter((x) => !x.ok);
  out.push(`${step++}. Expectations: ${run.results.length - fails.length}/${run.results.length} hold${fails.length ? ` — FAILED: ${fails.map((f) => `line ${f.line}`).join(', ')}` : ''}`);
  if (opts.ledgers?.length) {
    out.push('');
    out.push(`${step++}. Explore the ledgers (one per host):`);
    for (const l of opts.ledgers)
      out.push(`   ${l.machine}: ${l.path} (${l.events} records${l.divergences !== undefined ? `, replayed: ${l.divergences} divergence${l.divergences === 1 ? '' : 's'}` : ''})`);
    const l0 = opts.ledgers[0];
    const img0 = images[0]?.[1];
    const ns0 = img0?.timens[0]?.id;
    out.push(`   tns log ${l0.path}`);
    out.push(`   tns state ${l0.path} --at ${l0.checkpointSeq ?? l0.events}`);
    if (ns0 !== undefined) out.push(`   tns why ${l0.path} time:[${ns0}] --at ${l0.checkpointSeq ?? l0.events}`);
    const l1 = opts.ledgers[1];
    if (l1) {
      out.push(`   tns log ${l1.path}`);
      out.push(`   tns checkpoint ${l1.path} --at ${l1.events} --pid ${d.container} -o /tmp/tns-img.json   # take your own checkpoint`);
      out.push('   tns restore /tmp/tns-img.json --host-monotonic 60 --host-boottime 60 --json              # and restore it elsewhere');
    }
    out.push(`   tns scenario run ${d.scenario}`);
  }
  return out.join('\n');
}
