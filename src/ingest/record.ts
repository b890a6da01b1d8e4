/**
 * Imported traces and the ledger, and running a command under strace:
 *  - importStrace: strace output → a new ledger (events keep the source file and line);
 *  - checkLedger: a ledger → the same check as a trace (recorded outcomes are the truth);
 *  - recordUnderStrace: run a command under strace with the options the importer needs.
 *
 * Ledger encoding of an imported event: `op`; `outcome` with `recorded: true` (the real kernel's answer);
 * `pid` (the calling thread); `src {file, line, endLine?}`; `at.monotonic` = the estimated host CLOCK_MONOTONIC
 * (the time axis of the clock check); `note` = the syscall as the trace names it, then `; fd N<annotation>` when
 * -yy annotated the fd argument (checked against the model's fd table). The first record is a marker.profile.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EventInput, EventRecord } from '../events/index.js';
import { createLedger, readLedgerBatches, LockedError } from '../ledger/index.js';
import { CAPS, capsFromMask, type Cap, type Timespec } from '../kernel/index.js';
import { TraceChecker, openTrace, type CheckResult, type TraceSourceOptions } from './check.js';
import { importWorldOptions, TraceImport, type ImportStats, type TraceEvent } from './trace-to-ops.js';

function spec(sec: number): Timespec {
  const whole = Math.floor(sec);
  let nsec = Math.round((sec - whole) * 1e9);
  let s = whole;
  if (nsec >= 1e9) {
    s += 1;
    nsec -= 1e9;
  }
  return { sec: s, nsec };
}

/** A TraceEvent as a ledger record input. */
export function eventToInput(ev: TraceEvent): EventInput {
  const rec: EventInput = { op: ev.op };
  if (ev.outcome) {
    rec.outcome = Object.fromEntries(Object.entries(ev.outcome).filter(([, v]) => v !== undefined)) as EventInput['outcome'];
    rec.recorded = true;
  }
  if (ev.pid !== undefined) rec.pid = ev.pid;
  if (ev.src) rec.src = ev.src;
  if (ev.t !== undefined && ev.t >= 0) rec.at = { monotonic: spec(ev.t) };
  if (ev.src) rec.note = ev.note !== undefined ? `${ev.call}; ${ev.note}` : ev.call;
  return rec;
}

/** A ledger record back as a TraceEvent (markers: null). Outcomes the model computed (recorded: false) are not truth. */
export function recordToEvent(r: EventRecord): TraceEvent | null {
  const op = r.op;
  if (op.call.startsWith('marker.')) return null;
  const ev: TraceEvent = { op: op as TraceEvent['op'], call: op.call };
  if (r.outcome && r.recorded) ev.outcome = { ...r.outcome };
  if (r.pid !== undefined) ev.pid = r.pid;
  if (r.src) ev.src = { ...r.src };
  if (r.at?.monotonic) ev.t = r.at.monotonic.sec + r.at.monotonic.nsec / 1e9;
  if (r.note !== undefined) {
    const i = r.note.indexOf('; ');
    if (i >= 0) {
      ev.call = r.note.slice(0, i);
      ev.note = r.note.slice(i + 2);
    } else ev.call = r.note;
  }
  return ev;
}

/** The target ledger cannot be written: it exists (no --force), is not a regular file, or another writer holds it. */
export class LedgerExists extends Error {
  override name = 'LedgerExists';
}

export interface ImportResult {
  ledger: string;
  records: number;
  events: number;
  lines: number;
  badLines: number;
  stats: ImportStats;
}

/**
 * strace output → a new ledger. Refuses an existing ledger unless `force`. All or nothing: the ledger appears (or
 * replaces the old one) only when the whole trace was imported.
 */
export async function importStrace(
  paths: string[],
  ledger: string,
  opts: TraceSourceOptions & { force?: boolean; spawnCaps?: Cap[]; uid?: number; onWarning?: (message: string) => void } = {},
): Promise<ImportResult> {
  if (existsSync(ledger) && !statSync(ledger).isFile()) throw new LedgerExists(`${ledger}: not a regular file`);
  const replace = existsSync(ledger);
  if (replace && !opts.force) throw new LedgerExists(`${ledger} already exists (a ledger is append-only: choose a new path, or --force to replace it)`);
  const reader = await openTrace(paths, opts);
  const imp = new TraceImport({ profile: opts.profile, spawnCaps: opts.spawnCaps, uid: opts.uid });
  // The trace is opened and its first batch read before the target's lock is taken: a trace that cannot be read
  // (missing, or bad from its first lines) fails before anything is written.
  const batches = reader.batches();
  let next = await batches.next();
  let w;
  try {
    mkdirSync(dirname(ledger) || '.', { recursive: true });
    // The new ledger is written to a temporary file under the target's writer lock and put in place only once the
    // whole trace is imported: a trace that fails partway (a malformed line without --lenient, a write error) leaves
    // the old ledger (--force) exactly as it was, and no half ledger at a new path (one that would verify as sound).
    w = createLedger(ledger, { fsync: 'batch', replace, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  } catch (e) {
    await batches.return(undefined).catch(() => undefined);
    throw e instanceof LockedError ? new LedgerExists(e.message) : e;
  }
  let records = 0;
  try {
    // The world the events start from: the same options the checker uses (host clocks at 0, the model's own first
    // task outside the trace, root's capabilities on the traced host).
    const world = importWorldOptions(imp.ops.world.profile, opts.spawnCaps);
    w.append({ op: { call: 'marker.genesis', world: { ...world, host: world.host! } } });
    records++;
    let buf: EventInput[] = [];
    const put = (evs: TraceEvent[]) => {
      for (const ev of evs) buf.push(eventToInput(ev));
      if (buf.length >= 1000) {
        w.append(buf);
        records += buf.length;
        buf = [];
      }
    };
    for (; !next.done; next = await batches.next()) for (const r of next.value) put(imp.push(r));
    put(imp.end());
    if (buf.length) {
      w.append(buf);
      records += buf.length;
    }
  } catch (e) {
    w.abort();
    await batches.return(undefined).catch(() => undefined);
    throw e;
  }
  w.close();
  return { ledger, records, events: imp.stats.events, lines: reader.stats.lines, badLines: reader.stats.badLines, stats: imp.stats };
}

/** The annotation that carried root's capability set in ledgers written before marker.genesis (still read). */
export const ROOT_CAPS_NOTE = 'tns import: host root capabilities: ';

/** Check a ledger of imported events (the profile: `profile`, else the ledger's marker.profile, else 6.3+). */
export async function checkLedger(path: string, opts: { profile?: string; maxDivergences?: number } = {}): Promise<CheckResult> {
  let checker: TraceChecker | null = null;
  let profile: string | undefined;
  let rootCaps: Cap[] | undefined;
  const make = () => new TraceChecker({ profile: opts.profile ?? profile ?? '6.3+', rootCaps, maxDivergences: opts.maxDivergences });
  for await (const batch of readLedgerBatches(path)) {
    for (const r of batch) {
      if (!checker) {
        if (r.op.call === 'marker.genesis') {
          profile = r.op.world.profile;
          rootCaps = r.op.world.rootCaps;
          continue;
        }
        if (r.op.call === 'marker.profile') {
          profile = r.op.profile;
          continue;
        }
        if (r.op.call === 'marker.annotation' && r.op.text.startsWith(ROOT_CAPS_NOTE)) {
          rootCaps = r.op.text.slice(ROOT_CAPS_NOTE.length).split(',').filter((c): c is Cap => (CAPS as readonly string[]).includes(c));
          continue;
        }
        checker = make();
      }
      const ev = recordToEvent(r);
      if (ev) checker.push({ ...ev, seq: r.seq });
    }
  }
  return (checker ?? make()).end(0);
}

/** Whether a file looks like a ledger (NDJSON records) rather than strace text. */
export function looksLikeLedger(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, 256, 0);
    const head = buf.toString('utf8', 0, n).trimStart();
    return head.startsWith('{"');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The syscalls `tns record` traces: everything the importer models, and nothing else (small traces). */
export const STRACE_TRACE_SET =
  '%process,unshare,setns,open,openat,close,dup,dup2,dup3,fcntl,read,write,pwrite64,lseek,readlink,readlinkat,pidfd_open,' +
  'clock_gettime,clock_nanosleep,timer_create,timer_settime,timerfd_create,timerfd_settime,setuid,setresuid,setreuid,capset,prctl,wait4,waitid';

export function straceArgs(out: string, cmd: string[]): string[] {
  return ['-f', '-tt', '-yy', '-s', '4096', '-e', `trace=${STRACE_TRACE_SET}`, '-o', out, '--', ...cmd];
}

export class StraceMissing extends Error {
  override name = 'StraceMissing';
}

/** Whether strace can be run (null) or why not. */
export function straceProblem(): string | null {
  const r = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
    return 'strace is not installed (on Debian/Ubuntu: apt-get install strace; Fedora: dnf install strace)';
  if (r.error) return `strace cannot be run: ${r.error.message}`;
  return null;
}

/** The capabilities the model checks that this process has, when not all of them (read from /proc/self/status). */
export function ownModelCaps(): Cap[] | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (!m) return undefined;
    const caps = capsFromMask(m[1]);
    return caps.length === CAPS.length ? undefined : caps;
  } catch {
    return undefined;
  }
}

export interface RecordRun {
  trace: string;
  /** The command's exit status (strace passes it on), or the signal. */
  status: number | null;
  signal: string | null;
  dir: string;
}

/** Run `cmd` under strace (stdio inherited); the trace goes to a temporary file. */
export async function recordUnderStrace(cmd: string[]): Promise<RecordRun> {
  const problem = straceProblem();
  if (problem) throw new StraceMissing(problem);
  const dir = mkdtempSync(join(tmpdir(), 'tns-record-'));
  const trace = join(dir, 'trace.strace');
  const child = spawn('strace', straceArgs(trace, cmd), { stdio: 'inherit' });
  const { status, signal } = await new Promise<{ status: number | null; signal: string | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ status: code, signal: sig }));
  });
  return { trace, status, signal, dir };
}
