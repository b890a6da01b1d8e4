/**
 * fs/proc and the fd table: open/close/dup of /proc/PID/ns/* (nsfs), /proc/PID/timens_offsets, /proc/uptime,
 * /proc/stat, /proc/sys/user/max_time_namespaces; read/write/pwrite/lseek on them; readlink of ns links;
 * pidfd_open.
 */
import { fail, ok, type Outcome, type SyscallOp } from './ops.js';
import { NS_LINKS, type NsproxySlot, type OpenFile, type Task, type World } from './types.js';
import { cloneCred, kuidMapped, makeKuid, mmUserns, nsCapable, ptraceMayAccess } from './cred.js';
import { getNs, putNs } from './refs.js';
import { parseOffsetsWrite, setOffsets, showOffsets } from './timens.js';
import { showIdMap, writeIdMap, writeSetgroups } from './idmap.js';
import { freeId, ModelError, newId, numberText, profileOf, task } from './world.js';
import { add, sub } from './timespec.js';

type NewFile = OpenFile extends infer F ? (F extends OpenFile ? Omit<F, 'id' | 'count'> : never) : never;

/**
 * alloc_file: the description `f` (a fresh object, not copied: a spread of the many kinds of file is slow) gets an
 * id and its first reference, and enters the file table.
 */
export function newFile(world: World, f: NewFile): OpenFile {
  const file = f as OpenFile;
  file.id = newId(world, 'file');
  file.count = 1;
  world.files[file.id] = file;
  return file;
}

/** fd_install at the lowest free fd, or at the number the kernel returned (binding). */
export function installFd(world: World, t: Task, file: OpenFile, cloexec: boolean, wanted?: number): number {
  if (t.files === null) throw new ModelError(`task ${t.tid} has no fd table`);
  const table = world.fdtables[t.files];
  let fd = wanted;
  if (fd === undefined) {
    fd = 0;
    while (table.fds[fd]) fd++;
  } else if (table.fds[fd]) {
    // The kernel gave a number the model thinks is taken: the model missed a close; drop the stale entry.
    releaseFile(world, table.fds[fd].file);
  }
  table.fds[fd] = { file: file.id, cloexec };
  return fd;
}

/** fput: the last reference to an open file releases what it holds. */
export function releaseFile(world: World, id: number): void {
  const f = world.files[id];
  f.count--;
  if (f.count > 0) return;
  delete world.files[id];
  freeId(world, 'file', id);
  if (f.kind === 'nsfs') putNs(world, f.ns);
  if (f.kind === 'timens_offsets') putNs(world, f.cred.userns);
  if (f.kind === 'idmap') {
    putNs(world, f.cred.userns);
    putNs(world, f.userns);
  }
}

export function fileAt(world: World, t: Task, fd: number): OpenFile | null {
  if (t.files === null) return null;
  const e = world.fdtables[t.files].fds[fd];
  return e ? world.files[e.file] : null;
}

/** close_fd. */
export function closeFd(world: World, t: Task, fd: number): Outcome {
  if (t.files === null) return fail('EBADF', 'close: no fd table (EBADF)');
  const table = world.fdtables[t.files];
  const e = table.fds[fd];
  if (!e) return fail('EBADF', `close: fd ${fd} is not open (EBADF)`);
  delete table.fds[fd];
  releaseFile(world, e.file);
  return { ret: 0 };
}

/** Put a whole fd table (exit, or exec unsharing it): at zero every open file is released. */
export function putFdTable(world: World, id: number): void {
  const table = world.fdtables[id];
  table.count--;
  if (table.count > 0) return;
  delete world.fdtables[id];
  freeId(world, 'fdtable', id);
  // Object.values: in fd order like for-in, and about twice as fast on a table keyed by small numbers.
  for (const e of Object.values(table.fds)) releaseFile(world, e.file);
}

type ProcPath =
  | { kind: 'ns'; tid: number; link: string }
  | { kind: 'timens_offsets'; tid: number }
  | { kind: 'idmap'; tid: number; map: 'uid' | 'gid' | 'setgroups' }
  | { kind: 'uptime' }
  | { kind: 'stat' }
  | { kind: 'max_time_namespaces' }
  | { kind: 'noent'; why: string }
  | { kind: 'other' };

const isDigitAt = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};

/**
 * The parts of /proc/<self|thread-self|N>[/task/<M>]/<rest>: what /^\/proc\/(self|thread-self|\d+)(?:\/task\/(\d+))?\/(.+)$/
 * captures, or null where it does not match (written out: the regex was a tenth of an open's cost). As there, `rest`
 * is never empty and nothing after the pid may be a line terminator, and "/task/M/" is taken only when something follows.
 */
export function splitProcPidPath(path: string): { pid: string; task: string | undefined; rest: string } | null {
  if (!path.startsWith('/proc/')) return null;
  let p = 6;
  let pid: string;
  if (path.startsWith('self', p)) pid = 'self';
  else if (path.startsWith('thread-self', p)) pid = 'thread-self';
  else {
    while (isDigitAt(path, p)) p++;
    if (p === 6) return null;
    pid = path.slice(6, p);
  }
  p = 6 + pid.length;
  for (let i = p; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return null;
  }
  if (path.startsWith('/task/', p)) {
    let q = p + 6;
    while (isDigitAt(path, q)) q++;
    if (q > p + 6 && path.charCodeAt(q) === 47 && q + 1 < path.length) return { pid, task: path.slice(p + 6, q), rest: path.slice(q + 1) };
  }
  if (path.charCodeAt(p) === 47 && p + 1 < path.length) return { pid, task: undefined, rest: path.slice(p + 1) };
  return null;
}

/** The link name of "ns/<name>" with name in [a-z_]+ (what /^ns\/([a-z_]+)$/ captures), or null. */
export function nsLinkName(rest: string): string | null {
  if (rest.length <= 3 || !rest.startsWith('ns/')) return null;
  for (let i = 3; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || c === 95)) return null;
  }
  return rest.slice(3);
}

/**
 * The names of the /proc/PID/ns links (own keys only: `in NS_LINKS` would also accept "constructor" or
 * "__proto__", which /proc/PID/ns does not have — ENOENT).
 */
const NS_LINK_NAMES: ReadonlySet<string> = new Set(Object.keys(NS_LINKS));
/** "ns/<name>" → name, for every link name. */
const NS_LINK_OF_REST: ReadonlyMap<string, string> = new Map(Object.keys(NS_LINKS).map((name) => [`ns/${name}`, name]));

/** Resolve a path: /proc/self → the caller's tgid, /proc/thread-self → its tid, /proc/N/task/M → M. */
export function resolveProcPath(world: World, caller: Task, path: string): ProcPath {
  if (path === '/proc/uptime') return { kind: 'uptime' };
  if (path === '/proc/stat') return { kind: 'stat' };
  if (path === '/proc/sys/user/max_time_namespaces')
    return profileOf(world).maxTimeNamespacesSysctl ? { kind: 'max_time_namespaces' } : { kind: 'noent', why: 'no such sysctl before 5.7' };
  const m = splitProcPidPath(path);
  if (!m) return { kind: 'other' };
  let tid = m.pid === 'self' ? caller.tgid : m.pid === 'thread-self' ? caller.tid : Number(m.pid);
  const perThread = m.pid === 'thread-self' || m.task !== undefined;
  if (!world.tasks[tid]) return { kind: 'noent', why: `no process ${tid}` };
  if (m.task !== undefined) {
    const sub = Number(m.task);
    if (!world.tasks[sub] || world.tasks[sub].tgid !== world.tasks[tid].tgid) return { kind: 'noent', why: `no thread ${sub} in ${tid}` };
    tid = sub;
  }
  const rest = m.rest;
  // The common case, "ns/<a link name>", gives the link name as a constant string (a slice of the path would be
  // looked up in the string table again at every use as a property name).
  const known = NS_LINK_OF_REST.get(rest);
  if (known !== undefined) return { kind: 'ns', tid, link: known };
  const link = nsLinkName(rest);
  if (link !== null) {
    if (!NS_LINK_NAMES.has(link)) return { kind: 'noent', why: `no ns link ${link}` };
    return { kind: 'ns', tid, link };
  }
  if (rest === 'uid_map' || rest === 'gid_map' || rest === 'setgroups')
    return { kind: 'idmap', tid, map: rest === 'setgroups' ? 'setgroups' : rest === 'uid_map' ? 'uid' : 'gid' };
  if (rest === 'timens_offsets') {
    if (perThread) return { kind: 'noent', why: 'timens_offsets exists only in /proc/<pid>, not per thread' };
    return { kind: 'timens_offsets', tid };
  }
  return { kind: 'other' };
}

/** ns_get_path via the task: the namespace a /proc/PID/ns/<link> shows, or null (ENOENT) when the task has none. */
export function nsOfLink(world: World, t: Task, link: string): number | null {
  if (link === 'user') return t.cred.userns;
  if (link === 'pid') return t.pidns;
  if (t.nsproxy === null) return null;
  const inum = world.nsproxies[t.nsproxy][link as NsproxySlot];
  // pidns_for_children_get: a pid namespace without a child reaper (no process created in it yet) shows ENOENT.
  if (link === 'pid_for_children' && !hasChildReaper(world, inum)) return null;
  return inum;
}

/** pid_ns->child_reaper is set by the namespace's first process (and stays set); approximated by "a task lives in it". */
function hasChildReaper(world: World, pidns: number): boolean {
  if (world.namespaces[pidns]?.initial) return true;
  for (const k in world.tasks) if (world.tasks[k].pidns === pidns) return true;
  return false;
}

/**
 * capable_wrt_inode_uidgid(inode, cap): the capability in the caller's user namespace, and the inode's owner mapped
 * there (privileged_wrt_inode_uidgid).
 */
function capableWrtInode(world: World, t: Task, cap: 'CAP_DAC_OVERRIDE', owner: number): boolean {
  return nsCapable(world, t.cred, t.cred.userns, cap) && kuidMapped(world, t.cred.userns, owner);
}

/**
 * The owner uid of /proc/PID files (task_dump_owner): the task's euid while its mm is dumpable; root of the mm's user
 * namespace (make_kuid(mm->user_ns, 0), global root when unmapped) when it is not; global root once the task has no mm
 * (an exited task, zombie until reaped). Seen live: a uid-1000 child's timens_offsets is owned by 0 once it has exited
 * (its parent, uid 1000, gets EACCES opening it for writing), and a task that exec'd in a user namespace mapping
 * 0 → 1000 and then cleared dumpable owns its files as 1000.
 */
function procOwner(world: World, t: Task): number {
  if (t.mm === null) return 0;
  if (t.cred.dumpable) return t.cred.euid;
  return makeKuid(world, mmUserns(world, t), 0) ?? 0;
}

export function sysOpen(world: World, op: Extract<SyscallOp, { call: 'open' }>): Outcome {
  const t = task(world, op.tid);
  const p = resolveProcPath(world, t, op.path);
  const cloexec = op.cloexec ?? false;
  switch (p.kind) {
    case 'noent':
      return fail('ENOENT', `open ${op.path}: ${p.why} (ENOENT)`);
    case 'ns': {
      const target = world.tasks[p.tid];
      if (!ptraceMayAccess(world, t, target))
        return fail('EACCES', `open ${op.path}: no ptrace read access to ${p.tid} (EACCES)`);
      const inum = nsOfLink(world, target, p.link);
      if (inum === null) return fail('ENOENT', `open ${op.path}: task ${p.tid} has exited (no nsproxy), or a new pid namespace has no process yet (ENOENT)`);
      if (op.mode !== 'r' && !capableWrtInode(world, t, 'CAP_DAC_OVERRIDE', 0))
        return fail('EACCES', `open ${op.path} for writing: nsfs files are read-only (EACCES)`);
      getNs(world, inum);
      const file = newFile(world, { kind: 'nsfs', ns: inum, nsType: world.namespaces[inum].type, mode: op.mode });
      return { ret: installFd(world, t, file, cloexec, op.fd) };
    }
    case 'timens_offsets': {
      const target = world.tasks[p.tid];
      const owner = procOwner(world, target);
      if (op.mode !== 'r' && t.cred.euid !== owner && !capableWrtInode(world, t, 'CAP_DAC_OVERRIDE', owner))
        return fail('EACCES', `open ${op.path} for writing: owned by uid ${owner}, mode 0644, and CAP_DAC_OVERRIDE needs the owner mapped in the caller's user namespace (EACCES)`);
      getNs(world, t.cred.userns);
      const file = newFile(world, { kind: 'timens_offsets', pid: p.tid, cred: cloneCred(t.cred), pos: 0, mode: op.mode });
      return { ret: installFd(world, t, file, cloexec, op.fd) };
    }
    case 'idmap': {
      const target = world.tasks[p.tid];
      const owner = procOwner(world, target);
      if (op.mode !== 'r' && t.cred.euid !== owner && !capableWrtInode(world, t, 'CAP_DAC_OVERRIDE', owner))
        return fail('EACCES', `open ${op.path} for writing: owned by uid ${owner}, mode 0644 (EACCES)`);
      const userns = target.cred.userns;
      // proc_setgroups_open: writing needs CAP_SYS_ADMIN over the namespace.
      if (p.map === 'setgroups' && op.mode !== 'r' && !nsCapable(world, t.cred, userns, 'CAP_SYS_ADMIN'))
        return fail('EPERM', `open ${op.path} for writing: needs CAP_SYS_ADMIN over the user namespace (EPERM)`);
      getNs(world, t.cred.userns);
      getNs(world, userns);
      const file = newFile(world, { kind: 'idmap', map: p.map, userns, cred: cloneCred(t.cred), pos: 0, mode: op.mode });
      return { ret: installFd(world, t, file, cloexec, op.fd) };
    }
    case 'uptime':
    case 'stat': {
      if (op.mode !== 'r' && !nsCapable(world, t.cred, t.cred.userns, 'CAP_DAC_OVERRIDE'))
        return fail('EACCES', `open ${op.path} for writing: mode 0444 (EACCES)`);
      const file = newFile(world, { kind: 'proc_text', path: op.path as '/proc/uptime' | '/proc/stat', pos: 0, mode: op.mode });
      return { ret: installFd(world, t, file, cloexec, op.fd) };
    }
    case 'max_time_namespaces': {
      if (op.mode !== 'r') {
        const writable =
          nsCapable(world, t.cred, t.cred.userns, 'CAP_SYS_RESOURCE') &&
          (t.cred.euid === 0 || nsCapable(world, t.cred, t.cred.userns, 'CAP_DAC_OVERRIDE'));
        if (!writable) return fail('EACCES', `open ${op.path} for writing: needs CAP_SYS_RESOURCE in the user namespace (EACCES)`);
      }
      const file = newFile(world, { kind: 'sysctl', name: 'user.max_time_namespaces', userns: t.cred.userns, pos: 0, mode: op.mode });
      return { ret: installFd(world, t, file, cloexec, op.fd) };
    }
    case 'other': {
      const file = newFile(world, { kind: 'other', path: op.path, mode: op.mode });
      return { ret: installFd(world, t, file, cloexec, op.fd) };
    }
  }
}

export function sysDup(world: World, op: Extract<SyscallOp, { call: 'dup' }>): Outcome {
  const t = task(world, op.tid);
  const f = fileAt(world, t, op.fd);
  if (!f) return fail('EBADF', `dup: fd ${op.fd} is not open (EBADF)`);
  f.count++;
  return { ret: installFd(world, t, f, op.cloexec ?? false, op.newfd) };
}

export function sysReadlink(world: World, op: Extract<SyscallOp, { call: 'readlink' }>): Outcome {
  const t = task(world, op.tid);
  if (op.path === '/proc/self') return { ret: String(t.tgid).length, text: String(t.tgid) };
  if (op.path === '/proc/thread-self') {
    const s = `${t.tgid}/task/${t.tid}`;
    return { ret: s.length, text: s };
  }
  const p = resolveProcPath(world, t, op.path);
  if (p.kind === 'noent') return fail('ENOENT', `readlink ${op.path}: ${p.why} (ENOENT)`);
  if (p.kind !== 'ns') throw new ModelError(`readlink ${op.path}: the model only knows /proc/PID/ns/* links`);
  const target = world.tasks[p.tid];
  if (!ptraceMayAccess(world, t, target)) return fail('EACCES', `readlink ${op.path}: no ptrace read access to ${p.tid} (EACCES)`);
  const inum = nsOfLink(world, target, p.link);
  if (inum === null) return fail('ENOENT', `readlink ${op.path}: task ${p.tid} has exited, or a new pid namespace has no process yet (ENOENT)`);
  const text = `${world.namespaces[inum].type}:[${numberText(inum)}]`;
  return { ret: text.length, text };
}

const PIDFD_NONBLOCK = 0o4000;
const PIDFD_THREAD = 0o200;

export function sysPidfdOpen(world: World, op: Extract<SyscallOp, { call: 'pidfd_open' }>): Outcome {
  const t = task(world, op.tid);
  const allowed = PIDFD_NONBLOCK | (profileOf(world).pidfdThread ? PIDFD_THREAD : 0);
  if (op.flags & ~allowed) return fail('EINVAL', `pidfd_open: unknown flags 0x${op.flags.toString(16)} (EINVAL)`);
  if (op.pid <= 0) return fail('EINVAL', `pidfd_open: pid ${op.pid} (EINVAL)`);
  const target = world.tasks[op.pid];
  if (!target) return fail('ESRCH', `pidfd_open: no process ${op.pid} (ESRCH)`);
  if (target.tgid !== target.tid && !(op.flags & PIDFD_THREAD))
    return profileOf(world).pidfdOpenNonLeaderEnoent
      ? fail('ENOENT', `pidfd_open: ${op.pid} is not a thread-group leader (ENOENT on current kernels, seen on 6.18)`)
      : fail('EINVAL', `pidfd_open: ${op.pid} is not a thread-group leader (EINVAL)`);
  const file = newFile(world, { kind: 'pidfd', pid: op.pid, mode: 'rw' });
  return { ret: installFd(world, t, file, true, op.fd) };
}

/** /proc/uptime: "%lu.%02lu %lu.%02lu\n", boottime + the reader's boottime offset, then idle (unknown to the model). */
export function uptimeText(world: World, t: Task): { text: string; value: { sec: number; nsec: number } } {
  const off = t.nsproxy !== null ? world.namespaces[world.nsproxies[t.nsproxy].time].offsets!.boottime : { sec: 0, nsec: 0 };
  const up = add(world.host.boottime, off);
  return { text: `${up.sec}.${String(Math.floor(up.nsec / 1e7)).padStart(2, '0')} 0.00\n`, value: up };
}

/** /proc/stat btime: getboottime64 (realtime − boottime) minus the reader's boottime offset (5.11+), in whole seconds. */
export function btime(world: World, t: Task): number {
  const boot = sub(world.host.realtime, world.host.boottime);
  if (!profileOf(world).procStatVirtualized || t.nsproxy === null) return boot.sec;
  const off = world.namespaces[world.nsproxies[t.nsproxy].time].offsets!.boottime;
  return sub(boot, off).sec;
}

/** The seq_file state of an open timens_offsets file: the unread rest of the buffer and the single_open iterator index. */
function seqState(f: Extract<OpenFile, { kind: 'timens_offsets' }>): { buf: string; index: number } {
  if (!f.seq) f.seq = { buf: '', index: f.pos > 0 ? 1 : 0 };
  return f.seq;
}

/** timens_offsets_show: the target's time_for_children offsets, '' for a task without nsproxy, null when gone (ESRCH). */
function timensShow(world: World, pid: number): string | null {
  const target = world.tasks[pid];
  if (!target) return null;
  return target.nsproxy === null ? '' : showOffsets(world.namespaces[world.nsproxies[target.nsproxy].time_for_children].offsets!);
}

export function sysRead(world: World, op: Extract<SyscallOp, { call: 'read' }>): Outcome {
  const t = task(world, op.tid);
  const f = fileAt(world, t, op.fd);
  if (!f) return fail('EBADF', `read: fd ${op.fd} is not open (EBADF)`);
  if (f.mode === 'w') return fail('EBADF', `read: fd ${op.fd} is open write-only (EBADF)`);
  switch (f.kind) {
    case 'nsfs':
    case 'pidfd':
      return fail('EINVAL', `read: ${f.kind} files cannot be read (EINVAL)`);
    case 'timens_offsets': {
      // seq_read_iter over single_open: a read at position 0 starts afresh; elsewhere what is left in the buffer is
      // copied out first (a snapshot of an earlier show), and a drained buffer is EOF (the iterator is past the record).
      const sq = seqState(f);
      if (f.pos === 0) {
        // "if request is to read from zero offset, reset iterator to first record"
        sq.index = 0;
        sq.buf = '';
      }
      let text = '';
      if (sq.buf.length > 0) {
        text = sq.buf.slice(0, op.count);
        sq.buf = sq.buf.slice(text.length);
      } else if (sq.index === 0) {
        const content = timensShow(world, f.pid);
        if (content === null) return fail('ESRCH', `read timens_offsets: process ${f.pid} is gone (ESRCH)`);
        sq.index = 1;
        text = content.slice(0, op.count);
        sq.buf = content.slice(text.length);
      }
      f.pos += text.length;
      return { ret: text.length, text };
    }
    case 'proc_text': {
      if (f.path === '/proc/uptime') {
        const { text: content, value } = uptimeText(world, t);
        const text = content.slice(f.pos, f.pos + op.count);
        f.pos += text.length;
        return ok(text.length, { text, ts: f.pos === text.length ? value : undefined, inexact: ['ret', 'text'] });
      }
      const content = `btime ${btime(world, t)}\n`;
      const first = f.pos === 0;
      f.pos += content.length;
      return ok(content.length, { text: content, ts: first ? { sec: btime(world, t), nsec: 0 } : undefined, inexact: ['ret', 'text'] });
    }
    case 'idmap': {
      const content = showIdMap(world, f);
      const text = content.slice(f.pos, f.pos + op.count);
      f.pos += text.length;
      return ok(text.length, { text });
    }
    case 'sysctl': {
      // __do_proc_doulongvec_minmax: a read at a non-zero position is EOF (the value is printed only from 0, seen live:
      // 10 bytes then EOF, not the rest).
      const content = `${world.namespaces[f.userns]?.maxTimeNamespaces ?? 0}\n`;
      const text = f.pos !== 0 ? '' : content.slice(0, op.count);
      f.pos += text.length;
      return ok(text.length, { text });
    }
    case 'other':
      return ok(0, { inexact: ['ret', 'text'] });
  }
}

export function sysWrite(world: World, op: Extract<SyscallOp, { call: 'write' | 'pwrite' }>): Outcome {
  const t = task(world, op.tid);
  const f = fileAt(world, t, op.fd);
  if (!f) return fail('EBADF', `${op.call}: fd ${op.fd} is not open (EBADF)`);
  // ksys_pwrite64 tests FMODE_PWRITE (cleared by seq_open) before vfs_write tests FMODE_WRITE.
  if (op.call === 'pwrite' && (f.kind === 'timens_offsets' || f.kind === 'proc_text'))
    return fail('ESPIPE', 'pwrite: seq_file clears FMODE_PWRITE (ESPIPE)');
  if (f.mode === 'r') return fail('EBADF', `${op.call}: fd ${op.fd} is open read-only (EBADF)`);
  const count = op.data.length;
  switch (f.kind) {
    case 'nsfs':
    case 'pidfd':
      return fail('EINVAL', `${op.call}: ${f.kind} files cannot be written (EINVAL)`);
    case 'proc_text':
      return fail('EINVAL', `${op.call}: ${f.path} has no write operation (EINVAL)`);
    case 'timens_offsets': {
      if (f.pos !== 0) return fail('EINVAL', `write timens_offsets: file position ${f.pos} is not 0 (EINVAL)`);
      if (count >= 4096) return fail('EINVAL', `write timens_offsets: ${count} bytes is not below a page (EINVAL)`);
      const parsed = parseOffsetsWrite(op.data, profileOf(world).offsetsSymbolicClocks);
      if (!parsed.ok) return fail('EINVAL', parsed.rule);
      const target = world.tasks[f.pid];
      if (!target) return fail('ESRCH', `write timens_offsets: process ${f.pid} is gone (ESRCH)`);
      if (target.nsproxy === null) return fail('ESRCH', `write timens_offsets: process ${f.pid} has exited (ESRCH)`);
      const c = world.nsproxies[target.nsproxy].time_for_children;
      const capable = nsCapable(world, f.cred, world.namespaces[c].owner!, 'CAP_SYS_TIME');
      const r = setOffsets(world, c, capable, parsed.offsets);
      if (!r.ok) return fail(r.errno, r.rule);
      return { ret: parsed.count };
    }
    case 'idmap': {
      if (op.call === 'pwrite') return fail('ESPIPE', `pwrite: seq_file clears FMODE_PWRITE (ESPIPE)`);
      return f.map === 'setgroups' ? writeSetgroups(world, f, op.data) : writeIdMap(world, t, f, op.data);
    }
    case 'sysctl': {
      // proc_sys_call_handler: sysctl_perm with the writer's current credentials (set_permissions: CAP_SYS_RESOURCE
      // over the table's user namespace), EPERM — the open-time check does not carry over (e.g. across an exec).
      if (!nsCapable(world, t.cred, f.userns, 'CAP_SYS_RESOURCE'))
        return fail('EPERM', `${op.call} max_time_namespaces: the writer lacks CAP_SYS_RESOURCE over the user namespace now (EPERM)`);
      // sysctl_writes_strict (default 1): a write at a non-zero position is ignored, and still reports every byte
      // written (seen live: after a read, or a second write on the same fd: 2 bytes, the value unchanged).
      const at = op.call === 'pwrite' ? op.offset : f.pos;
      if (at !== 0) {
        if (op.call === 'write') f.pos += count;
        return { ret: count };
      }
      const r = parseSysctlInt(op.data);
      if (!r.ok) return fail('EINVAL', `write max_time_namespaces: ${r.why} (EINVAL)`);
      if (r.value === null) {
        if (op.call === 'write') f.pos += r.consumed;
        return { ret: r.consumed };
      }
      const v = r.value;
      if (v < 0 || v > 2147483647) return fail('EINVAL', `write max_time_namespaces: ${v} is outside [0, INT_MAX] (EINVAL)`);
      world.namespaces[f.userns].maxTimeNamespaces = v;
      if (op.call === 'write') f.pos += r.consumed;
      return { ret: r.consumed };
    }
    case 'other':
      return ok(count, { inexact: ['ret'] });
  }
}

/**
 * __do_proc_dointvec writing a one-int table: skip blanks; proc_get_long (an optional '-', strtoul base 0, at most 21
 * characters, then a blank or the end); skip blanks again. The bytes consumed are the answer; anything left after
 * the one value is not consumed (a short write), not an error.
 */
export function parseSysctlInt(data: string): { ok: true; value: number | null; consumed: number } | { ok: false; why: string } {
  const space = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);
  let p = 0;
  while (p < data.length && space(data[p])) p++;
  if (p === data.length) return { ok: true, value: null, consumed: data.length };
  const start = p;
  let neg = false;
  if (data[p] === '-') {
    neg = true;
    p++;
  }
  let radix = 10;
  if (data[p] === '0' && (data[p + 1] === 'x' || data[p + 1] === 'X') && /[0-9a-f]/i.test(data[p + 2] ?? '')) {
    radix = 16;
    p += 2;
  } else if (data[p] === '0') radix = 8;
  const digits = radix === 16 ? /[0-9a-f]/i : radix === 8 ? /[0-7]/ : /[0-9]/;
  const d0 = p;
  while (p < data.length && digits.test(data[p])) p++;
  if (p === d0) return { ok: false, why: `"${data}" does not start with an integer` };
  if (p - start > 21) return { ok: false, why: 'the number is too long' };
  if (p < data.length && !' \t\n'.includes(data[p])) return { ok: false, why: `"${data[p]}" after the number` };
  const mag = Number.parseInt(data.slice(d0, p), radix);
  while (p < data.length && space(data[p])) p++;
  return { ok: true, value: neg ? -mag : mag, consumed: p };
}

export function sysLseek(world: World, op: Extract<SyscallOp, { call: 'lseek' }>): Outcome {
  const t = task(world, op.tid);
  const f = fileAt(world, t, op.fd);
  if (!f) return fail('EBADF', `lseek: fd ${op.fd} is not open (EBADF)`);
  if (f.kind === 'pidfd') return fail('ESPIPE', 'lseek: pidfds are not seekable (ESPIPE)');
  if (f.kind === 'nsfs' || f.kind === 'other') return ok(0, { inexact: ['ret'] });
  let pos: number;
  if (op.whence === 'SET') pos = op.offset;
  else if (op.whence === 'CUR') pos = f.pos + op.offset;
  else return fail('EINVAL', 'lseek: seq_lseek has no SEEK_END (EINVAL)');
  if (pos < 0) return fail('EINVAL', `lseek: negative position ${pos} (EINVAL)`);
  if (f.kind === 'timens_offsets' && pos !== f.pos) {
    // seq_lseek → traverse: the iterator restarts; a non-zero position shows the record again (a new snapshot),
    // and an error there resets the file to position 0 and is the lseek's answer.
    const sq = seqState(f);
    sq.index = 0;
    sq.buf = '';
    if (pos !== 0) {
      const content = timensShow(world, f.pid);
      if (content === null) {
        f.pos = 0;
        return fail('ESRCH', `lseek timens_offsets: process ${f.pid} is gone (seq_lseek's traverse: ESRCH)`);
      }
      sq.index = 1;
      sq.buf = content.length > pos ? content.slice(pos) : '';
    }
  }
  f.pos = pos;
  return ok(pos);
}
