/**
 * The single-writer lock: a file `<ledger>.lock` holding the writer's pid (first line) and its start time
 * (`starttime <ticks>`, field 22 of /proc/PID/stat, so a reused pid is not mistaken for the holder).
 *
 * Taking the lock is atomic: the content is written to a private temporary file, then hard-linked to the lock
 * name (link(2) fails with EEXIST if the lock exists), so the lock file is never seen half-written. A lock whose
 * holder is dead (no such pid, or a pid with another start time) is stale: it is removed with a warning and the
 * lock is taken again. Limitation: two writers that find the same stale lock in the same instant race on its
 * removal; a live holder is never displaced.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { LockedError } from './errors.js';

export interface LockHandle {
  readonly path: string;
  release(): void;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall: starttime
  } catch {
    return undefined;
  }
}

/** Is the process that wrote this lock content still alive? */
export function holderAlive(pid: number, starttime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: it exists but belongs to someone else.
  }
  if (starttime !== undefined) {
    const now = startTimeOf(pid);
    if (now !== undefined && now !== starttime) return false; // the pid was reused
  }
  return true;
}

export function parseLock(text: string): { pid: number; starttime?: string } | undefined {
  const lines = text.split('\n');
  if (!/^[1-9]\d{0,9}$/.test(lines[0] ?? '')) return undefined;
  const st = /^starttime (\d+)$/.exec(lines[1] ?? '');
  return st ? { pid: Number(lines[0]), starttime: st[1] } : { pid: Number(lines[0]) };
}

export function acquireLock(ledgerFile: string, lockPath: string, onWarning: (msg: string) => void): LockHandle {
  const st = startTimeOf(process.pid);
  const content = `${process.pid}\n${st !== undefined ? `starttime ${st}\n` : ''}token ${randomBytes(8).toString('hex')}\n`;
  const tmp = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let text: string;
      try {
        text = readFileSync(lockPath, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
        throw e;
      }
      const holder = parseLock(text);
      if (holder && holderAlive(holder.pid, holder.starttime)) throw new LockedError(ledgerFile, lockPath, holder.pid);
      if (attempt >= 5) throw new LockedError(ledgerFile, lockPath, holder?.pid ?? 0);
      onWarning(
        holder
          ? `${ledgerFile}: taking over a stale lock ${lockPath} held by process ${holder.pid}, which is gone`
          : `${ledgerFile}: taking over an unreadable lock ${lockPath} (content ${JSON.stringify(text.slice(0, 40))})`,
      );
      try {
        unlinkSync(lockPath);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
  let released = false;
  return {
    path: lockPath,
    release() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(lockPath, 'utf8') === content) unlinkSync(lockPath);
      } catch {
        /* someone removed it: nothing to release */
      }
    },
  };
}
