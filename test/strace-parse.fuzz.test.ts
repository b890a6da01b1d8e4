import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeCString,
  parseArgs,
  parseLine,
  parseStraceText,
  parseValue,
  recordArgs,
  StraceParseError,
} from '../src/ingest/strace/index.js';

const FX = join(import.meta.dirname, 'fixtures/strace');
const realLines = ['tt-yy.strace', 'stderr.strace', 'ttt-T.strace', 'xverbose.strace', 'xraw.strace', 's8.strace']
  .flatMap((f) => readFileSync(join(FX, f), 'latin1').split('\n'))
  .filter((l) => l !== '');

/** Either a record, null (blank), or a StraceParseError: never any other exception. */
function parsesOrTypedError(line: string): void {
  try {
    const r = parseLine(line, { file: 'fuzz', line: 1 });
    if (r !== null) {
      expect(typeof r.argsText).toBe('string');
      recordArgs(r); // lazy args must not throw either
    } else {
      expect(line.trim()).toBe('');
    }
  } catch (e) {
    if (!(e instanceof StraceParseError)) throw e;
    expect(e.file).toBe('fuzz');
    expect(e.line).toBe(1);
    expect(e.message.startsWith('fuzz:1: ')).toBe(true);
  }
}

const alphabet = fc.constantFrom(
  ...'()[]{}<>"\\,=|/* .:-+?0123456789abcxyzEPRMNO_ \t'.split(''),
  ' = ',
  ' <unfinished ...>',
  '<... read resumed>',
  '+++ ',
  ' +++',
  '--- ',
  ' ---',
  '[pid 12] ',
  'strace: Process 9 attached',
  '/* x */',
  ' => ',
  '0x',
  '...',
);
const tokenLine = fc.array(alphabet, { maxLength: 40 }).map((a) => a.join(''));

/** Mutate a real line: cut, insert, delete or replace a slice. */
const mutated = fc
  .tuple(fc.constantFrom(...realLines), fc.nat(), fc.nat(), fc.string({ maxLength: 6 }), fc.integer({ min: 0, max: 3 }))
  .map(([l, a, b, ins, op]) => {
    const i = a % (l.length + 1);
    const j = Math.min(l.length, i + (b % 8));
    switch (op) {
      case 0:
        return l.slice(0, i);
      case 1:
        return l.slice(0, i) + ins + l.slice(i);
      case 2:
        return l.slice(0, i) + l.slice(j);
      default:
        return l.slice(0, i) + ins + l.slice(j);
    }
  });

describe('fuzz: random lines give a record or a StraceParseError, never another exception', () => {
  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), parsesOrTypedError), { numRuns: 3000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), parsesOrTypedError), { numRuns: 1000 });
  });

  it('strings made of strace tokens', () => {
    fc.assert(fc.property(tokenLine, parsesOrTypedError), { numRuns: 5000 });
  });

  it('mutated real lines', () => {
    fc.assert(fc.property(mutated, parsesOrTypedError), { numRuns: 5000 });
  });

  it('every unmutated real line parses (stderr lines split by strace messages: only as a whole file)', () => {
    const splitLines = new Set<string>();
    const stderr = readFileSync(join(FX, 'stderr.strace'), 'latin1').split('\n');
    stderr.forEach((l, i) => {
      if (/\Sstrace: Process \d+ attached$/.test(l)) splitLines.add(l).add(stderr[i + 1]);
    });
    expect(splitLines.size).toBe(12);
    for (const l of realLines) if (!splitLines.has(l)) expect(() => parseLine(l)).not.toThrow();
    expect(parseStraceText(stderr.join('\n')).stats.badLines).toBe(0);
  });

  it('parseArgs / parseValue never throw', () => {
    fc.assert(
      fc.property(fc.oneof(tokenLine, fc.string({ maxLength: 80 }), mutated), (s) => {
        expect(Array.isArray(parseArgs(s))).toBe(true);
        expect(typeof parseValue(s).kind).toBe('string');
      }),
      { numRuns: 4000 },
    );
  });

  it('whole random traces: strict mode throws only StraceParseError; lenient mode never throws and counts', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, fc.constantFrom(...realLines), tokenLine), { maxLength: 30 }), (lines) => {
        const text = lines.join('\n');
        try {
          parseStraceText(text);
        } catch (e) {
          if (!(e instanceof StraceParseError)) throw e;
        }
        const { records, stats } = parseStraceText(text, { lenient: true });
        expect(stats.records).toBe(records.length);
        expect(stats.badLines).toBeLessThanOrEqual(stats.lines + 1);
      }),
      { numRuns: 1500 },
    );
  });
});

/** Escape bytes the way strace prints them (default style: letters for \t\n\v\f\r, octal
 *  for other non-printables, shortest octal unless a digit follows). */
function straceEscape(bytes: number[]): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const next = bytes[i + 1];
    if (b === 0x22 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b === 9) out += '\\t';
    else if (b === 10) out += '\\n';
    else if (b === 11) out += '\\v';
    else if (b === 12) out += '\\f';
    else if (b === 13) out += '\\r';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else if (next !== undefined && next >= 0x30 && next <= 0x37) out += '\\' + b.toString(8).padStart(3, '0');
    else out += '\\' + b.toString(8);
  }
  return out;
}

describe('round trips', () => {
  it('bytes → strace escapes → decodeCString gives the bytes back (latin1 chars)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }), (bytes) => {
        expect(decodeCString(straceEscape(bytes))).toBe(String.fromCharCode(...bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('\\xHH escapes (-x) decode too', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 32 }), (bytes) => {
        const s = bytes.map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('');
        expect(decodeCString(s)).toBe(String.fromCharCode(...bytes));
      }),
    );
  });

  it('generated syscall lines keep pid, name, string arg, return and errno', () => {
    const errnos = [['EPERM', 'Operation not permitted'], ['EACCES', 'Permission denied'], ['ENOENT', 'No such file or directory']] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4194304 }),
        fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
        fc.boolean(),
        fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(-1)),
        fc.integer({ min: 0, max: 2 }),
        fc.option(fc.integer({ min: 0, max: 86399999999 }), { nil: undefined }),
        (pid, name, bytes, truncated, ret, e, micros) => {
          let ts = '';
          if (micros !== undefined) {
            const sec = Math.floor(micros / 1e6);
            const h = String(Math.floor(sec / 3600)).padStart(2, '0');
            const m = String(Math.floor((sec % 3600) / 60)).padStart(2, '0');
            const s = String(sec % 60).padStart(2, '0');
            ts = `${h}:${m}:${s}.${String(micros % 1e6).padStart(6, '0')} `;
          }
          const retText = ret === -1 ? `-1 ${errnos[e][0]} (${errnos[e][1]})` : String(ret);
          const line = `${pid} ${ts}${name}(3</tmp/x>, "${straceEscape(bytes)}"${truncated ? '...' : ''}, ${bytes.length}) = ${retText}`;
          const r = parseLine(line)!;
          expect(r).toMatchObject({ pid, name, kind: 'syscall' });
          expect(r.ret?.value).toBe(ret);
          if (ret === -1) expect([r.errno, r.errnoText]).toEqual(errnos[e]);
          else expect(r.errno).toBeUndefined();
          if (micros !== undefined) expect(Math.round(r.time!.seconds * 1e6)).toBe(micros);
          const [fd, str, len] = recordArgs(r);
          expect(fd).toMatchObject({ kind: 'fd', fd: 3, path: '/tmp/x' });
          expect(str).toMatchObject({ kind: 'str', value: String.fromCharCode(...bytes), truncated });
          expect(len).toMatchObject({ kind: 'num', value: bytes.length });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
