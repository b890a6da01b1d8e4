/** `tns restore IMAGE --host-monotonic S --host-boottime S ...`: plan, replay and prove a restore on a new host. */
import type { Command } from 'commander';
import { InputError, printJson, UsageError } from '../errors.js';
import { ImageError, validateImage, type CheckpointImage } from '../../replay/checkpoint.js';
import { restoreImage, RestoreError, type RestoreResult } from '../../replay/restore-run.js';
import { parseSeconds, TimespecError, formatSeconds, type Timespec } from '../../replay/timespec.js';
import { parseDurationNs, nsToTimespec, ValueError } from '../../scenario/values.js';
import { writeNewLedger, LedgerExistsError } from '../../scenario/ledger-io.js';
import type { EventInput } from '../../events/schema.js';
import { readText } from './scenario.js';
import { genesisRecord } from '../../scenario/records.js';
import { createWorld } from '../../kernel/index.js';
import { table } from '../render/table.js';

export function readImage(path: string): CheckpointImage {
  const text = readText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const line = m ? text.slice(0, Number(m[1])).split('\n').length : null;
    throw new InputError(path, line, `not JSON (${(e as Error).message})`);
  }
  try {
    return validateImage(json, path);
  } catch (e) {
    if (e instanceof ImageError) throw new UsageError(e.message);
    throw e;
  }
}

function seconds(name: string, v: string | undefined): Timespec | undefined {
  if (v === undefined) return undefined;
  try {
    const t = parseSeconds(v);
    if (t.sec < 0) throw new UsageError(`${name}: a host clock cannot be negative, got ${v}`);
    return t;
  } catch (e) {
    if (e instanceof TimespecError) throw new UsageError(`${name}: ${e.message}`);
    throw e;
  }
}

/** The records of a restored host's ledger: profile, the restorer's events, the restore marker. */
export function restoreRecords(image: CheckpointImage, r: Extract<RestoreResult, { ok: true }>, imagePath: string): EventInput[] {
  const clocks = (w: { host: { monotonic: Timespec; boottime: Timespec; realtime: Timespec } }) => ({
    monotonic: { ...w.host.monotonic },
    boottime: { ...w.host.boottime },
    realtime: { ...w.host.realtime },
  });
  const at = clocks(r.world);
  const recs: EventInput[] = [genesisRecord(createWorld(r.options))];
  for (const e of r.events) {
    const rec: EventInput = { op: e.op, outcome: Object.fromEntries(Object.entries(e.outcome).filter(([, v]) => v !== undefined)) as never, recorded: false, at, note: e.purpose };
    if ('tid' in e.op) rec.pid = r.world.tasks[e.op.tid]?.tgid ?? e.op.tid;
    recs.push(rec);
  }
  const ns = r.namespaces.find((n) => image.tasks.find((t) => t.tid === image.root)?.ns?.time === n.id) ?? r.namespaces[0];
  recs.push({
    op: { call: 'marker.restore', pid: image.root, image: imagePath, ...(ns ? { offsets: ns.offsets } : {}) },
    at,
    note: `restored with the ${r.policy} policy; ${r.proof.every((p) => p.ok) ? 'every task reads monotonic and boottime ≥ the checkpointed values' : 'THE PROOF FAILED'}`,
  });
  return recs;
}

export function register(program: Command): void {
  program
    .command('restore')
    .description(
      'Restore a checkpoint image on a new host: plan the offsets (freeze: O = D − (now − P); advance: O = D + elapsed − (now − P)), replay the restorer\'s events with the model, and prove that no restored clock goes backwards.',
    )
    .argument('<image>', 'a checkpoint image (tns checkpoint -o IMAGE)')
    .requiredOption('--host-monotonic <s>', "the new host's CLOCK_MONOTONIC at the restore, in seconds (e.g. 120.5)")
    .requiredOption('--host-boottime <s>', "the new host's CLOCK_BOOTTIME at the restore, in seconds")
    .option('--host-realtime <s>', "the new host's CLOCK_REALTIME (default: the image's, plus --elapsed)")
    .option('--policy <policy>', 'freeze (CRIU: downtime invisible) or advance (downtime counted)', 'freeze')
    .option('--elapsed <duration>', 'advance: the time between checkpoint and restore (e.g. 30s, 2h; default: the realtime difference)')
    .option('--profile <version>', "the new host's kernel profile (default: the image's)")
    .option('-o, --output <ledger>', "write the restorer's events to this new ledger")
    .option('--force', 'overwrite an existing ledger')
    .option('--json', 'print {namespaces, tasks, ok} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns restore img.json --host-monotonic 120 --host-boottime 125 -o hostB.ndjson
  tns restore img.json --host-monotonic 120 --host-boottime 125 --policy advance --elapsed 30s --json`,
    )
    .action(
      (
        imagePath: string,
        o: { hostMonotonic: string; hostBoottime: string; hostRealtime?: string; policy: string; elapsed?: string; profile?: string; output?: string; force?: boolean; json?: boolean },
      ) => {
        if (o.policy !== 'freeze' && o.policy !== 'advance') throw new UsageError(`--policy: expected freeze or advance, got "${o.policy}"`);
        let elapsed: Timespec | undefined;
        if (o.elapsed !== undefined) {
          try {
            const ns = parseDurationNs(o.elapsed);
            if (ns < 0n) throw new UsageError('--elapsed cannot be negative');
            elapsed = nsToTimespec(ns);
          } catch (e) {
            if (e instanceof ValueError) throw new UsageError(`--elapsed: ${e.message}`);
            throw e;
          }
        }
        const image = readImage(imagePath);
        let r: RestoreResult;
        try {
          r = restoreImage(image, {
            host: { monotonic: seconds('--host-monotonic', o.hostMonotonic)!, boottime: seconds('--host-boottime', o.hostBoottime)!, ...(o.hostRealtime ? { realtime: seconds('--host-realtime', o.hostRealtime) } : {}) },
            policy: o.policy,
            ...(elapsed ? { elapsed } : {}),
            ...(o.profile ? { profile: o.profile } : {}),
            image: imagePath,
          });
        } catch (e) {
          if (e instanceof RestoreError || e instanceof RangeError) throw new UsageError(`${imagePath}: ${e.message}`);
          throw e;
        }
        let written = 0;
        if (r.ok && o.output) {
          try {
            written = writeNewLedger(o.output, restoreRecords(image, r, imagePath), { force: o.force, onWarning: (m) => process.stderr.write(`tns: ${m}\n`) });
          } catch (e) {
            if (e instanceof LedgerExistsError) throw new UsageError(e.message);
            throw e;
          }
        }
        const ok = r.ok && r.proof.every((p) => p.ok);
        const nsOut = r.namespaces.map((n) => ({ id: n.id, newId: n.newId, offsets: n.offsets, checkpointed: n.checkpointed, why: n.why }));
        if (o.json) {
          printJson({
            ok,
            ...(r.ok ? {} : { errno: r.errno, error: r.error }),
            policy: o.policy,
            namespaces: nsOut,
            tasks: r.ok
              ? r.tasks.map((t) => ({
                  ...t,
                  proof: r.proof.filter((p) => p.tid === t.tid).map(({ clock, checkpointed, restored, ok: pok }) => ({ clock, checkpointed, restored, ok: pok })),
                }))
              : [],
            events: r.ok ? r.events.length : 0,
            ledger: o.output && r.ok ? { path: o.output, records: written } : null,
            notes: r.ok ? r.notes : [],
          });
        } else {
          const out: string[] = [];
          if (!r.ok) out.push(`restore refused (${r.errno}) before writing anything: ${r.error}`);
          out.push(
            table(
              ['namespace', 'clock', 'D (checkpointed)', 'offset O', 'formula'],
              r.namespaces.flatMap((n) =>
                (['monotonic', 'boottime'] as const).map((c) => [`time:[${n.id}]`, c, formatSeconds(n.checkpointed[c]), formatSeconds(n.offsets[c]), n.why[c]]),
              ),
              { right: [2, 3] },
            ),
          );
          if (r.ok) {
            out.push(`${r.events.length} restorer events, every one accepted by the model${o.output ? `; ledger ${o.output} (${written} records)` : ''}`);
            for (const p of r.proof) out.push(`${p.ok ? 'ok ' : 'BAD'} ${p.detail}`);
            for (const n of r.notes) out.push(`note: ${n}`);
            out.push(ok ? `restored: no clock goes backwards (${r.policy})` : 'the proof FAILED');
          }
          process.stdout.write(`${out.join('\n')}\n`);
        }
        if (!ok) process.exitCode = 1;
      },
    );
}
