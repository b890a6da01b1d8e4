/**
 * The event vocabulary, described once. The validator (src/events/validate.ts) and the JSON Schema
 * (events/schema.json, see src/events/json-schema.ts) are both derived from these definitions, and the
 * compile-time checks at the bottom fail the build if they drift from the kernel's `Op`/`Outcome` (src/kernel/ops.ts).
 *
 * Ranges follow what the kernel's ABI can carry, not what the kernel accepts: an event is a fact, and a call the
 * kernel refused (clock id 12, a negative lseek offset, an unknown nstype) is still a fact with an errno outcome.
 * So syscall arguments are checked for type and representability (a C `int` is an int32, a `uid_t` is -1 or
 * 0..2^32-1), while identities the kernel assigned (a child's pid, a returned fd) must be real ones.
 */
import { CAPS } from '../kernel/types.js';
import type { Op, Outcome, Errno, OpenMode } from '../kernel/ops.js';
import type { Timespec } from '../kernel/types.js';
import { arr, bool, enm, int, lit, obj, opt, ref, str, union, INT32_MAX, INT32_MIN, type Infer } from './dsl.js';

/** The record format version this code writes. */
export const SCHEMA_VERSION = 1 as const;

/** PID_MAX_LIMIT on 64-bit kernels (4 * 1024 * 1024): no pid or tid can be larger. */
export const PID_MAX_LIMIT = 4194304;

export const ERRNOS = [
  'EPERM', 'ENOENT', 'ESRCH', 'EBADF', 'EAGAIN', 'ENOMEM', 'EACCES', 'EEXIST', 'EINVAL', 'ENOSPC', 'ESPIPE', 'ERANGE',
  'EUSERS', 'E2BIG', 'EFAULT', 'ENOEXEC', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'ELOOP', 'EBUSY', 'ECHILD', 'EMFILE',
  'ENOSYS', 'EOPNOTSUPP',
] as const satisfies readonly Errno[];

const OPEN_MODES = ['r', 'w', 'rw'] as const satisfies readonly OpenMode[];

// --- shared pieces ------------------------------------------------------------------------------------------------

const Errno = ref('Errno', enm(ERRNOS, 'A Linux errno name (the ones the model knows).'));
const Cap = ref('Cap', enm(CAPS, 'A capability the model checks.'));
const Tid = ref('Tid', int({ min: 1, max: PID_MAX_LIMIT, doc: 'A thread id (the caller), 1..PID_MAX_LIMIT.' }));
/** A pid the kernel assigned and a trace showed (binding). */
const Pid = ref('Pid', int({ min: 1, max: PID_MAX_LIMIT, doc: 'A pid the kernel assigned, 1..PID_MAX_LIMIT.' }));
/** An fd number the kernel returned (binding). */
const NewFd = ref('NewFd', int({ min: 0, max: INT32_MAX, doc: 'An fd number the kernel returned.' }));
/** A C int argument (fd, nstype, clock id, exit code): anything the caller could pass. */
const CInt = ref('CInt', int({ min: INT32_MIN, max: INT32_MAX, doc: 'A C int argument (any value the caller could pass).' }));
/** An unsigned long flag word (clone/unshare flags), as far as a JSON number carries it exactly. */
const Flags = ref('Flags', int({ min: 0, max: Number.MAX_SAFE_INTEGER, doc: 'An unsigned flag word.' }));
/** A uid_t argument: -1 keeps a value, else 0..2^32-1. */
const UidArg = ref('UidArg', int({ min: -1, max: 0xffffffff, doc: 'A uid_t argument: -1 (keep) or 0..4294967295.' }));
const Count = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
const Offset = int({ doc: 'A loff_t (signed).' });

/** A timespec as passed in (may be invalid: the kernel answers EINVAL). */
const TimespecArg = ref(
  'TimespecArg',
  obj({ sec: int(), nsec: int() }, 'A struct timespec argument, as the caller passed it (the kernel judges its validity).'),
);
/** A timespec the kernel produced: nanoseconds normalised to [0, 1e9). */
const Timespec = ref(
  'Timespec',
  obj({ sec: int(), nsec: int({ min: 0, max: 999999999 }) }, 'A struct timespec the kernel produced: signed seconds, nanoseconds in [0, 1e9).'),
);

// --- syscalls (src/kernel/ops.ts SyscallOp) -------------------------------------------------------------------------

const syscallVariants = [
  obj({ call: lit('fork'), tid: Tid, child: opt(Pid) }, 'fork(2).'),
  obj({ call: lit('vfork'), tid: Tid, child: opt(Pid) }, 'vfork(2).'),
  obj({ call: lit('clone'), tid: Tid, flags: Flags, child: opt(Pid), pidfd: opt(NewFd) }, 'Legacy clone(2): the low byte of flags is the exit signal.'),
  obj(
    {
      call: lit('clone3'),
      tid: Tid,
      flags: Flags,
      exit_signal: int({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      size: int({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      set_tid: opt(arr(CInt)),
      badStack: opt(bool()),
      tailNonZero: opt(bool()),
      child: opt(Pid),
      pidfd: opt(NewFd),
    },
    'clone3(2) with its struct clone_args.',
  ),
  obj({ call: lit('unshare'), tid: Tid, flags: Flags }, 'unshare(2).'),
  obj({ call: lit('setns'), tid: Tid, fd: CInt, nstype: CInt }, 'setns(2).'),
  obj({ call: lit('execve'), tid: Tid, path: str(), fsError: opt(Errno) }, 'execve(2); fsError is what the filesystem said.'),
  obj({ call: lit('exit'), tid: Tid, code: CInt }, 'exit(2): this thread only.'),
  obj({ call: lit('exit_group'), tid: Tid, code: CInt, signal: opt(str({ minLen: 1, maxLen: 32 })) }, 'exit_group(2), or death by a signal.'),
  obj({ call: lit('wait'), tid: Tid, target: CInt }, 'wait4/waitid reaping a zombie child (-1: any).'),
  obj(
    { call: lit('open'), tid: Tid, path: str(), mode: enm(OPEN_MODES), cloexec: opt(bool()), fd: opt(NewFd) },
    'open/openat of a path.',
  ),
  obj({ call: lit('close'), tid: Tid, fd: CInt }, 'close(2).'),
  obj({ call: lit('dup'), tid: Tid, fd: CInt, newfd: opt(CInt), cloexec: opt(bool()) }, 'dup/dup2/dup3/fcntl(F_DUPFD).'),
  obj({ call: lit('read'), tid: Tid, fd: CInt, count: Count }, 'read(2).'),
  obj({ call: lit('write'), tid: Tid, fd: CInt, data: str() }, 'write(2).'),
  obj({ call: lit('pwrite'), tid: Tid, fd: CInt, data: str(), offset: Offset }, 'pwrite64(2).'),
  obj({ call: lit('lseek'), tid: Tid, fd: CInt, offset: Offset, whence: enm(['SET', 'CUR', 'END']) }, 'lseek(2).'),
  obj({ call: lit('readlink'), tid: Tid, path: str() }, 'readlink/readlinkat.'),
  obj({ call: lit('pidfd_open'), tid: Tid, pid: CInt, flags: int({ min: 0, max: 0xffffffff }), fd: opt(NewFd) }, 'pidfd_open(2).'),
  obj({ call: lit('clock_gettime'), tid: Tid, clockid: CInt }, 'clock_gettime(2); an invalid clock id is a fact too (EINVAL).'),
  obj(
    {
      call: lit('timer_abs'),
      tid: Tid,
      api: enm(['clock_nanosleep', 'timer_settime', 'timerfd_settime', 'futex']),
      clockid: CInt,
      deadline: TimespecArg,
    },
    'An absolute timer armed on clockid.',
  ),
  obj({ call: lit('setresuid'), tid: Tid, ruid: UidArg, euid: UidArg, suid: UidArg }, 'setresuid(2).'),
  obj({ call: lit('capset'), tid: Tid, caps: arr(Cap) }, 'capset(2): the new effective set.'),
  obj({ call: lit('prctl_dumpable'), tid: Tid, dumpable: bool() }, 'prctl(PR_SET_DUMPABLE).'),
] as const;

// --- host events (src/kernel/ops.ts HostOp) -----------------------------------------------------------------------

const hostVariants = [
  obj({ call: lit('host.advance'), sec: int(), nsec: int() }, 'Wall time passes: every clock advances.'),
  obj({ call: lit('host.suspend'), sec: int(), nsec: int() }, 'A suspend: realtime and boottime advance, monotonic does not.'),
  obj({ call: lit('host.spawn'), pid: Pid, uid: opt(int({ min: 0, max: 0xfffffffe })), ppid: opt(int({ min: 0, max: PID_MAX_LIMIT, doc: 'The parent pid; 0: a reaper outside the ledger.' })), caps: opt(arr(Cap)) }, 'A process exists at the start (with its capability set when it is not root\'s).'),
  obj({ call: lit('host.sysctl'), name: lit('user.max_time_namespaces'), value: CInt }, 'The admin writes a sysctl.'),
] as const;

// --- markers (tns's own events: no kernel effect) -------------------------------------------------------------------

const Seq = ref('Seq', int({ min: 1, max: Number.MAX_SAFE_INTEGER, doc: 'A record sequence number (1-based).' }));

const markerVariants = [
  obj(
    { call: lit('marker.checkpoint'), pid: Pid, at: Seq, image: opt(str({ minLen: 1 })) },
    'A checkpoint of process tree `pid` taken at the state after record `at`; `image` names the checkpoint image (e.g. a CRIU dump dir).',
  ),
  obj(
    {
      call: lit('marker.restore'),
      pid: Pid,
      from: opt(Seq),
      image: opt(str({ minLen: 1 })),
      offsets: opt(obj({ monotonic: TimespecArg, boottime: TimespecArg })),
    },
    'A restore of process tree `pid` (as restored), from the checkpoint marker at seq `from` / image `image`, with the time namespace offsets the restore set.',
  ),
  obj({ call: lit('marker.annotation'), text: str({ maxLen: 65536 }) }, 'A human note at this point of the log.'),
  obj(
    {
      call: lit('marker.genesis'),
      world: obj(
        {
          profile: opt(str({ pattern: /^\d+\.\d+/, maxLen: 64 })),
          host: opt(obj({ realtime: Timespec, monotonic: Timespec, boottime: Timespec })),
          firstPid: opt(Pid),
          uid: opt(int({ min: 0, max: 0xfffffffe })),
          rootCaps: opt(arr(Cap)),
          alarmClocks: opt(bool()),
          maxTimeNamespaces: opt(int({ min: 0, max: INT32_MAX })),
          inumBase: opt(int({ min: 0, max: 0xffffffff })),
          taiOffset: opt(int()),
        },
        'createWorld options: what the ledger starts from.',
      ),
    },
    'The world the ledger starts from (its first record): kernel profile, host clocks, the first task, root\'s capabilities, RTC presence, limits.',
  ),
  obj(
    { call: lit('marker.profile'), profile: str({ pattern: /^\d+\.\d+/, maxLen: 64 }) },
    'The kernel profile (e.g. "6.3+", "6.1", "5.6") the following records were written under.',
  ),
] as const;

export const MarkerOpSchema = union('call', markerVariants);
export type MarkerOp = Infer<typeof MarkerOpSchema>;
export type MarkerCall = MarkerOp['call'];

export const OpSchema = union('call', [...syscallVariants, ...hostVariants]);
export const EventOpSchema = ref('Op', union('call', [...syscallVariants, ...hostVariants, ...markerVariants], 'A kernel operation, a host event or a marker.'));
export type EventOp = Op | MarkerOp;

export const OutcomeSchema = ref(
  'Outcome',
  obj(
    {
      ret: int(),
      errno: opt(Errno),
      text: opt(str()),
      ts: opt(Timespec),
      rule: opt(str()),
      inexact: opt(arr(enm(['ret', 'text', 'ts']), { maxItems: 3 })),
    },
    'What came back: a return value or an errno, plus outputs. An errno implies ret -1.',
  ),
);

const Hash = ref('Hash', str({ pattern: /^[0-9a-f]{64}$/, doc: 'A sha256, 64 lowercase hex digits.' }));

const AtSchema = obj(
  {
    monotonic: opt(Timespec),
    boottime: opt(Timespec),
    realtime: opt(Timespec),
    wall: opt(str({ pattern: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, doc: 'ISO 8601 wall time.' })),
  },
  'When: the host clocks when known, wall time otherwise.',
);

const SrcSchema = obj(
  { file: str({ minLen: 1 }), line: int({ min: 1 }), endLine: opt(int({ min: 1 })) },
  'Provenance: where an imported event came from (an strace line, a scenario line).',
);

/** One ledger record (one NDJSON line), format version 1. */
export const RecordSchema = obj(
  {
    v: lit(SCHEMA_VERSION, 'Record format version.'),
    seq: Seq,
    prev: Hash,
    hash: Hash,
    op: EventOpSchema,
    pid: opt(Pid),
    outcome: opt(OutcomeSchema),
    recorded: opt(bool('true: the outcome came from outside (a trace) and replay treats it as the truth; false: the model computed it at append time.')),
    at: opt(AtSchema),
    src: opt(SrcSchema),
    note: opt(str()),
  },
  'Format version 1.',
);

export type EventRecord = Infer<typeof RecordSchema> & { op: EventOp };
/**
 * What replaying needs of a record: everything but its place in the hash chain, which the reader has checked. A
 * record read through the pipeline (src/ledger/pipeline.ts) carries `hash` only where asked for it.
 */
export type ReplayRecord = Omit<EventRecord, 'hash' | 'prev'> & { hash?: string; prev?: string };
/** The record schema of a ReplayRecord from the pipeline: no `prev`, and `hash` only where the reader asked for it. */
export const ReplayRecordSchema = (() => {
  const { prev: _prev, hash, ...rest } = RecordSchema.props;
  return obj({ ...rest, hash: opt(hash) }, 'A record as replay reads it (the chain checked): no prev, a hash only where asked for.');
})();
/** What a writer is given: a record without its place in the log (v, seq, prev, hash are assigned on append). */
export type EventInput = Omit<EventRecord, 'v' | 'seq' | 'prev' | 'hash'>;

// --- compile-time proof that the schema and the kernel vocabulary agree ---------------------------------------------

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type _OpAgrees = Assert<Same<Infer<typeof OpSchema>, Op>>;
export type _OutcomeAgrees = Assert<Same<Infer<typeof OutcomeSchema>, Outcome>>;
export type _TimespecAgrees = Assert<Same<Infer<typeof Timespec>, Timespec>>;
export type _CallsAgree = Assert<Same<Infer<typeof OpSchema>['call'], Op['call']>>;

/** Every call name, kernel ops first, then host events, then markers. */
export const ALL_CALLS: readonly EventOp['call'][] = [...syscallVariants, ...hostVariants, ...markerVariants].map(
  (v) => (v.props.call as { value: EventOp['call'] }).value,
);
export const MARKER_CALLS: readonly MarkerCall[] = markerVariants.map((v) => v.props.call.value);

export function isMarker(op: EventOp): op is MarkerOp {
  return op.call.startsWith('marker.');
}
