// Minimal reader of the corpus's strace files, shared by make-manifest.mjs and
// test/corpus-manifest.test.ts. Not the importer: just enough to locate facts.
// Handles: "PID  " prefixes (-f -o), "[pid N] " prefixes (no -o, stderr), per-pid files (-ff),
// -tt / -ttt / no timestamps, -T durations, "<unfinished ...>" / "<... NAME resumed>", and
// "strace: Process N attached" messages that strace prints in the middle of a line.
import { readFileSync } from 'node:fs';

const TS = /^(?:\d\d:\d\d:\d\d\.\d+|\d{9,}\.\d+) /;
const RESULT = / = (-?\d+|0x[0-9a-f]+|\?)(<.*>)?(?: ([A-Z][A-Z0-9_]+) \([^)]*\))?(?: \([^)]*\))?(?: <\d+\.\d+>)?$/;

/** Parse one file into records {line, startLine, pid, kind, call, text, ret, errno}. */
export function readTrace(path, { pid: filePid = null } = {}) {
  const raw = readFileSync(path, 'utf8').split('\n');
  if (raw.at(-1) === '') raw.pop();
  // Join lines split by an "attached" message: "...SIGCHLDstrace: Process N attached" + next line.
  const phys = []; // {no, text}
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i];
    let no = i + 1;
    const m = /^(.*\S)strace: Process \d+ attached$/.exec(t);
    if (m && i + 1 < raw.length) { t = m[1] + raw[i + 1]; no = i + 2; i++; }
    phys.push({ no, text: t, first: m ? no - 1 : no });
  }
  let leader = filePid;
  const recs = [];
  const pending = new Map();
  for (const { no, text, first } of phys) {
    if (/^strace: /.test(text)) continue;
    let rest = text;
    let pid = null;
    let m;
    if ((m = /^(\d+) +/.exec(rest))) { pid = Number(m[1]); rest = rest.slice(m[0].length); }
    else if ((m = /^\[pid +(\d+)\] /.exec(rest))) { pid = Number(m[1]); rest = rest.slice(m[0].length); }
    rest = rest.replace(TS, '');
    if (pid === null) pid = leader;
    if ((m = /^\+\+\+ (exited with (\d+)|killed by (SIG\w+))/.exec(rest))) {
      recs.push({ line: no, startLine: no, pid, kind: 'exit', call: m[2] !== undefined ? 'exited' : 'killed',
        text: rest, ret: m[2] !== undefined ? Number(m[2]) : m[3] });
      continue;
    }
    if (/^--- /.test(rest)) { recs.push({ line: no, startLine: no, pid, kind: 'signal', call: '---', text: rest }); continue; }
    if ((m = /^<\.\.\. (\w+) resumed>/.exec(rest))) {
      const start = pending.get(pid);
      pending.delete(pid);
      const full = (start ? start.text.replace(/ ?<unfinished \.\.\.>$/, '') : '') + rest.slice(m[0].length);
      recs.push(finish({ line: no, startLine: start ? start.line : no, pid, kind: 'call', call: m[1], text: `${m[1]}(${full.replace(/^\w+\(/, '')}` }));
      continue;
    }
    if ((m = /^(\w+)\(/.exec(rest))) {
      if (/<unfinished \.\.\.>$/.test(rest)) { pending.set(pid, { line: first, text: rest }); continue; }
      const r = finish({ line: no, startLine: first, pid, kind: 'call', call: m[1], text: rest });
      if (leader === null && r.call === 'set_tid_address' && typeof r.ret === 'number') leader = r.ret;
      if (r.pid === null && leader !== null) r.pid = leader;
      recs.push(r);
    }
  }
  return recs;
}

function finish(r) {
  const m = RESULT.exec(r.text);
  if (m) {
    r.ret = m[1] === '?' ? '?' : m[1].startsWith('0x') ? m[1] : Number(m[1]);
    if (m[3]) r.errno = m[3];
  }
  return r;
}

/** The check the corpus test applies to one physical line: call name and result are there. */
export function lineShows(lineText, exp) {
  if (exp.kind === 'exit') {
    return exp.call === 'exited' ? lineText.includes(`+++ exited with ${exp.ret} +++`) : lineText.includes(`+++ killed by ${exp.ret}`);
  }
  if (exp.errno) return new RegExp(` = (-1|\\?) ${exp.errno} \\(`).test(lineText);
  return new RegExp(` = ${String(exp.ret).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(<|$| <| \\()`).test(lineText);
}
