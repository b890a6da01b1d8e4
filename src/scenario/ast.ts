/** The parsed form of a scenario file (see replay/README.md for the language). Every node keeps its line. */
import type { Errno, OpenMode } from '../kernel/index.js';

/** Where a statement came from. */
export interface Loc {
  file: string;
  line: number;
}

/** A comparison operator. */
export type Cmp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A reference to a task by its scenario name, or a literal pid ("100"). */
export type TaskRef = { name: string } | { pid: number };

/** A reference to an fd: a bound name ("fd1") or a number. */
export type FdRef = { name: string } | { fd: number };

/**
 * A reference to a namespace: a task's /proc/PID/ns/<slot> ("@A.time_for_children"), a literal
 * ("time:[4026532176]"), the initial namespace of a type ("init.time"), or a name bound with `let`.
 */
export type NsRef =
  | { kind: 'slot'; task: TaskRef; slot: string; type?: string }
  | { kind: 'inum'; inum: number; type?: string }
  | { kind: 'init'; type: string }
  | { kind: 'name'; name: string; type?: string };

/** A value with an optional tolerance, in nanoseconds. */
export interface Approx {
  ns: bigint;
  tol: bigint;
}

/** A string argument that may contain {NAME} placeholders (replaced by the pid of task NAME). */
export interface Template {
  text: string;
}

/** Inline expectations on a call: all must hold. */
export type InlineExpect =
  | { kind: 'ok' }
  | { kind: 'fail' }
  | { kind: 'errno'; errno: Errno }
  | { kind: 'ret'; value: number }
  | { kind: 'ts'; value: Approx }
  | { kind: 'text'; value: string }
  | { kind: 'rule'; contains: string };

/** The argument shapes of each call a task can make, with references left symbolic until run time. */
export type CallSpec =
  | { call: 'fork' | 'vfork' }
  | { call: 'clone'; flags: number }
  | { call: 'clone3'; flags: number; exitSignal: number; size: number; setTid?: number[] }
  | { call: 'unshare'; flags: number }
  | { call: 'setns'; fd: FdRef; nstype: number }
  | { call: 'execve'; path: Template; fsError?: Errno }
  | { call: 'exit' | 'exit_group'; code: number }
  | { call: 'wait'; target: TaskRef | { any: true } }
  | { call: 'open'; path: Template; mode: OpenMode; cloexec: boolean }
  | { call: 'close'; fd: FdRef }
  | { call: 'dup'; fd: FdRef }
  | { call: 'read'; fd: FdRef; count: number }
  | { call: 'write'; fd: FdRef; data: Template }
  | { call: 'pwrite'; fd: FdRef; data: Template; offset: number }
  | { call: 'lseek'; fd: FdRef; offset: number; whence: 'SET' | 'CUR' | 'END' }
  | { call: 'readlink'; path: Template }
  | { call: 'pidfd_open'; target: TaskRef; flags: number }
  | { call: 'clock_gettime'; clockid: number }
  | { call: 'timer_abs'; api: 'clock_nanosleep' | 'timer_settime' | 'timerfd_settime' | 'futex'; clockid: number; deadlineNs: bigint }
  | { call: 'setresuid'; ruid: number; euid: number; suid: number }
  | { call: 'capset'; caps: string[] }
  | { call: 'prctl_dumpable'; dumpable: boolean };

/** A clock operand of a clock relation: a task's reading of a clock, optionally shifted by a duration. */
export interface ClockTerm {
  task: TaskRef;
  clockid: number;
  shiftNs: bigint;
}

/** Stand-alone expectations (a line starting with `expect`). */
export type Expectation =
  | { kind: 'refcount'; ns: NsRef; cmp: Cmp; value: number }
  | { kind: 'frozen'; ns: NsRef; negate: boolean }
  | { kind: 'offsets'; ns: NsRef; monotonic?: Approx; boottime?: Approx }
  | { kind: 'ns-compare'; a: NsRef; cmp: '==' | '!='; b: NsRef }
  | { kind: 'in-ns-of'; task: TaskRef; slot: string; of: TaskRef; negate: boolean }
  | { kind: 'clock'; left: ClockTerm; cmp: Cmp; right: ClockTerm | Approx }
  | { kind: 'ucounts'; uid: number; userns?: NsRef; cmp: Cmp; value: number }
  | { kind: 'task-state'; task: TaskRef; state: 'running' | 'zombie' | 'gone' }
  | { kind: 'image-timens'; image: string; cmp: Cmp; value: number }
  | { kind: 'image-criu'; image: string; accepts: boolean }
  | { kind: 'image-clock'; image: string; task: TaskRef; clock: 'monotonic' | 'boottime'; cmp: Cmp; value: Approx }
  | { kind: 'invariants' };

export interface HostClocksSpec {
  monotonic?: bigint;
  boottime?: bigint;
  realtime?: bigint;
}

export type Statement =
  | { kind: 'title'; text: string; loc: Loc }
  | { kind: 'shows'; text: string; loc: Loc }
  | { kind: 'profile'; name: string; loc: Loc }
  | { kind: 'host-clocks'; clocks: HostClocksSpec; name?: string; loc: Loc }
  | { kind: 'host-time'; suspend: boolean; ns: bigint; loc: Loc }
  | { kind: 'sysctl'; value: number; expects: InlineExpect[]; loc: Loc }
  | { kind: 'task'; name: string; pid: number; uid: number; parent?: string; loc: Loc }
  | { kind: 'call'; task: TaskRef; spec: CallSpec; bind?: string; expects: InlineExpect[]; loc: Loc }
  | { kind: 'let'; name: string; ns: NsRef; loc: Loc }
  | { kind: 'expect'; expectation: Expectation; text: string; loc: Loc }
  | { kind: 'checkpoint'; image: string; pid: TaskRef; loc: Loc }
  | {
      kind: 'restore';
      image: string;
      machine?: string;
      clocks: HostClocksSpec;
      policy: 'freeze' | 'advance';
      elapsedNs?: bigint;
      expects: InlineExpect[];
      loc: Loc;
    }
  | { kind: 'note'; text: string; loc: Loc };

export interface Scenario {
  file: string;
  title?: string;
  shows: string[];
  profile?: string;
  statements: Statement[];
}
