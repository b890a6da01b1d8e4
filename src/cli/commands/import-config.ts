/**
 * `tns import oci CONFIG` and `tns import lxc CONFIG`: a container runtime's config becomes the events the runtime
 * issues for its time namespace (src/ingest/oci.ts, src/ingest/lxc.ts), applied with the kernel model — which gives
 * the kernel's answer (e.g. nanoseconds ≥ 1e9 → EINVAL) — and optionally written to a ledger.
 *
 * The `import` parent command may be created by another module (import strace) before or after this one: this
 * module adds its subcommands to an existing `import`, or creates it and makes a later `program.command('import')`
 * return the same command, so both registration orders work.
 */
import { Command } from 'commander';
import { apply, createWorld, checkInvariants, readClock, type Op, type Outcome, type World } from '../../kernel/index.js';
import { importOci, OciConfigError, RuncValidationError, type RuncPlan } from '../../ingest/oci.js';
import { importLxc, LxcConfigError, type LxcPlan } from '../../ingest/lxc.js';
import { InputError, printJson, UsageError } from '../errors.js';
import { readText } from './scenario.js';
import { LedgerExistsError, writeNewLedger } from '../../scenario/ledger-io.js';
import type { EventInput } from '../../events/schema.js';
import { formatTs } from '../../scenario/values.js';
import { genesisOptions } from '../../replay/checkpoint.js';
import { genesisRecord } from '../../scenario/records.js';

export interface ConfigRun {
  kind: 'oci' | 'lxc';
  file: string;
  time: string;
  steps: { actor: string; op: Op; why: string; outcome: Outcome }[];
  /** The first step the kernel refused, if any (the runtime would fail there). */
  failed: { index: number; actor: string; call: string; errno: string; rule: string } | null;
  container: number;
  /** The container process's clocks after the last step (when it got that far). */
  clocks: { monotonic: string; boottime: string } | null;
  notes: string[];
  world: World;
  records: EventInput[];
}

/** Apply a runtime's plan with the model, stopping at the first refused step (the runtime aborts there). */
export function runConfigPlan(kind: 'oci' | 'lxc', plan: RuncPlan | LxcPlan, opts: { profile?: string } = {}): ConfigRun {
  const w0 = createWorld({ profile: opts.profile });
  const world = createWorld(genesisOptions(w0.profile, w0.host));
  const clocks = () => ({ monotonic: { ...world.host.monotonic }, boottime: { ...world.host.boottime }, realtime: { ...world.host.realtime } });
  const records: EventInput[] = [genesisRecord(world)];
  const steps: ConfigRun['steps'] = [];
  // The host task that starts the runtime exists without a creation event.
  const spawn: Op = { call: 'host.spawn', pid: plan.pids.hostParent };
  records.push({ op: spawn, outcome: apply(world, spawn), recorded: false, at: clocks(), note: `${plan.file}: the host task that starts the runtime` });
  let failed: ConfigRun['failed'] = null;
  for (const s of plan.steps) {
    const at = clocks();
    const pid = 'tid' in s.op ? world.tasks[s.op.tid]?.tgid : undefined;
    const outcome = apply(world, s.op);
    steps.push({ actor: s.actor, op: s.op, why: s.why, outcome });
    const rec: EventInput = {
      op: s.op,
      outcome: Object.fromEntries(Object.entries(outcome).filter(([, v]) => v !== undefined)) as unknown as Outcome,
      recorded: false,
      at,
      note: `${plan.file}: ${s.actor}: ${s.why}`,
    };
    if (pid !== undefined) rec.pid = pid;
    records.push(rec);
    if (outcome.errno) {
      failed = { index: steps.length - 1, actor: s.actor, call: s.op.call, errno: outcome.errno, rule: outcome.rule ?? '' };
      break;
    }
  }
  const bad = checkInvariants(world);
  if (bad.length) throw new Error(`the model broke its invariants: ${bad.join('; ')}`);
  const container = kind === 'oci' ? (plan as RuncPlan).pids.stage2 : (plan as LxcPlan).pids.container;
  const t = world.tasks[container];
  let c: ConfigRun['clocks'] = null;
  if (t && t.nsproxy !== null) {
    const m = readClock(world, t, 1);
    const b = readClock(world, t, 7);
    if (m.ok && b.ok) c = { monotonic: formatTs(m.ts), boottime: formatTs(b.ts) };
  }
  return { kind, file: plan.file, time: plan.time, steps, failed, container, clocks: c, notes: plan.notes, world, records };
}

function findOrCreateImport(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'import');
  if (existing) return existing;
  const imp = program.command('import').description('Turn outside material (strace logs, OCI and LXC configs) into ledger events.');
  // A later program.command('import') (another module registering after this one) gets this same command.
  const original = program.command.bind(program) as (...a: unknown[]) => Command;
  (program as unknown as { command: (...a: unknown[]) => Command }).command = (...args: unknown[]) => {
    const name = typeof args[0] === 'string' ? args[0].trim().split(/\s+/)[0] : '';
    return name === 'import' ? imp : original(...args);
  };
  return imp;
}

function report(r: ConfigRun, o: { json?: boolean; output?: string; force?: boolean }): void {
  let written = 0;
  if (o.output) {
    try {
      written = writeNewLedger(o.output, r.records, { force: o.force, onWarning: (m) => process.stderr.write(`tns: ${m}\n`) });
    } catch (e) {
      if (e instanceof LedgerExistsError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (o.json) {
    printJson({
      kind: r.kind,
      file: r.file,
      time: r.time,
      ok: r.failed === null,
      failed: r.failed,
      container: r.container,
      clocks: r.clocks,
      steps: r.steps.map((s) => ({ actor: s.actor, op: s.op, outcome: s.outcome, why: s.why })),
      notes: r.notes,
      ledger: o.output ? { path: o.output, records: written } : null,
    });
  } else {
    const out: string[] = [`${r.file}: time namespace: ${r.time}`];
    r.steps.forEach((s) => {
      const res = s.outcome.errno ? `= -1 ${s.outcome.errno}` : `= ${s.outcome.ret}`;
      out.push(`  ${s.actor.padEnd(9)} ${opText(s.op)} ${res}`);
      out.push(`            ${s.why}`);
      if (s.outcome.errno) out.push(`            kernel: ${s.outcome.rule}`);
    });
    for (const n of r.notes) out.push(`note: ${n}`);
    if (r.failed) out.push(`the runtime would fail: ${r.failed.call} by ${r.failed.actor} gets ${r.failed.errno}`);
    else if (r.clocks) out.push(`container pid ${r.container} reads CLOCK_MONOTONIC ${r.clocks.monotonic} s, CLOCK_BOOTTIME ${r.clocks.boottime} s`);
    if (o.output) out.push(`ledger ${o.output} (${written} records)`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  if (r.failed) process.exitCode = 1;
}

function opText(op: Op): string {
  const { call, ...rest } = op as Op & Record<string, unknown>;
  return `${call}(${Object.entries(rest)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')})`;
}

export function register(program: Command): void {
  const imp = findOrCreateImport(program);
  imp
    .command('oci')
    .description("An OCI runtime config.json (linux.namespaces time, linux.timeOffsets) → the events runc issues, checked by the kernel model (exit 1 when the kernel refuses one, 2 when runc refuses the config).")
    .argument('<config>', 'config.json')
    .option('-o, --output <ledger>', 'write the events to this new ledger')
    .option('--profile <version>', 'kernel profile (default 6.3+)')
    .option('--force', 'overwrite an existing ledger')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  tns import oci bundle/config.json\n  tns import oci bundle/config.json -o runc.ndjson --json')
    .action((file: string, o: { output?: string; profile?: string; json?: boolean; force?: boolean }) => {
      let plan: RuncPlan;
      try {
        plan = importOci(readText(file), file);
      } catch (e) {
        if (e instanceof OciConfigError) throw new InputError(e.file, e.line, `${e.path}: ${e.reason}`);
        if (e instanceof RuncValidationError) throw new InputError(e.file, e.line, `runc refuses this config (${e.source}): ${e.runcMessage}`);
        throw e;
      }
      report(runConfigPlan('oci', plan, { profile: o.profile }), o);
    });
  imp
    .command('lxc')
    .description('An LXC container config (lxc.time.offset.monotonic / lxc.time.offset.boot with units h, m, s, ms, us, ns) → the events LXC issues, checked by the kernel model.')
    .argument('<config>', 'the container config file')
    .option('-o, --output <ledger>', 'write the events to this new ledger')
    .option('--profile <version>', 'kernel profile (default 6.3+)')
    .option('--force', 'overwrite an existing ledger')
    .option('--json', 'print as JSON')
    .addHelpText('after', '\nExamples:\n  tns import lxc /var/lib/lxc/c1/config\n  echo "lxc.time.offset.boot = 2000ms" > c && tns import lxc c   # EINVAL, as the kernel says')
    .action((file: string, o: { output?: string; profile?: string; json?: boolean; force?: boolean }) => {
      let plan: LxcPlan;
      try {
        plan = importLxc(readText(file), file);
      } catch (e) {
        if (e instanceof LxcConfigError) throw new InputError(e.file, e.line, `${e.key ? `${e.key} = ${e.value}: ` : ''}${e.reason} (${e.errno})`);
        throw e;
      }
      report(runConfigPlan('lxc', plan, { profile: o.profile }), o);
    });
}

export { Command };
