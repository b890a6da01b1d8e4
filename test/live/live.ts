/**
 * The live side of the differential harness: builds test/live/tnsexec.c with the system `cc` (cached by source
 * hash), starts it, and talks to its coordinator (stdin/stdout) and to every task it runs (one unix-socket
 * connection per task). See the protocol at the top of tnsexec.c.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Timespec } from '../../src/kernel/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const TNSEXEC_SOURCE = join(HERE, 'tnsexec.c');

/** Why the live tests cannot run here, or null when they can. */
export function liveUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.arch !== 'x64') return `tnsexec supports x86_64 only (this is ${process.arch})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root (the scenarios create namespaces as root)';
  if (!existsSync('/proc/self/ns/time')) return 'no CONFIG_TIME_NS (/proc/self/ns/time is missing)';
  const cc = spawnSync('cc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return 'no C compiler (`cc --version` failed)';
  return null;
}

let builtPath: string | null = null;

/** Compile tnsexec into a temp dir keyed by the source hash (reused across runs). */
export function buildTnsexec(): string {
  if (builtPath && existsSync(builtPath)) return builtPath;
  const src = readFileSync(TNSEXEC_SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `tns-live-${hash}`);
  const bin = join(dir, 'tnsexec');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('cc', ['-O1', '-Wall', '-o', tmp, TNSEXEC_SOURCE], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc failed to build ${TNSEXEC_SOURCE}:\n${r.stderr}`);
    renameSync(tmp, bin);
  }
  builtPath = bin;
  return bin;
}

export interface HostReading {
  realtime: Timespec;
  monotonic: Timespec;
  boottime: Timespec;
  tai: Timespec;
  /** CLOCK_MONOTONIC_RAW: not slewed by NTP, so it drifts from CLOCK_MONOTONIC (the model has one monotonic clock). */
  raw: Timespec;
}

export class LiveError extends Error {
  override name = 'LiveError';
}

/** A line-oriented reader with awaitable lines and a timeout. */
export class Lines {
  private buf = '';
  private queue: string[] = [];
  private waiters: ((l: string | null) => void)[] = [];
  closed = false;
  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      const w = this.waiters.shift();
      if (w) w(line);
      else this.queue.push(line);
    }
  }
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(null);
  }
  /** The next line, or null at EOF or after `ms`. */
  next(ms: number): Promise<string | null> {
    const q = this.queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w = (l: string | null) => {
        clearTimeout(timer);
        resolve(l);
      };
      const timer = setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) this.waiters.splice(k, 1);
        resolve(null);
      }, ms);
      this.waiters.push(w);
    });
  }
  pending(): boolean {
    return this.queue.length > 0;
  }
}

export interface TaskConn {
  tid: number;
  tgid: number;
  socket: Socket;
  lines: Lines;
}

/** One running tnsexec: the coordinator plus a connection per live task. */
export class LiveSession {
  readonly conns = new Map<number, TaskConn>();
  private hellos: TaskConn[] = [];
  private helloWaiters: ((c: TaskConn | null) => void)[] = [];
  private coordLines = new Lines();
  stderr = '';
  t0 = 0;
  savedMaxTimeNamespaces = 0;

  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    private readonly server: Server,
    private readonly dir: string,
  ) {}

  static async start(replyTimeoutMs = 3000): Promise<LiveSession> {
    const bin = buildTnsexec();
    const dir = mkdtempSync(join(tmpdir(), 'tns-live-run-'));
    const sock = join(dir, 's');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sock, () => resolve());
    });
    // Tasks that drop to another uid must still reach the socket.
    chmodSync(dir, 0o755);
    chmodSync(sock, 0o777);
    const proc = spawn(bin, [sock], { stdio: ['pipe', 'pipe', 'pipe'] });
    const s = new LiveSession(proc, server, dir);
    s.replyTimeoutMs = replyTimeoutMs;
    server.on('connection', (socket) => s.onConnection(socket));
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => s.coordLines.push(d));
    proc.stdout.on('end', () => s.coordLines.close());
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => (s.stderr += d));
    proc.on('error', () => s.coordLines.close());
    const first = await s.coordLines.next(5000);
    const second = await s.coordLines.next(5000);
    if (!first?.startsWith('S ') || !second?.startsWith('T ')) {
      await s.close();
      throw new LiveError(`tnsexec did not start (${first} / ${second}): ${s.stderr}`);
    }
    s.savedMaxTimeNamespaces = Number(first.slice(2));
    s.t0 = Number(second.slice(2));
    const hello = await s.nextHello(5000);
    if (!hello || hello.tid !== s.t0) {
      await s.close();
      throw new LiveError(`the first task did not say hello (${hello?.tid}): ${s.stderr}`);
    }
    return s;
  }

  replyTimeoutMs = 3000;

  private onConnection(socket: Socket): void {
    socket.setEncoding('utf8');
    const lines = new Lines();
    let conn: TaskConn | null = null;
    socket.on('data', (d: string) => lines.push(d));
    socket.on('close', () => lines.close());
    socket.on('error', () => lines.close());
    void lines.next(10_000).then((h) => {
      const m = h ? /^H (\d+) (\d+)$/.exec(h) : null;
      if (!m) {
        socket.destroy();
        return;
      }
      conn = { tid: Number(m[1]), tgid: Number(m[2]), socket, lines };
      this.conns.set(conn.tid, conn);
      const w = this.helloWaiters.shift();
      if (w) w(conn);
      else this.hellos.push(conn);
    });
  }

  /** The next task that connected (a new child), or null after `ms`. */
  nextHello(ms: number): Promise<TaskConn | null> {
    const h = this.hellos.shift();
    if (h) return Promise.resolve(h);
    return new Promise((resolve) => {
      const w = (c: TaskConn | null) => {
        clearTimeout(timer);
        resolve(c);
      };
      const timer = setTimeout(() => {
        const k = this.helloWaiters.indexOf(w);
        if (k >= 0) this.helloWaiters.splice(k, 1);
        resolve(null);
      }, ms);
      this.helloWaiters.push(w);
    });
  }

  /** Whether a hello is already queued. */
  helloQueued(): boolean {
    return this.hellos.length > 0;
  }

  send(tid: number, line: string): void {
    const c = this.conns.get(tid);
    if (!c) throw new LiveError(`no live connection for task ${tid}`);
    c.socket.write(line + '\n');
  }

  reply(tid: number, ms = this.replyTimeoutMs): Promise<string | null> {
    const c = this.conns.get(tid);
    if (!c) return Promise.resolve(null);
    return c.lines.next(ms);
  }

  async cmd(tid: number, line: string, ms = this.replyTimeoutMs): Promise<string | null> {
    this.send(tid, line);
    return this.reply(tid, ms);
  }

  /** A task's connection moves to a new tid (a non-leader thread exec'd and took the leader's pid). */
  rekey(from: number, to: number): void {
    const c = this.conns.get(from);
    if (!c) return;
    this.conns.delete(from);
    const old = this.conns.get(to);
    if (old && old !== c) old.socket.destroy();
    c.tid = to;
    c.tgid = to;
    this.conns.set(to, c);
  }

  forget(tid: number): void {
    const c = this.conns.get(tid);
    if (c) {
      c.socket.destroy();
      this.conns.delete(tid);
    }
  }

  private async coord(line: string): Promise<string> {
    this.proc.stdin.write(line + '\n');
    const r = await this.coordLines.next(10_000);
    if (r === null) throw new LiveError(`tnsexec coordinator did not answer ${line}: ${this.stderr}`);
    return r;
  }

  /** The host clocks, read in the initial namespaces. */
  async clk(): Promise<HostReading> {
    const r = await this.coord('CLK');
    const n = r.split(' ').slice(1).map(Number);
    if (n.length !== 10 || n.some((x) => !Number.isFinite(x))) throw new LiveError(`bad CLK answer ${r}`);
    return {
      realtime: { sec: n[0], nsec: n[1] },
      monotonic: { sec: n[2], nsec: n[3] },
      boottime: { sec: n[4], nsec: n[5] },
      tai: { sec: n[6], nsec: n[7] },
      raw: { sec: n[8], nsec: n[9] },
    };
  }

  /** The next `n` dynamic inode numbers the kernel hands out right now (lowest free first). */
  async probe(n: number): Promise<number[]> {
    const r = await this.coord(`PROBE ${n}`);
    if (!r.startsWith('P')) throw new LiveError(`bad PROBE answer ${r}`);
    return r.slice(1).trim().split(/\s+/).filter(Boolean).map(Number);
  }

  async close(): Promise<void> {
    for (const c of this.conns.values()) c.socket.destroy();
    this.conns.clear();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
      this.proc.stdin.end('QUIT\n');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The state letter of /proc/TID/stat ('R', 'S', 'Z', ...), or null when the task is gone. */
export function procState(tid: number): string | null {
  try {
    const s = readFileSync(`/proc/${tid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** st_ino of /proc/TID/ns/<link>, or the error code (ENOENT for a task without nsproxy). */
export function nsInode(tid: number, link: string): number | string {
  try {
    return statSync(`/proc/${tid}/ns/${link}`).ino;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'ERROR';
  }
}

export function readlinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** The fds below the protocol range that /proc/TID/fd lists, with their link targets; null if unreadable. */
export function liveFds(tid: number): Map<number, string> | null {
  try {
    const out = new Map<number, string>();
    for (const name of readdirSync(`/proc/${tid}/fd`)) {
      const fd = Number(name);
      if (fd >= 900) continue;
      out.set(fd, readlinkOrNull(`/proc/${tid}/fd/${name}`) ?? '?');
    }
    return out;
  } catch {
    return null;
  }
}
