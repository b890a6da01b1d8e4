// Build MANIFEST.json from expectations.mjs and the recorded traces.
// Every expectation is located in the trace and checked against what the kernel
// answered; any mismatch is reported and the manifest is not written.
// Usage: node test/traces/make-manifest.mjs   (after record.sh)
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRACES, INIT } from './expectations.mjs';
import { readTrace } from './strace-lines.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const problems = [];
const out = [];

function filesOf(t) {
  const f = t.file ?? `${t.name}.strace`;
  if (!f.includes('*')) return [f];
  const dir = dirname(f);
  const prefix = f.slice(dir.length + 1).replace('*', '');
  return readdirSync(join(HERE, dir)).filter((n) => n.startsWith(prefix)).sort().map((n) => `${dir}/${n}`);
}

for (const t of TRACES) {
  const id = t.variant ? `${t.name}.${t.variant}` : t.name;
  const files = filesOf(t);
  const recs = [];
  for (const f of files) {
    const p = join(HERE, f);
    if (!existsSync(p)) { problems.push(`${id}: missing ${f}`); continue; }
    const m = /\.(\d+)$/.exec(f);
    for (const r of readTrace(p, { pid: m ? Number(m[1]) : null })) recs.push({ ...r, file: f });
  }
  if (recs.length === 0) continue;
  const labels = { init: { inum: INIT }, main: { pid: recs[0].pid, line: 0, file: recs[0].file } };
  const expect = [];
  t.expect.forEach((e, i) => {
    const where = `${id} expectation #${i + 1} (${e.fact ?? e.c ?? (e.exit !== undefined ? `exit ${e.exit}` : `killed ${e.killed}`)})`;
    const need = (l) => { if (!labels[l]) throw new Error(`${where}: unknown label ${l}`); return labels[l]; };
    const cands = recs.filter((r) => {
      if (e.exit !== undefined) { if (!(r.kind === 'exit' && r.call === 'exited' && r.ret === e.exit)) return false; }
      else if (e.killed !== undefined) { if (!(r.kind === 'exit' && r.call === 'killed' && r.ret === e.killed)) return false; }
      else if (!(r.kind === 'call' && r.call === e.c && (!e.a || r.text.includes(e.a)))) return false;
      if (e.by && r.pid !== need(e.by).pid) return false;
      if (e.child && r.pid !== need(e.child).ret) return false;
      if (e.after) { const a = need(e.after); if (r.file === a.file && r.line <= a.line) return false; }
      return true;
    });
    const r = cands[(e.n ?? 1) - 1];
    if (!r) { problems.push(`${where}: not found (${cands.length} candidates)`); return; }
    const x = { file: r.file, line: r.line };
    if (r.startLine !== r.line) x.startLine = r.startLine;
    x.pid = r.pid;
    if (r.kind === 'exit') { x.kind = 'exit'; x.call = r.call; x.ret = r.ret; }
    else {
      x.call = r.call;
      if (e.errno) {
        if (r.errno !== e.errno) problems.push(`${where}: kernel said ${r.errno ?? r.ret}, expected ${e.errno} (line ${r.line})`);
        x.ret = r.ret; x.errno = r.errno;
      } else {
        const ok = e.ret === 'pid' ? typeof r.ret === 'number' && r.ret > 0
          : e.ret === 'any' ? typeof r.ret === 'number' && r.ret >= 0 : r.ret === e.ret && !r.errno;
        if (!ok) problems.push(`${where}: kernel said ${r.errno ?? r.ret}, expected ${e.ret} (line ${r.line})`);
        x.ret = r.ret;
      }
    }
    if (e.ns || e.same || e.differs || e.inum) {
      const all = [...r.text.matchAll(/time:\[(\d+)\]/g)];
      if (all.length === 0) problems.push(`${where}: no time:[N] on line ${r.line}`);
      else {
        x.ns = 'time';
        x.inum = Number(all.at(-1)[1]);
        if (e.inum !== undefined && x.inum !== e.inum) problems.push(`${where}: inode ${x.inum}, expected ${e.inum} (line ${r.line})`);
        if (e.same && x.inum !== need(e.same).inum) problems.push(`${where}: inode ${x.inum} is not ${e.same}'s ${need(e.same).inum} (line ${r.line})`);
        if (e.differs && x.inum === need(e.differs).inum) problems.push(`${where}: inode ${x.inum} equals ${e.differs}'s (line ${r.line})`);
        if (e.same) x.sameAs = e.same;
        if (e.differs) x.differsFrom = e.differs;
      }
    }
    const sec = /\{tv_sec=(-?\d+), tv_nsec=(\d+)\}/.exec(r.text);
    if (sec) x.sec = Number(sec[1]);
    if (e.clock) {
      const base = need(e.clock.base);
      const d = x.sec - base.sec;
      if (!(d >= e.clock.plus - 1 && d <= e.clock.plus + 10)) problems.push(`${where}: clock ${x.sec} - ${base.sec} = ${d}, expected ≈ ${e.clock.plus} (line ${r.line})`);
      x.clock = { base: e.clock.base, offset: e.clock.plus };
    }
    if (e.has) {
      if (!r.text.includes(e.has)) problems.push(`${where}: line ${r.line} lacks ${JSON.stringify(e.has)}`);
      x.has = e.has;
    }
    if (e.fact) x.fact = e.fact;
    if (e.label) { x.label = e.label; labels[e.label] = { pid: r.pid, ret: r.ret, line: r.line, file: r.file, inum: x.inum, sec: x.sec }; }
    if (e.ns) { x.label = x.label ?? e.ns; labels[e.ns] = { ...(labels[e.ns] ?? {}), pid: r.pid, line: r.line, file: r.file, inum: x.inum }; }
    expect.push(x);
  });
  const opts = t.options.filter((o) => !o.startsWith('('));
  const cmd = t.command ?? (existsSync(join(HERE, 'src', `${t.name}.sh`)) ? `sh src/${t.name}.sh` : `./bin/${t.name}`);
  const oFile = t.variant === 'stderr' ? null : t.variant === 'ff' ? 'nested-ff/trace' : files[0];
  out.push({
    name: id,
    scenario: t.name,
    source: existsSync(join(HERE, 'src', `${t.name}.c`)) ? `src/${t.name}.c` : `src/${t.name}.sh`,
    files,
    command: cmd,
    straceOptions: t.options,
    recordedWith: `strace ${opts.join(' ')}${oFile ? ` -o ${oFile}` : ''} -- ${cmd}${oFile ? '' : ` 2>${files[0]}`}`,
    lines: files.reduce((n, f) => n + readFileSync(join(HERE, f), 'utf8').split('\n').filter(Boolean).length, 0),
    shows: t.shows,
    expect,
  });
}

if (problems.length) {
  console.error(`${problems.length} expectation(s) disagree with the recorded traces:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const manifest = {
  about: 'Real strace recordings of time-namespace behaviour (Linux 6.18, strace 6.1), made by test/traces/record.sh; paths are relative to test/traces; cwd of every recording: test/traces. expect[].line is the 1-based line in the file where the result (= ret / errno / exit) is printed; startLine is where the call began when strace split it (<unfinished ...>) or printed "strace: Process N attached" inside it.',
  kernel: process.env.TNS_KERNEL ?? null,
  traces: out,
};
writeFileSync(join(HERE, 'MANIFEST.json'), JSON.stringify(manifest, null, 1) + '\n');
console.log(`MANIFEST.json: ${out.length} traces, ${out.reduce((n, t) => n + t.expect.length, 0)} expectations (${relative(process.cwd(), join(HERE, 'MANIFEST.json'))})`);
