/**
 * Text renderings of replay data (the CLI prints these; --json prints the data itself).
 */
import type { World } from '../kernel/index.js';
import type { EventRecord } from '../events/index.js';
import { table } from '../cli/render/table.js';
import { renderTree, type TreeNode } from '../cli/render/tree.js';
import { formatDivergence, type Divergence } from './outcome.js';
import { nsView, taskView, type NsView, type TaskView, type WhyResult, type WorldDiff } from './timetravel.js';

const ns = (inum: number | null) => (inum === null ? '-' : String(inum));
const off = (v: NsView) => (v.offsets ? `${fmtTs(v.offsets.monotonic)} / ${fmtTs(v.offsets.boottime)}` : '');
export const fmtTs = (t: { sec: number; nsec: number }) => (t.nsec === 0 ? `${t.sec}` : `${t.sec}.${String(t.nsec).padStart(9, '0')}`);

/** The data `tns state` prints. */
export interface StateReport {
  seq: number;
  profile: string;
  host: World['host'];
  tasks: TaskView[];
  namespaces: NsView[];
  ucounts: Record<string, number>;
}

/** `kernelNames`: the traced kernel's numbers of the model's namespaces (StateAt.kernelNames), shown beside them. */
export function stateReport(seq: number, w: World, kernelNames: Readonly<Record<number, number>> = {}): StateReport {
  return {
    seq,
    profile: w.profile,
    host: w.host,
    tasks: Object.values(w.tasks)
      .map((t) => taskView(w, t))
      .sort((a, b) => a.tid - b.tid),
    namespaces: Object.values(w.namespaces)
      .map((ns) => {
        const v = nsView(ns);
        if (Object.hasOwn(kernelNames, ns.inum)) v.kernel = kernelNames[ns.inum];
        return v;
      })
      .sort((a, b) => (a.type === b.type ? a.inum - b.inum : a.type < b.type ? -1 : 1)),
    ucounts: { ...w.ucounts },
  };
}

/** A namespace's inode number, with the traced kernel's beside it when known. */
function inumText(n: NsView): string {
  return n.kernel !== undefined ? `${n.inum} (trace ${n.kernel})` : String(n.inum);
}

export function renderState(r: StateReport): string {
  const out: string[] = [];
  out.push(`state after seq ${r.seq} (profile ${r.profile}; host monotonic ${fmtTs(r.host.monotonic)} s, boottime ${fmtTs(r.host.boottime)} s, realtime ${fmtTs(r.host.realtime)} s)`);
  out.push('');
  // Process tree: thread-group leaders under their parents; threads listed under their leader.
  const byTid = new Map(r.tasks.map((t) => [t.tid, t]));
  const leaders = r.tasks.filter((t) => t.tid === t.tgid);
  const node = (t: TaskView): TreeNode => ({
    label: `${t.tid}${t.state === 'zombie' ? ' (zombie)' : ''}  T=time:[${ns(t.T)}] C=time:[${ns(t.C)}]  uid ${t.uid}${t.euid !== t.uid ? `/${t.euid}` : ''}`,
    details: r.tasks.filter((x) => x.tgid === t.tid && x.tid !== t.tid).map((x) => `thread ${x.tid}  T=time:[${ns(x.T)}] C=time:[${ns(x.C)}]`),
    children: leaders.filter((c) => c.ppid === t.tgid && c.tid !== t.tid).map(node),
  });
  const roots = leaders.filter((t) => !byTid.has(t.ppid) || byTid.get(t.ppid)!.tid !== byTid.get(t.ppid)!.tgid || t.ppid === t.tid);
  out.push(`tasks (${r.tasks.length}; T = time namespace, C = time_for_children)`);
  out.push(roots.length ? renderTree(roots.map(node), '  ') : '  (none)');
  out.push('');
  const time = r.namespaces.filter((n) => n.type === 'time');
  out.push(`time namespaces (${time.length})`);
  out.push(
    table(
      ['inum', 'refcount', 'frozen', 'offsets monotonic / boottime', 'owner', 'ucounts'],
      time.map((n) => [inumText(n), String(n.count), n.frozen ? 'yes' : 'no', off(n), ns(n.owner), n.ucounts ? `${n.ucounts.userns}:${n.ucounts.uid}` : n.initial ? 'initial' : '-']),
      { indent: 2 },
    ),
  );
  const others = r.namespaces.filter((n) => n.type !== 'time');
  out.push('');
  out.push(`other namespaces (${others.length})`);
  out.push(table(['type', 'inum', 'refcount', 'owner'], others.map((n) => [n.type, inumText(n), String(n.count), ns(n.owner)]), { indent: 2 }));
  if (r.namespaces.some((n) => n.kernel !== undefined)) out.push('  (trace N: the traced kernel\'s inode number of that namespace, as its recorded outcomes named it)');
  const uc = Object.entries(r.ucounts);
  out.push('');
  out.push(`ucounts (time namespaces charged per user namespace:uid) (${uc.length})`);
  out.push(uc.length ? table(['userns:uid', 'count'], uc.map(([k, v]) => [k, String(v)]), { indent: 2 }) : '  (none)');
  return out.join('\n');
}

const tv = (t: TaskView) => `${t.tid} T=[${ns(t.T)}] C=[${ns(t.C)}] uid ${t.uid} ${t.state}`;

export function renderDiff(a: number, b: number, d: WorldDiff): string {
  const out: string[] = [`from seq ${a} to seq ${b}:`];
  const n0 = out.length;
  for (const t of d.tasks.added) out.push(`  + task ${tv(t)}`);
  for (const t of d.tasks.removed) out.push(`  - task ${tv(t)}`);
  for (const c of d.tasks.changed)
    out.push(`  ~ task ${c.tid}: ${c.fields.map((f) => `${f} ${String(c.before[f])} → ${String(c.after[f])}`).join(', ')}`);
  for (const n of d.namespaces.created) out.push(`  + ${n.type}:[${n.inum}] refcount ${n.count}${n.offsets ? ` offsets ${off(n)}` : ''}${n.frozen !== undefined ? (n.frozen ? ' frozen' : ' not frozen') : ''}`);
  for (const n of d.namespaces.freed) out.push(`  - ${n.type}:[${n.inum}] freed (refcount was ${n.count})`);
  for (const c of d.namespaces.changed)
    out.push(
      `  ~ ${c.type}:[${c.inum}]: ${c.fields
        .map((f) => (f === 'offsets' ? `offsets ${off(c.before)} → ${off(c.after)}` : f === 'count' ? `refcount ${c.before.count} → ${c.after.count}` : `${f} ${JSON.stringify(c.before[f])} → ${JSON.stringify(c.after[f])}`))
        .join(', ')}`,
    );
  for (const u of d.ucounts) out.push(`  ~ ucounts ${u.key}: ${u.before} → ${u.after}`);
  if (d.host) out.push(`  ~ host monotonic ${fmtTs(d.host.before.monotonic)} → ${fmtTs(d.host.after.monotonic)}, boottime ${fmtTs(d.host.before.boottime)} → ${fmtTs(d.host.after.boottime)}`);
  if (d.profile) out.push(`  ~ profile ${d.profile.before} → ${d.profile.after}`);
  if (out.length === n0) out.push('  no change');
  return out.join('\n');
}

export function renderWhy(r: WhyResult): string {
  const name = `${r.type ?? 'namespace'}:[${r.inum}]`;
  const out: string[] = [];
  if (r.kernelInum !== null) out.push(`${r.type ?? 'namespace'}:[${r.kernelInum}] in the trace is the model's ${name}`);
  if (!r.alive) {
    out.push(`${name} is not alive at seq ${r.seq}${r.freed ? ` (freed at seq ${r.freed.seq} by ${r.freed.call}${r.freed.pid !== null ? ` of pid ${r.freed.pid}` : ''})` : ' (never seen)'}`);
  } else {
    out.push(`${name} at seq ${r.seq}: refcount ${r.count}${r.view?.frozen !== undefined ? (r.view.frozen ? ', frozen' : ', not frozen') : ''}${r.view?.offsets ? `, offsets ${off(r.view)}` : ''}`);
    out.push('held by:');
    for (const h of r.holders) out.push(`  ${h}`);
    if (r.tasks.length) out.push(`tasks whose nsproxy holds it: ${r.tasks.map((t) => `${t.tid} (${t.slots.join(', ')})`).join('; ')}`);
  }
  if (r.changes.length) {
    out.push('');
    out.push(`refcount changes${r.created ? ` since its creation at seq ${r.created.seq}` : ''}:`);
    out.push(
      table(
        ['seq', 'line', 'pid', 'call', 'delta', 'refcount'],
        r.changes.map((c) => [String(c.seq), c.line !== null ? `${c.file}:${c.line}` : '-', c.pid !== null ? String(c.pid) : '-', c.call, c.delta > 0 ? `+${c.delta}` : String(c.delta), String(c.count)]),
        { indent: 2, right: [0, 2, 4, 5] },
      ),
    );
  } else if (r.alive) out.push('(no record changed its refcount: it exists from the start)');
  return out.join('\n');
}

/** One line per record for `tns log`. */
export function renderRecord(rec: EventRecord): string {
  const { call, ...args } = rec.op as { call: string } & Record<string, unknown>;
  const a = Object.entries(args)
    .filter(([k]) => k !== 'tid')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v.length > 48 ? `${v.slice(0, 48)}…` : v) : typeof v === 'number' && (k === 'flags' || k === 'nstype') ? `0x${v.toString(16)}` : JSON.stringify(v)}`)
    .join(' ');
  const o = rec.outcome;
  const res = o ? (o.errno !== undefined ? `= -1 ${o.errno}` : `= ${o.ret}${o.ts ? ` (${fmtTs(o.ts)})` : ''}${o.text !== undefined ? ` ${JSON.stringify(o.text.length > 40 ? `${o.text.slice(0, 40)}…` : o.text)}` : ''}`) : '';
  const who = 'tid' in rec.op ? `${(rec.op as { tid: number }).tid}` : '-';
  const src = rec.src ? `  [${rec.src.file}:${rec.src.line}]` : '';
  const rec_ = rec.recorded === true ? ' (recorded)' : '';
  return `${String(rec.seq).padStart(8)}  ${who.padStart(7)}  ${call}${a ? ` ${a}` : ''} ${res}${rec_}${src}`;
}

export function renderDivergences(ds: readonly Divergence[], max = 50): string {
  if (ds.length === 0) return 'no divergences';
  const lines = ds.slice(0, max).map((d) => `  ${formatDivergence(d)}`);
  if (ds.length > max) lines.push(`  … and ${ds.length - max} more (--json lists all)`);
  return `${ds.length} divergence(s):\n${lines.join('\n')}`;
}
