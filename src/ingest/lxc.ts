/**
 * LXC container config → the kernel Ops LXC issues for the container's time namespace.
 *
 * From LXC's source:
 * - src/lxc/confile.c parse_line: blank lines and lines starting with '#' (after spaces/tabs) are skipped, lines
 *   not starting with "lxc." are ignored, a line without '=' is "Invalid configuration line" (EINVAL); the key is
 *   right-trimmed, the value trimmed and one pair of matching quotes removed.
 * - set_config_time_offset_boot / _monotonic: an empty value clears; otherwise lxc_safe_int64_residual(value,
 *   base 10, a 3-byte residual buffer) — strtoll, no digits → EINVAL, positive overflow → ERANGE (a negative
 *   overflow is not caught and gives INT64_MIN), a unit suffix of 3 or more characters → EINVAL — then the unit,
 *   trimmed, must be exactly h, m, s (seconds field: ×3600, ×60, ×1; overflow → EOVERFLOW) or ms, us, ns
 *   (nanoseconds field: ×1000000, ×1000, ×1). No unit is EINVAL. The seconds and nanoseconds fields are kept
 *   apart, so "2000ms" is 2000000000 nanoseconds, passed on unchanged.
 * - src/lxc/start.c resolve_clone_flags: a time namespace is wanted when any offset is non-zero (or by
 *   lxc.namespace.clone/keep); keeping it while giving offsets is refused; CLONE_NEWTIME is always unshared by
 *   the container process, never passed to clone. do_start (in the container's first process, before exec):
 *   unshare(CLONE_NEWTIME); boottime then monotonic via timens_offset_write(clock, s, 0) when the seconds are
 *   non-zero, else timens_offset_write(clock, 0, ns) when the nanoseconds are (so with both set the nanoseconds
 *   are dropped); then open /proc/self/ns/time_for_children and setns(fd, CLONE_NEWTIME).
 * - src/lxc/file_utils.c timens_offset_write: open("/proc/self/timens_offsets", O_WRONLY|O_CLOEXEC) and one write
 *   of "%d %" PRId64 " %" PRId64 — numeric clock id, no trailing newline.
 */
import { CLONE, type Op } from '../kernel/ops.js';

export type LxcErrno = 'EINVAL' | 'ERANGE' | 'EOVERFLOW';

/** LXC refuses a config line (the errno LXC returns, with file and line). */
export class LxcConfigError extends Error {
  override name = 'LxcConfigError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly key: string,
    readonly value: string,
    readonly errno: LxcErrno,
    readonly reason: string,
  ) {
    super(visible(`${file}:${line}: ${key ? `${key} = ${value}: ` : ''}${reason} (${errno})`));
  }
}

/** Control characters (a CRLF file's '\r') shown as escapes, so a message stays one readable line. */
function visible(s: string): string {
  const names: Record<string, string> = { '\r': '\\r', '\t': '\\t', '\n': '\\n', '\0': '\\0' };
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => names[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The unit table of set_config_time_offset_*: which field it sets and the multiplier. */
export const LXC_TIME_UNITS: Record<string, { field: 's' | 'ns'; mult: bigint }> = {
  h: { field: 's', mult: 3600n },
  m: { field: 's', mult: 60n },
  s: { field: 's', mult: 1n },
  ms: { field: 'ns', mult: 1_000_000n },
  us: { field: 'ns', mult: 1000n },
  ns: { field: 'ns', mult: 1n },
};

export type LxcOffsetValue = { ok: true; field: 's' | 'ns'; value: bigint; unit: string } | { ok: false; errno: LxcErrno; reason: string };

const isCSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

/** lxc_safe_int64_residual(value, base 10, residual[3]) followed by the unit rules of set_config_time_offset_*. */
export function parseLxcTimeOffset(value: string): LxcOffsetValue {
  let i = 0;
  while (isCSpace(value[i])) i++;
  // strtoll: optional sign, decimal digits.
  let j = i;
  if (value[j] === '+' || value[j] === '-') j++;
  const digitsStart = j;
  while (value[j] !== undefined && value[j] >= '0' && value[j] <= '9') j++;
  if (j === digitsStart) return { ok: false, errno: 'EINVAL', reason: `"${value}" does not start with a number` };
  let n = BigInt(value.slice(i, j));
  if (n > INT64_MAX) return { ok: false, errno: 'ERANGE', reason: `${value.slice(i, j)} overflows a 64-bit integer` };
  if (n < INT64_MIN) n = INT64_MIN; // strtoll clamps; LXC checks only the positive side
  const remaining = value.slice(j);
  if (remaining.length >= 3)
    return { ok: false, errno: 'EINVAL', reason: `the unit "${remaining}" is too long (LXC keeps at most 2 characters after the number)` };
  let a = 0;
  let b = remaining.length;
  while (a < b && isCSpace(remaining[a])) a++;
  while (b > a && isCSpace(remaining[b - 1])) b--;
  const unit = remaining.slice(a, b);
  const u = LXC_TIME_UNITS[unit];
  if (!u)
    return {
      ok: false,
      errno: 'EINVAL',
      reason: unit === '' ? 'a unit is required (h, m, s, ms, us or ns)' : `unknown unit "${unit}" (h, m, s, ms, us or ns)`,
    };
  const v = n * u.mult;
  if (v > INT64_MAX || v < INT64_MIN) return { ok: false, errno: 'EOVERFLOW', reason: `${n}${unit} overflows a 64-bit ${u.field === 's' ? 'seconds' : 'nanoseconds'} value` };
  return { ok: true, field: u.field, value: v, unit };
}

/** LXC's namespace names (ns_info[].proc_name) and their clone flags. */
export const LXC_NAMESPACES: Record<string, number> = {
  user: CLONE.NEWUSER,
  mnt: CLONE.NEWNS,
  pid: CLONE.NEWPID,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  net: CLONE.NEWNET,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

export interface LxcClockOffset {
  /** struct lxc_conf timens.s_<clock> and .ns_<clock>, int64. */
  s: bigint;
  ns: bigint;
  /** The lines that set them last (0: never). */
  sLine: number;
  nsLine: number;
}

export interface LxcTimeConfig {
  file: string;
  boot: LxcClockOffset;
  monotonic: LxcClockOffset;
  /** lxc.namespace.clone / keep (null when unset) with the line that set them. */
  nsClone: { names: string[]; line: number } | null;
  nsKeep: { names: string[]; line: number } | null;
  /** lxc.namespace.share.time. */
  shareTime: { value: string; line: number } | null;
  /** lxc.init.cmd. */
  initCmd: string | null;
  /** lxc.* keys seen that tns does not interpret (not validated). */
  otherKeys: string[];
}

const leftGc = (s: string) => {
  let i = 0;
  while (s[i] === ' ' || s[i] === '\t') i++;
  return i;
};
const rightGc = (s: string) => {
  let i = s.length - 1;
  while (i >= 0 && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\0')) i--;
  return i + 1;
};

/** Parse an LXC config file's text; throws LxcConfigError naming the file and line. */
export function parseLxcConfig(text: string, file = 'config'): LxcTimeConfig {
  const zero = (): LxcClockOffset => ({ s: 0n, ns: 0n, sLine: 0, nsLine: 0 });
  const cfg: LxcTimeConfig = { file, boot: zero(), monotonic: zero(), nsClone: null, nsKeep: null, shareTime: null, initCmd: null, otherKeys: [] };
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    if (/^\s*$/.test(raw)) return; // lxc_is_line_empty
    // No '\r' stripping: LXC splits on '\n' only (a CRLF file keeps '\r' at the end of each value).
    const line = raw.slice(leftGc(raw));
    if (line[0] === '#') return;
    if (!line.startsWith('lxc.')) return; // "martian option": ignored, not an error
    const eq = line.indexOf('=');
    if (eq < 0) throw new LxcConfigError(file, lineNo, '', '', 'EINVAL', `Invalid configuration line: ${line}`);
    let key = line.slice(0, eq);
    key = key.slice(0, rightGc(key));
    let value = line.slice(eq + 1);
    value = value.slice(leftGc(value));
    value = value.slice(0, rightGc(value));
    if ((value[0] === "'" || value[0] === '"') && value.length > 1 && value[value.length - 1] === value[0]) value = value.slice(1, -1);
    const fail = (errno: LxcErrno, reason: string): never => {
      throw new LxcConfigError(file, lineNo, key, value, errno, reason);
    };
    const empty = value === '';

    if (key === 'lxc.time.offset.boot' || key === 'lxc.time.offset.monotonic') {
      const target = key === 'lxc.time.offset.boot' ? cfg.boot : cfg.monotonic;
      if (empty) {
        Object.assign(target, zero());
        return;
      }
      const r = parseLxcTimeOffset(value);
      if (!r.ok) return fail(r.errno, r.reason);
      if (r.field === 's') {
        target.s = r.value;
        target.sLine = lineNo;
      } else {
        target.ns = r.value;
        target.nsLine = lineNo;
      }
      return;
    }
    if (key === 'lxc.namespace.clone' || key === 'lxc.namespace.keep') {
      const isClone = key === 'lxc.namespace.clone';
      if (empty) {
        if (isClone) cfg.nsClone = null;
        else cfg.nsKeep = null;
        return;
      }
      if ((isClone && cfg.nsKeep) || (!isClone && cfg.nsClone))
        return fail('EINVAL', 'Cannot set both "lxc.namespace.clone" and "lxc.namespace.keep"');
      const names = value.split(/[ \t]+/).filter((t) => t !== '');
      for (const n of names) if (!(n in LXC_NAMESPACES)) fail('EINVAL', `unknown namespace "${n}" (${Object.keys(LXC_NAMESPACES).join(', ')})`);
      const prev = isClone ? cfg.nsClone : cfg.nsKeep;
      const merged = { names: [...new Set([...(prev?.names ?? []), ...names])], line: lineNo };
      if (isClone) cfg.nsClone = merged;
      else cfg.nsKeep = merged;
      return;
    }
    if (key === 'lxc.namespace.share.time') {
      cfg.shareTime = empty ? null : { value, line: lineNo };
      return;
    }
    if (key === 'lxc.init.cmd') {
      cfg.initCmd = empty ? null : value;
      return;
    }
    if (!cfg.otherKeys.includes(key)) cfg.otherKeys.push(key);
  });
  return cfg;
}

export interface LxcPids {
  /** The host task that starts lxc-start (default 1). */
  hostParent?: number;
  /** lxc-start, the monitor (default 2000). */
  monitor?: number;
  /** The container's first process (default 2001). */
  container?: number;
}

export type LxcActor = 'host' | 'monitor' | 'container';

export interface LxcStep {
  actor: LxcActor;
  op: Op;
  why: string;
}

export interface LxcOffsetWrite {
  clock: 'boottime' | 'monotonic';
  clockid: 7 | 1;
  /** The exact bytes timens_offset_write writes. */
  text: string;
  /** The config line it comes from. */
  line: number;
}

export interface LxcPlan {
  file: string;
  config: LxcTimeConfig;
  time: 'new' | 'share' | 'inherit';
  writes: LxcOffsetWrite[];
  pids: Required<LxcPids>;
  steps: LxcStep[];
  ops: Op[];
  notes: string[];
}

const SIGCHLD = 17;
const FD = 3;
/** CLONE_ARGS_SIZE_VER2: LXC's first clone3 attempt. */
const CLONE_ARGS_SIZE_VER2 = 88;

/** The ops LXC issues for the container's time namespace; throws LxcConfigError where LXC refuses to start. */
export function planLxc(cfg: LxcTimeConfig, pidsIn: LxcPids = {}): LxcPlan {
  const pids: Required<LxcPids> = { hostParent: pidsIn.hostParent ?? 1, monitor: pidsIn.monitor ?? 2000, container: pidsIn.container ?? 2001 };
  const { monitor, container } = pids;
  const notes: string[] = [];
  const wantsTimens = cfg.boot.s !== 0n || cfg.boot.ns !== 0n || cfg.monotonic.s !== 0n || cfg.monotonic.ns !== 0n;
  const offsetsLine = Math.max(cfg.boot.sLine, cfg.boot.nsLine, cfg.monotonic.sLine, cfg.monotonic.nsLine);

  let cloned: boolean;
  if (cfg.nsKeep) cloned = !cfg.nsKeep.names.includes('time');
  else if (cfg.nsClone) cloned = cfg.nsClone.names.includes('time');
  else cloned = wantsTimens;
  if (cfg.shareTime) cloned = false;
  if (wantsTimens && cfg.nsKeep?.names.includes('time'))
    throw new LxcConfigError(
      cfg.file,
      cfg.nsKeep.line,
      'lxc.namespace.keep',
      cfg.nsKeep.names.join(' '),
      'EINVAL',
      `Requested to keep time namespace while also specifying offsets (offsets at line ${offsetsLine})`,
    );
  if (wantsTimens && !cloned)
    notes.push(
      cfg.shareTime
        ? `lxc.namespace.share.time (line ${cfg.shareTime.line}): the container joins a shared time namespace and LXC ignores the offsets`
        : `lxc.namespace.clone (line ${cfg.nsClone!.line}) does not list time: LXC creates no time namespace and ignores the offsets`,
    );
  if (cfg.otherKeys.length > 0) notes.push(`not interpreted (tns models time namespaces): ${cfg.otherKeys.join(', ')}`);

  const steps: LxcStep[] = [];
  const step = (actor: LxcActor, op: Op, why: string) => steps.push({ actor, op, why });
  step('host', { call: 'host.spawn', pid: monitor, ppid: pids.hostParent }, `lxc-start (pid ${monitor}) runs lxc_spawn`);
  step(
    'monitor',
    { call: 'clone3', tid: monitor, flags: CLONE.PIDFD, exit_signal: SIGCHLD, size: CLONE_ARGS_SIZE_VER2, child: container },
    `lxc_spawn: clone3 the container's first process (pid ${container}) with CLONE_PIDFD; CLONE_NEWTIME is never a clone flag for LXC (it is in ns_unshare_flags). The other namespace flags LXC passes are left out: they do not change the time namespace`,
  );

  const writes: LxcOffsetWrite[] = [];
  if (cloned) {
    step('container', { call: 'unshare', tid: container, flags: CLONE.NEWTIME }, 'do_start: unshare(CLONE_NEWTIME); the new namespace is time_for_children, the process itself is not in it yet');
    for (const [clock, clockid, o] of [
      ['boottime', 7, cfg.boot],
      ['monotonic', 1, cfg.monotonic],
    ] as const) {
      let text: string | null = null;
      let line = 0;
      if (o.s !== 0n) {
        text = `${clockid} ${o.s} 0`;
        line = o.sLine;
        if (o.ns !== 0n)
          notes.push(`${clock}: seconds (line ${o.sLine}) and nanoseconds (line ${o.nsLine}) are both set; LXC writes only the seconds and drops ${o.ns} ns`);
      } else if (o.ns !== 0n) {
        text = `${clockid} 0 ${o.ns}`;
        line = o.nsLine;
      }
      if (text === null) continue;
      writes.push({ clock, clockid, text, line });
      step('container', { call: 'open', tid: container, path: '/proc/self/timens_offsets', mode: 'w', cloexec: true, fd: FD }, `timens_offset_write(CLOCK_${clock.toUpperCase()}): open /proc/self/timens_offsets O_WRONLY|O_CLOEXEC`);
      step(
        'container',
        { call: 'write', tid: container, fd: FD, data: text },
        `write "${text}" (config line ${line}): numeric clock id ${clockid}, "%d %" PRId64 " %" PRId64, no newline; LXC checks nothing, the kernel does (nanoseconds must be in [0, 999999999])`,
      );
      step('container', { call: 'close', tid: container, fd: FD }, 'close the offsets file');
    }
    step(
      'container',
      { call: 'open', tid: container, path: '/proc/self/ns/time_for_children', mode: 'r', cloexec: true, fd: FD },
      'do_start: open /proc/self/ns/time_for_children O_RDONLY|O_CLOEXEC',
    );
    step('container', { call: 'setns', tid: container, fd: FD, nstype: CLONE.NEWTIME }, 'do_start: setns into it — the container process enters its new time namespace, which freezes the offsets');
    step('container', { call: 'close', tid: container, fd: FD }, 'the namespace fd is closed when do_start leaves the block');
  } else if (cfg.shareTime) {
    notes.push(`lxc.namespace.share.time = ${cfg.shareTime.value}: LXC opens that container's time namespace and setns()es an intermediate process into it; not modelled`);
  }
  const init = (cfg.initCmd ?? '/sbin/init').split(/\s+/)[0];
  step('container', { call: 'execve', tid: container, path: init }, `the container execs its init ${init}; it is already in its time namespace (time == time_for_children)`);
  return {
    file: cfg.file,
    config: cfg,
    time: cloned ? 'new' : cfg.shareTime ? 'share' : 'inherit',
    writes,
    pids,
    steps,
    ops: steps.map((s) => s.op),
    notes,
  };
}

/** Parse and plan: the whole importer. */
export function importLxc(text: string, file = 'config', pids: LxcPids = {}): LxcPlan {
  return planLxc(parseLxcConfig(text, file), pids);
}
