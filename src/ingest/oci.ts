/**
 * OCI runtime config.json → the kernel Ops runc issues for its time namespace.
 *
 * What is read (runtime-spec config-linux.md): `linux.namespaces` ({type, path?}; type "time" creates a time
 * namespace, with `path` joins one) and `linux.timeOffsets` ("the name of the clock is the entry key"; values
 * {secs int64, nanosecs uint32}, both optional). Decoding follows Go's encoding/json into runtime-spec's Go
 * types, as runc does: keys match case-insensitively, null is the zero value, a number must fit its Go type
 * exactly (no fraction or exponent for integers). Numbers are read from the source text, never through a float.
 *
 * runc's checks, with runc's own messages:
 *   libcontainer/specconv/spec_linux.go  namespace %q does not exist / malformed spec file: duplicated ns %q
 *   libcontainer/configs/validate/validator.go (namespaces()):
 *     time namespace enabled, but both namespace path and time offsets specified -- you may only provide one
 *     time namespace offsets specified, but time namespace isn't enabled in the config
 * runc does not check clock names or nanosecs: libcontainer/container_linux.go (bootstrapData) formats every
 * entry as "%s %d %d\n" (clock name as written, secs, nanosecs) by ranging over the Go map — so the line order
 * is not fixed — and the kernel judges it (nanosecs ≥ 1e9, "realtime", … → EINVAL for the whole write).
 *
 * The nsexec order (libcontainer/nsenter/nsexec.c): stage-0 (runc init) clones stage-1 with
 * clone(CLONE_PARENT|SIGCHLD); stage-1 joins the namespaces given by path (setns), unshares the user namespace,
 * then all the others in one unshare(); with offsets it asks stage-0 (SYNC_TIMEOFFSETS_PLS), which writes them
 * into /proc/<stage-1>/timens_offsets; stage-1 then clones stage-2 (CLONE_PARENT|SIGCHLD), the container init,
 * which the fork puts into stage-1's time_for_children (freezing it); stage-1 and stage-0 exit.
 */
import { CLONE, type Op } from '../kernel/ops.js';

// ---------------------------------------------------------------------------------------------------------
// Errors

/** The file is not valid JSON, or a value does not fit the Go type runc decodes it into. */
export class OciConfigError extends Error {
  override name = 'OciConfigError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${path}: ${reason}`);
  }
}

/** runc itself refuses the config (before any syscall), with runc's message. */
export class RuncValidationError extends Error {
  override name = 'RuncValidationError';
  constructor(
    readonly file: string,
    readonly line: number,
    /** The runc source file whose check refuses it. */
    readonly source: 'libcontainer/specconv/spec_linux.go' | 'libcontainer/configs/validate/validator.go',
    readonly runcMessage: string,
  ) {
    super(`${file}:${line}: runc refuses this config (${source}): ${runcMessage}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// A small JSON parser that keeps positions and number literals

export type JsonNode =
  | { kind: 'object'; line: number; entries: [string, JsonNode][] }
  | { kind: 'array'; line: number; items: JsonNode[] }
  | { kind: 'string'; line: number; value: string }
  | { kind: 'number'; line: number; raw: string }
  | { kind: 'boolean'; line: number; value: boolean }
  | { kind: 'null'; line: number };

/** Parse JSON text (RFC 8259, as strict as Go's decoder) into nodes carrying their line and number literals. */
export function parseJsonWithLines(text: string, file: string): JsonNode {
  let i = 0;
  let line = 1;
  const fail = (why: string): never => {
    throw new OciConfigError(file, line, '(json)', `invalid JSON: ${why}`);
  };
  const ws = () => {
    for (;;) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
      i++;
    }
  };
  const describe = () => (i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[i])}`);
  const str = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i];
      const code = c.charCodeAt(0);
      if (c === '"') {
        i++;
        return out;
      }
      if (code < 0x20) fail('control character in string');
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else fail(`bad escape \\${e ?? ''}`);
        continue;
      }
      out += c;
      i++;
    }
  };
  const value = (): JsonNode => {
    ws();
    const at = line;
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: [string, JsonNode][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', line: at, entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a key string, ${describe()}`);
        const k = str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after key ${JSON.stringify(k)}, ${describe()}`);
        i++;
        entries.push([k, value()]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', line: at, entries };
        }
        fail(`expected ',' or '}', ${describe()}`);
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', line: at, items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', line: at, items };
        }
        fail(`expected ',' or ']', ${describe()}`);
      }
    }
    if (c === '"') return { kind: 'string', line: at, value: str() };
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (m && m[0].length > 0 && m[0] !== '-') {
      i += m[0].length;
      return { kind: 'number', line: at, raw: m[0] };
    }
    for (const [word, node] of [
      ['true', { kind: 'boolean', line: at, value: true }],
      ['false', { kind: 'boolean', line: at, value: false }],
      ['null', { kind: 'null', line: at }],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return node as JsonNode;
      }
    }
    return fail(describe());
  };
  const root = value();
  ws();
  if (i < text.length) fail(`trailing ${describe().replace('unexpected ', '')} after the JSON value`);
  return root;
}

// ---------------------------------------------------------------------------------------------------------
// Decoding like encoding/json into runtime-spec's Go types

/** Go's encoding/json field lookup: an exact key first, else a case-insensitive one; the last occurrence wins. */
function field(obj: Extract<JsonNode, { kind: 'object' }>, name: string): JsonNode | undefined {
  let exact: JsonNode | undefined;
  let folded: JsonNode | undefined;
  for (const [k, v] of obj.entries) {
    if (k === name) exact = v;
    else if (k.toLowerCase() === name.toLowerCase()) folded = v;
  }
  return exact ?? folded;
}

const KIND_NAMES: Record<JsonNode['kind'], string> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  null: 'null',
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;

export interface OciNamespace {
  type: string;
  /** "" when absent or null (Go's zero value). */
  path: string;
  line: number;
}

export interface OciTimeOffset {
  /** The map key, as written (runc passes it to the kernel as is). */
  clock: string;
  secs: bigint;
  nanosecs: number;
  line: number;
}

/** The parts of config.json that decide runc's time namespace handling. */
export interface OciTimeConfig {
  file: string;
  /** linux.namespaces in file order (null when absent or null). */
  namespaces: OciNamespace[] | null;
  namespacesLine: number;
  /** linux.timeOffsets entries in file order; null when absent or null (a nil Go map), [] for {}. */
  timeOffsets: OciTimeOffset[] | null;
  timeOffsetsLine: number;
  /** process.args, when given. */
  args: string[] | null;
}

/** Parse and type-check config.json like runc's decoder; throws OciConfigError naming the file, line and JSON path. */
export function parseOciConfig(text: string, file = 'config.json'): OciTimeConfig {
  const root = parseJsonWithLines(text, file);
  const bad = (node: JsonNode, path: string, want: string, got?: string): never => {
    throw new OciConfigError(file, node.line, path, `expected ${want}, got ${got ?? (node.kind === 'number' ? `the number ${node.raw}` : KIND_NAMES[node.kind])}`);
  };
  const obj = (node: JsonNode, path: string) => (node.kind === 'object' ? node : bad(node, path, 'an object'));
  const strOrNull = (node: JsonNode | undefined, path: string): string => {
    if (node === undefined || node.kind === 'null') return '';
    return node.kind === 'string' ? node.value : bad(node, path, 'a string');
  };
  const integer = (node: JsonNode | undefined, path: string, lo: bigint, hi: bigint, want: string): bigint => {
    if (node === undefined || node.kind === 'null') return 0n;
    if (node.kind !== 'number') return bad(node, path, want);
    if (!/^-?\d+$/.test(node.raw)) return bad(node, path, want, `${node.raw} (Go does not decode a fraction or exponent into an integer)`);
    const v = BigInt(node.raw);
    if (v < lo || v > hi) return bad(node, path, want, `${node.raw}, out of range`);
    return v;
  };

  const r = obj(root, '(root)');
  const cfg: OciTimeConfig = { file, namespaces: null, namespacesLine: root.line, timeOffsets: null, timeOffsetsLine: root.line, args: null };

  const process = field(r, 'process');
  if (process && process.kind !== 'null') {
    const p = obj(process, 'process');
    const args = field(p, 'args');
    if (args && args.kind !== 'null') {
      if (args.kind !== 'array') bad(args, 'process.args', 'an array of strings');
      cfg.args = (args as Extract<JsonNode, { kind: 'array' }>).items.map((a, k) => strOrNull(a, `process.args[${k}]`));
    }
  }

  const linuxNode = field(r, 'linux');
  if (!linuxNode || linuxNode.kind === 'null') return cfg;
  const linux = obj(linuxNode, 'linux');

  const nss = field(linux, 'namespaces');
  if (nss && nss.kind !== 'null') {
    if (nss.kind !== 'array') bad(nss, 'linux.namespaces', 'an array');
    cfg.namespacesLine = nss.line;
    cfg.namespaces = (nss as Extract<JsonNode, { kind: 'array' }>).items.map((n, k) => {
      const path = `linux.namespaces[${k}]`;
      if (n.kind === 'null') return { type: '', path: '', line: n.line };
      const o = obj(n, path);
      return { type: strOrNull(field(o, 'type'), `${path}.type`), path: strOrNull(field(o, 'path'), `${path}.path`), line: n.line };
    });
  }

  const offs = field(linux, 'timeOffsets');
  if (offs && offs.kind !== 'null') {
    const o = obj(offs, 'linux.timeOffsets');
    cfg.timeOffsetsLine = o.line;
    // A Go map: a repeated key keeps its first position in our order and the last value (as the map would).
    const order: string[] = [];
    const byKey = new Map<string, OciTimeOffset>();
    for (const [clock, v] of o.entries) {
      const path = `linux.timeOffsets.${clock}`;
      let secs = 0n;
      let nanosecs = 0;
      if (v.kind !== 'null') {
        const e = obj(v, path);
        secs = integer(field(e, 'secs'), `${path}.secs`, INT64_MIN, INT64_MAX, 'a signed 64-bit integer');
        nanosecs = Number(integer(field(e, 'nanosecs'), `${path}.nanosecs`, 0n, UINT32_MAX, 'an unsigned integer (uint32)'));
      }
      if (!byKey.has(clock)) order.push(clock);
      byKey.set(clock, { clock, secs, nanosecs, line: v.line });
    }
    cfg.timeOffsets = order.map((k) => byKey.get(k)!);
  }
  return cfg;
}

// ---------------------------------------------------------------------------------------------------------
// runc's checks

/** specconv's namespaceMapping: runtime-spec namespace type → clone flag. */
export const OCI_NAMESPACE_FLAGS: Record<string, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  user: CLONE.NEWUSER,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** Go's %q of a specs.LinuxNamespace value: {"type" "path"}. */
function goQuoteNs(ns: OciNamespace): string {
  return `{${JSON.stringify(ns.type)} ${JSON.stringify(ns.path)}}`;
}

/** runc's own refusals that concern namespaces and time offsets, in runc's order; null when runc accepts. */
export function runcValidationError(cfg: OciTimeConfig): RuncValidationError | null {
  const seen = new Set<number>();
  for (const ns of cfg.namespaces ?? []) {
    const flag = OCI_NAMESPACE_FLAGS[ns.type];
    if (flag === undefined) return new RuncValidationError(cfg.file, ns.line, 'libcontainer/specconv/spec_linux.go', `namespace ${goQuoteNs(ns)} does not exist`);
    if (seen.has(flag)) return new RuncValidationError(cfg.file, ns.line, 'libcontainer/specconv/spec_linux.go', `malformed spec file: duplicated ns ${goQuoteNs(ns)}`);
    seen.add(flag);
  }
  const time = (cfg.namespaces ?? []).find((n) => n.type === 'time');
  if (time) {
    if (time.path !== '' && cfg.timeOffsets !== null)
      return new RuncValidationError(
        cfg.file,
        time.line,
        'libcontainer/configs/validate/validator.go',
        'time namespace enabled, but both namespace path and time offsets specified -- you may only provide one',
      );
  } else if (cfg.timeOffsets !== null) {
    return new RuncValidationError(
      cfg.file,
      cfg.timeOffsetsLine,
      'libcontainer/configs/validate/validator.go',
      "time namespace offsets specified, but time namespace isn't enabled in the config",
    );
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// The ops runc issues

export type RuncActor = 'host' | 'runc' | 'stage-0' | 'stage-1' | 'stage-2';

export interface RuncStep {
  actor: RuncActor;
  op: Op;
  why: string;
}

export interface RuncPids {
  /** The host task that starts runc (must exist in the world; default 1). */
  hostParent?: number;
  runc?: number;
  stage0?: number;
  stage1?: number;
  stage2?: number;
}

export interface RuncPlan {
  file: string;
  config: OciTimeConfig;
  /** What happens to the container's time namespace. */
  time: 'new' | 'join' | 'inherit';
  /** The text stage-0 writes to /proc/<stage-1>/timens_offsets, or null when nothing is written. */
  offsetsText: string | null;
  /** True when more than one clock is given: runc ranges over a Go map, so the line order varies between runs. */
  offsetsOrderUnspecified: boolean;
  pids: Required<RuncPids>;
  steps: RuncStep[];
  ops: Op[];
  notes: string[];
}

const SIGCHLD = 17;
const FD = 3;

/** The ops runc's nsexec issues for this (runc-valid) config; throws RuncValidationError when runc refuses it. */
export function planRunc(cfg: OciTimeConfig, pidsIn: RuncPids = {}): RuncPlan {
  const err = runcValidationError(cfg);
  if (err) throw err;
  const pids: Required<RuncPids> = {
    hostParent: pidsIn.hostParent ?? 1,
    runc: pidsIn.runc ?? 1000,
    stage0: pidsIn.stage0 ?? 1001,
    stage1: pidsIn.stage1 ?? 1002,
    stage2: pidsIn.stage2 ?? 1003,
  };
  const { runc, stage0, stage1, stage2 } = pids;
  const steps: RuncStep[] = [];
  const notes: string[] = [];
  const step = (actor: RuncActor, op: Op, why: string) => steps.push({ actor, op, why });

  const namespaces = cfg.namespaces ?? [];
  const time = namespaces.find((n) => n.type === 'time');
  const joined = namespaces.filter((n) => n.path !== '');
  const created = namespaces.filter((n) => n.path === '');
  const mode: RuncPlan['time'] = !time ? 'inherit' : time.path !== '' ? 'join' : 'new';

  step('host', { call: 'host.spawn', pid: runc, ppid: pids.hostParent }, `runc create/run (pid ${runc}) prepares the container`);
  step('runc', { call: 'host.spawn', pid: stage0, ppid: runc }, `runc starts "runc init" (pid ${stage0}); its nsexec constructor is stage-0, runc:[0:PARENT]`);
  if (joined.length > 0)
    step('stage-0', { call: 'prctl_dumpable', tid: stage0, dumpable: false }, 'nsexec: namespaces are joined by path, so runc init makes itself non-dumpable first');
  step(
    'stage-0',
    { call: 'clone', tid: stage0, flags: CLONE.PARENT | SIGCHLD, child: stage1 },
    `clone_parent(STAGE_CHILD): stage-1 (pid ${stage1}), a sibling of stage-0 under runc (CLONE_PARENT|SIGCHLD, no namespace flags)`,
  );

  for (const ns of joined) {
    if (ns.type !== 'time') {
      notes.push(`linux.namespaces ${ns.type} path ${ns.path}: joined by stage-1 with setns; not modelled (tns models time namespaces)`);
      continue;
    }
    step('stage-1', { call: 'open', tid: stage1, path: ns.path, mode: 'r', fd: FD }, `join_namespaces: open the time namespace file ${ns.path}`);
    step('stage-1', { call: 'setns', tid: stage1, fd: FD, nstype: CLONE.NEWTIME }, `join_namespaces: setns into it; stage-1's time and time_for_children become that namespace (frozen)`);
    step('stage-1', { call: 'close', tid: stage1, fd: FD }, 'close the namespace fd');
  }
  const user = created.find((n) => n.type === 'user');
  if (user) {
    step('stage-1', { call: 'unshare', tid: stage1, flags: CLONE.NEWUSER }, 'try_unshare(CLONE_NEWUSER): the user namespace first, so it owns every namespace unshared next');
    notes.push('user namespace: stage-0 writes uid_map/gid_map and stage-1 calls setresuid(0, 0, 0); not modelled (tns models time namespaces)');
  }
  const rest = created.filter((n) => n.type !== 'user').reduce((f, n) => f | OCI_NAMESPACE_FLAGS[n.type], 0);
  if (rest !== 0)
    step(
      'stage-1',
      { call: 'unshare', tid: stage1, flags: rest },
      `try_unshare(remaining namespaces: ${created
        .filter((n) => n.type !== 'user')
        .map((n) => n.type)
        .join(', ')})${mode === 'new' ? '; the new time namespace becomes stage-1\'s time_for_children, stage-1 itself stays in its old one' : ''}`,
    );

  let offsetsText: string | null = null;
  if (mode === 'new' && cfg.timeOffsets !== null) {
    const text = cfg.timeOffsets.map((o) => `${o.clock} ${o.secs} ${o.nanosecs}\n`).join('');
    if (text === '') {
      notes.push('linux.timeOffsets is {}: runc sends an empty offsets attribute and nothing is written');
    } else {
      offsetsText = text;
      const path = `/proc/${stage1}/timens_offsets`;
      step('stage-0', { call: 'open', tid: stage0, path, mode: 'w', fd: FD }, `SYNC_TIMEOFFSETS_PLS: stage-1 asks stage-0 to write its offsets; stage-0 opens ${path}`);
      step(
        'stage-0',
        { call: 'write', tid: stage0, fd: FD, data: text },
        `update_timens_offsets: one write of the lines runc formatted as "%s %d %d\\n" (clock name as given, secs, nanosecs); the kernel checks them, runc does not`,
      );
      step('stage-0', { call: 'close', tid: stage0, fd: FD }, 'SYNC_TIMEOFFSETS_ACK');
    }
  }
  step(
    'stage-1',
    { call: 'clone', tid: stage1, flags: CLONE.PARENT | SIGCHLD, child: stage2 },
    mode === 'new'
      ? `clone_parent(STAGE_INIT): stage-2 (pid ${stage2}) is the container init; the fork puts it in stage-1's time_for_children, which freezes the offsets`
      : `clone_parent(STAGE_INIT): stage-2 (pid ${stage2}) is the container init, in ${mode === 'join' ? 'the joined' : "runc's own"} time namespace`,
  );
  step('stage-1', { call: 'exit_group', tid: stage1, code: 0 }, 'stage-1 is done (SYNC_CHILD_FINISH)');
  step('stage-0', { call: 'exit_group', tid: stage0, code: 0 }, 'stage-0 is done once stage-2 reports in');
  step('runc', { call: 'wait', tid: runc, target: stage1 }, 'runc reaps stage-1 (CLONE_PARENT made it runc\'s child)');
  step('runc', { call: 'wait', tid: runc, target: stage0 }, 'runc reaps stage-0');
  if (cfg.args && cfg.args.length > 0)
    step('stage-2', { call: 'execve', tid: stage2, path: cfg.args[0] }, `runc init (Go) execs the container process ${cfg.args[0]}; time and time_for_children are the same, so exec changes no clock`);

  return {
    file: cfg.file,
    config: cfg,
    time: mode,
    offsetsText,
    offsetsOrderUnspecified: (cfg.timeOffsets?.length ?? 0) > 1,
    pids,
    steps,
    ops: steps.map((s) => s.op),
    notes,
  };
}

/** Parse, validate like runc and plan: the whole importer. */
export function importOci(text: string, file = 'config.json', pids: RuncPids = {}): RuncPlan {
  return planRunc(parseOciConfig(text, file), pids);
}
