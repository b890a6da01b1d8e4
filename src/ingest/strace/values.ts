/**
 * The value model of strace arguments and the scanners shared with the line parser.
 *
 * strace prints C-ish values: numbers, flag sets (`O_WRONLY|O_CLOEXEC`), quoted strings with C
 * escapes (maybe truncated: `"abc"...`), structs `{k=v, ...}`, arrays `[a, b]`, fds annotated
 * by -y/-yy (`3</proc/1/timens_offsets>`, `3<time:[4026532176]>`), `-X verbose` numbers with a
 * comment (`0x80 /* CLONE_NEWTIME *\/`), and clone3's `{...} => {...}` (what the kernel wrote
 * back). Arguments are split only at the top level: strings, (), [], {}, /* *\/ and <...> nest.
 *
 * Nothing here throws on odd input: anything that does not fit a shape becomes {kind:'raw'}.
 */
import { constantValue } from './tables.js';

/** `comment` holds a C comment that is not a flag name (`0x7ffe... /* 39 vars *\/` → '39 vars'). */
export type NumArg = { kind: 'num'; value: number | bigint; text: string; comment?: string; name?: string };
export type StrArg = { kind: 'str'; value: string; truncated: boolean; text: string; name?: string };
/** A set of symbolic names and numbers joined by `|`. `num` is the numeric value when every
 *  part is known (numbers, or names in the tables); with `-X verbose` it is the printed number. */
export type FlagsArg = { kind: 'flags'; names: string[]; num?: number | bigint; text: string; name?: string };
export type StructArg = {
  kind: 'struct';
  fields: Record<string, Arg>;
  /** Elements without `key=` (e.g. `...` when strace abbreviates a struct). */
  unnamed?: Arg[];
  /** For `{...} => {...}`: the fields the kernel wrote back (clone3's parent_tid). */
  changed?: Record<string, Arg>;
  text: string;
  name?: string;
};
export type ArrayArg = { kind: 'array'; items: Arg[]; text: string; name?: string };
/** An fd annotated by -y/-yy. `path` is the decoded annotation (`/proc/11535/timens_offsets`,
 *  `time:[4026532176]`, `pid:5028`, `UNIX-STREAM:[1->2]`); `detail` is -yy's nested part
 *  (`char 1:3` in `1</dev/null<char 1:3>>`); `names` holds a symbolic name (AT_FDCWD). */
export type FdArg = { kind: 'fd'; fd: number; path: string; detail?: string; names?: string[]; text: string; name?: string };
export type RawArg = { kind: 'raw'; text: string; name?: string };
export type Arg = NumArg | StrArg | FlagsArg | StructArg | ArrayArg | FdArg | RawArg;

const C_QUOTE = 34; // "
const C_BSLASH = 92; // \
const C_LT = 60; // <
const C_GT = 62; // >
const C_SLASH = 47; // /
const C_STAR = 42; // *

/** Index just after the closing quote of the string starting at `i` (s[i] === '"'), or -1. */
export function skipString(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const k = s.indexOf('"', j);
    if (k < 0) return -1;
    let b = 0;
    for (let m = k - 1; m > i && s.charCodeAt(m) === C_BSLASH; m--) b++;
    if ((b & 1) === 0) return k + 1;
    j = k + 1;
  }
}

/** Index just after the `>` closing the -y/-yy annotation opened at `i` (s[i] === '<'), or -1.
 *  Paths have their own `<`/`>` escaped by strace, so a raw `<` inside is -yy's nested detail;
 *  socket annotations (`UNIX-STREAM:[1->2]`) keep `>` inside [] which is skipped. */
export function skipAnnotation(s: string, i: number, end = s.length): number {
  let depth = 0;
  let brackets = 0;
  const trackBrackets = i + 1 < end && s.charCodeAt(i + 1) !== C_SLASH;
  for (let j = i; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === C_BSLASH) {
      j++;
    } else if (c === 91 /* [ */ && trackBrackets) {
      brackets++;
    } else if (c === 93 /* ] */ && trackBrackets) {
      if (brackets > 0) brackets--;
    } else if (brackets > 0) {
      // inside [...] of a socket/anon annotation: <> are plain characters
    } else if (c === C_LT) {
      depth++;
    } else if (c === C_GT) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  return -1;
}

function isAnnotationOpen(s: string, i: number, end: number): boolean {
  if (i + 1 >= end) return false;
  const n = s.charCodeAt(i + 1);
  return n !== C_LT && n !== 61 /* = */ && n !== 32;
}

/**
 * Scan from `start` with `depth` open brackets and return the index of the `)` that closes
 * depth 1 → 0, or -1. Strings, comments and annotations are skipped. Bracket kinds are not
 * matched against each other (strace output is well nested).
 */
export function findClose(s: string, start: number, depth: number, end = s.length): number {
  for (let j = start; j < end; j++) {
    const c = s.charCodeAt(j);
    switch (c) {
      case C_QUOTE: {
        const k = skipString(s, j);
        if (k < 0 || k > end) return -1;
        j = k - 1;
        break;
      }
      case C_LT:
        if (isAnnotationOpen(s, j, end)) {
          const k = skipAnnotation(s, j, end);
          if (k > 0) j = k - 1;
        }
        break;
      case C_SLASH:
        if (j + 1 < end && s.charCodeAt(j + 1) === C_STAR) {
          const k = s.indexOf('*/', j + 2);
          if (k < 0 || k + 2 > end) return -1;
          j = k + 1;
        }
        break;
      case 40: /* ( */
      case 91: /* [ */
      case 123: /* { */
        depth++;
        break;
      case 41: /* ) */
        depth--;
        if (depth === 0) return j;
        break;
      case 93: /* ] */
      case 125: /* } */
        depth--;
        break;
    }
  }
  return -1;
}

/** Split s[start, end) at top-level occurrences of `sep` (a single char code) into trimmed
 *  pieces. Returns null when brackets/strings do not balance. */
export function splitTop(s: string, start: number, end: number, sep: number): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let from = start;
  for (let j = start; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === sep && depth === 0) {
      out.push(s.slice(from, j).trim());
      from = j + 1;
      continue;
    }
    switch (c) {
      case C_QUOTE: {
        const k = skipString(s, j);
        if (k < 0 || k > end) return null;
        j = k - 1;
        break;
      }
      case C_LT:
        if (isAnnotationOpen(s, j, end)) {
          const k = skipAnnotation(s, j, end);
          if (k > 0) j = k - 1;
        }
        break;
      case C_SLASH:
        if (j + 1 < end && s.charCodeAt(j + 1) === C_STAR) {
          const k = s.indexOf('*/', j + 2);
          if (k < 0 || k + 2 > end) return null;
          j = k + 1;
        }
        break;
      case 40:
      case 91:
      case 123:
        depth++;
        break;
      case 41:
      case 93:
      case 125:
        depth--;
        if (depth < 0) return null;
        break;
    }
  }
  if (depth !== 0) return null;
  const last = s.slice(from, end).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/**
 * Decode the body of a C string literal as strace prints it (\n \t \r \v \f \a \b \" \\ \'
 * \? \ooo with 1–3 octal digits, \xHH) into a JS string of byte values (latin1: byte b →
 * U+00bb). Characters that are not escaped are kept as they are.
 */
export function decodeCString(body: string): string {
  if (body.indexOf('\\') < 0) return body;
  let out = '';
  const n = body.length;
  let i = 0;
  while (i < n) {
    const k = body.indexOf('\\', i);
    if (k < 0) {
      out += body.slice(i);
      break;
    }
    out += body.slice(i, k);
    i = k + 1;
    if (i >= n) {
      out += '\\';
      break;
    }
    const c = body.charCodeAt(i);
    if (c >= 48 && c <= 55) {
      let v = c - 48;
      let m = i + 1;
      while (m < n && m < i + 3) {
        const d = body.charCodeAt(m);
        if (d < 48 || d > 55) break;
        v = v * 8 + (d - 48);
        m++;
      }
      out += String.fromCharCode(v & 0xff);
      i = m;
      continue;
    }
    if (c === 120 /* x */) {
      let v = 0;
      let m = i + 1;
      while (m < n && m < i + 3) {
        const d = hexDigit(body.charCodeAt(m));
        if (d < 0) break;
        v = v * 16 + d;
        m++;
      }
      if (m === i + 1) {
        out += 'x'; // "\x" without digits: not something strace prints; keep the letter
        i++;
      } else {
        out += String.fromCharCode(v);
        i = m;
      }
      continue;
    }
    switch (c) {
      case 110: out += '\n'; break;
      case 116: out += '\t'; break;
      case 114: out += '\r'; break;
      case 118: out += '\v'; break;
      case 102: out += '\f'; break;
      case 97: out += '\x07'; break;
      case 98: out += '\b'; break;
      default: out += body[i]; // \" \\ \' \? and anything else: the character itself
    }
    i++;
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const DEC_RE = /^-?\d+$/;
const HEX_RE = /^-?0x[0-9a-fA-F]+$/;
const OCT_RE = /^0[0-7]+$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const COMMENT_NAME_RE = /^[A-Za-z_][A-Za-z0-9_?]*$/;
const NAMED_RE = /^([A-Za-z_][A-Za-z0-9_.]*)=(?!=)/;

/** A number as strace prints it: decimal, 0x hex, or 0-prefixed octal (file modes).
 *  Values outside ±2^53 come back as bigint. Returns undefined when `t` is not a number. */
export function parseNumber(t: string): number | bigint | undefined {
  if (OCT_RE.test(t)) return toNum(BigInt('0o' + t.slice(1)));
  if (DEC_RE.test(t)) {
    if (t.length <= 15) return Number(t);
    return toNum(BigInt(t));
  }
  if (HEX_RE.test(t)) {
    const neg = t.charCodeAt(0) === 45;
    const body = neg ? t.slice(1) : t;
    if (body.length <= 15) return neg ? -Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(2), 16);
    const b = BigInt(body);
    return toNum(neg ? -b : b);
  }
  return undefined;
}

function toNum(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Parse the whole top-level argument list text of a syscall (what is between the parens). */
export function parseArgs(argsText: string): Arg[] {
  const parts = splitTop(argsText, 0, argsText.length, 44 /* , */);
  if (parts === null) return [{ kind: 'raw', text: argsText.trim() }];
  const out: Arg[] = [];
  for (const p of parts) {
    const m = NAMED_RE.exec(p);
    if (m) {
      const v = parseValue(p.slice(m[0].length));
      v.name = m[1];
      out.push(v);
    } else {
      out.push(parseValue(p));
    }
  }
  return out;
}

/** Parse one value (an argument, a struct field, an array item). Never throws. */
export function parseValue(text: string): Arg {
  const t = text.trim();
  if (t === '') return { kind: 'raw', text: t };
  const arrow = findTopArrow(t);
  if (arrow > 0) {
    const left = parseValue(t.slice(0, arrow));
    const right = parseValue(t.slice(arrow + 4));
    if (left.kind === 'struct' && right.kind === 'struct') {
      left.changed = right.fields;
      left.text = t;
      return left;
    }
    return { kind: 'raw', text: t };
  }
  const c = t.charCodeAt(0);
  if (c === C_QUOTE) return parseStr(t);
  if (c === 123 /* { */) {
    if (findMatching(t, 0) === t.length - 1) return parseStruct(t);
    return { kind: 'raw', text: t };
  }
  if (c === 91 /* [ */) {
    if (findMatching(t, 0) === t.length - 1) return parseArray(t);
    return { kind: 'raw', text: t };
  }
  return parseScalar(t);
}

/** Index of a top-level " => " in t, or -1. */
function findTopArrow(t: string): number {
  let k = t.indexOf(' => ');
  if (k < 0) return -1;
  // confirm it is at depth 0
  const parts = splitTop(t, 0, k, 0x100000 /* never matches: only checks balance */);
  if (parts !== null) return k;
  // an arrow inside brackets: search later ones
  while ((k = t.indexOf(' => ', k + 1)) > 0) {
    if (splitTop(t, 0, k, 0x100000) !== null) return k;
  }
  return -1;
}

/** Index of the bracket closing the one at `i` (same scanner as findClose, any bracket kind). */
function findMatching(t: string, i: number): number {
  let depth = 0;
  for (let j = i; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c === C_QUOTE) {
      const k = skipString(t, j);
      if (k < 0) return -1;
      j = k - 1;
    } else if (c === C_LT && isAnnotationOpen(t, j, t.length)) {
      const k = skipAnnotation(t, j);
      if (k > 0) j = k - 1;
    } else if (c === C_SLASH && t.charCodeAt(j + 1) === C_STAR) {
      const k = t.indexOf('*/', j + 2);
      if (k < 0) return -1;
      j = k + 1;
    } else if (c === 40 || c === 91 || c === 123) {
      depth++;
    } else if (c === 41 || c === 93 || c === 125) {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function parseStr(t: string): Arg {
  const k = skipString(t, 0);
  if (k < 0) return { kind: 'raw', text: t };
  const rest = t.slice(k);
  if (rest !== '' && rest !== '...') return { kind: 'raw', text: t };
  return { kind: 'str', value: decodeCString(t.slice(1, k - 1)), truncated: rest === '...', text: t };
}

function parseStruct(t: string): StructArg {
  const parts = splitTop(t, 1, t.length - 1, 44) ?? [];
  const fields: Record<string, Arg> = {};
  let unnamed: Arg[] | undefined;
  for (const p of parts) {
    const m = NAMED_RE.exec(p);
    if (m) fields[m[1]] = parseValue(p.slice(m[0].length));
    else (unnamed ??= []).push(parseValue(p));
  }
  const s: StructArg = { kind: 'struct', fields, text: t };
  if (unnamed) s.unnamed = unnamed;
  return s;
}

const SIGSET_RE = /^[A-Z0-9_]+( [A-Z0-9_]+)+$/;

function parseArray(t: string): ArrayArg {
  const parts = splitTop(t, 1, t.length - 1, 44) ?? [];
  // strace prints signal sets as [SEGV RTMIN RT_1]: space separated
  if (parts.length === 1 && SIGSET_RE.test(parts[0])) {
    return { kind: 'array', items: parts[0].split(' ').map((x) => ({ kind: 'raw', text: x }) as RawArg), text: t };
  }
  return { kind: 'array', items: parts.map(parseValue), text: t };
}

/** Numbers, names, flag sets, -X verbose comments, annotated fds. */
function parseScalar(t: string): Arg {
  // a trailing -y annotation: 3</path>, AT_FDCWD</dir>, -100 /* AT_FDCWD */</dir>
  let annot: string | undefined;
  let body = t;
  if (t.charCodeAt(t.length - 1) === C_GT) {
    const lt = firstAnnotationStart(t);
    if (lt > 0 && skipAnnotation(t, lt) === t.length) {
      annot = t.slice(lt + 1, t.length - 1);
      body = t.slice(0, lt).trimEnd();
    } else {
      return { kind: 'raw', text: t };
    }
  }
  const parts = body.indexOf('|') >= 0 ? splitTop(body, 0, body.length, 124 /* | */) : [body];
  if (parts === null) return { kind: 'raw', text: t };
  const names: string[] = [];
  let num: bigint | undefined = 0n;
  let numericOnly = true;
  let single: number | bigint | undefined;
  for (const p0 of parts) {
    let p = p0;
    let commentNames: string[] | undefined;
    const cs = p.indexOf('/*');
    if (cs >= 0) {
      const ce = p.indexOf('*/', cs + 2);
      if (ce < 0 || ce + 2 !== p.length) return { kind: 'raw', text: t };
      const ctext = p.slice(cs + 2, ce).trim();
      commentNames = ctext
        .split('|')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      p = p.slice(0, cs).trim();
      if (!commentNames.every((x) => COMMENT_NAME_RE.test(x))) {
        // not a -X verbose name list: a plain note such as "39 vars"
        const v0 = parts.length === 1 && annot === undefined ? parseNumber(p) : undefined;
        if (v0 === undefined) return { kind: 'raw', text: t };
        return { kind: 'num', value: v0, text: t, comment: ctext };
      }
    }
    const v = parseNumber(p);
    if (v !== undefined) {
      if (parts.length === 1) single = v;
      if (num !== undefined) num |= BigInt(v);
      if (commentNames) {
        names.push(...commentNames);
        numericOnly = false;
      }
      continue;
    }
    const star = p.indexOf('*');
    if (star > 0) {
      // 8192*1024 (rlimits)
      const a = parseNumber(p.slice(0, star));
      const b = parseNumber(p.slice(star + 1));
      if (a !== undefined && b !== undefined && commentNames === undefined) {
        const prod = BigInt(a) * BigInt(b);
        if (parts.length === 1 && annot === undefined) return { kind: 'num', value: toNum(prod), text: t };
        if (num !== undefined) num |= prod;
        continue;
      }
      return { kind: 'raw', text: t };
    }
    if (!IDENT_RE.test(p) || commentNames !== undefined) return { kind: 'raw', text: t };
    numericOnly = false;
    names.push(p);
    const cv = constantValue(p);
    if (cv === undefined) num = undefined;
    else if (num !== undefined) num |= BigInt(cv);
  }
  if (annot !== undefined) {
    if (num === undefined || parts.length !== 1) return { kind: 'raw', text: t };
    const { path, detail } = splitAnnotation(annot);
    const fd: FdArg = { kind: 'fd', fd: Number(num), path, text: t };
    if (detail !== undefined) fd.detail = detail;
    if (names.length > 0) fd.names = names;
    return fd;
  }
  if (numericOnly && single !== undefined) return { kind: 'num', value: single, text: t };
  if (names.length === 1 && names[0] === 'NULL' && parts.length === 1) return { kind: 'num', value: 0, text: t };
  const f: FlagsArg = { kind: 'flags', names, text: t };
  if (num !== undefined) f.num = toNum(num);
  return f;
}

function firstAnnotationStart(t: string): number {
  for (let j = 0; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c === C_SLASH && t.charCodeAt(j + 1) === C_STAR) {
      const k = t.indexOf('*/', j + 2);
      if (k < 0) return -1;
      j = k + 1;
    } else if (c === C_LT) {
      return j;
    }
  }
  return -1;
}

/** Split an annotation body into the decoded path and -yy's nested detail:
 *  `/dev/null<char 1:3>` → {path: '/dev/null', detail: 'char 1:3'}. */
export function splitAnnotation(inner: string): { path: string; detail?: string } {
  if (inner.charCodeAt(inner.length - 1) === C_GT) {
    for (let j = 0; j < inner.length; j++) {
      const c = inner.charCodeAt(j);
      if (c === C_BSLASH) j++;
      else if (c === C_LT) return { path: decodeCString(inner.slice(0, j)), detail: inner.slice(j + 1, inner.length - 1) };
    }
  }
  return { path: decodeCString(inner) };
}

/** The numeric value of an argument when it has one: num, flags with a known value, fd. */
export function argToNumber(a: Arg | undefined): number | bigint | undefined {
  if (!a) return undefined;
  switch (a.kind) {
    case 'num':
      return a.value;
    case 'flags':
      return a.num;
    case 'fd':
      return a.fd;
    default:
      return undefined;
  }
}
