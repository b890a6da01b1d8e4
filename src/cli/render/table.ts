/** Plain-text tables: columns padded to their widest cell; numbers right-aligned. No dependencies. */
export interface TableOptions {
  /** Column indexes to right-align (default: columns whose every body cell looks numeric). */
  right?: number[];
  /** Indent every line by this many spaces. */
  indent?: number;
}

const numeric = (s: string) => /^[-+]?\d[\d.,]*( s)?$/.test(s.trim());

export function table(header: string[], rows: string[][], opts: TableOptions = {}): string {
  const n = Math.max(header.length, ...rows.map((r) => r.length));
  const cells = [header, ...rows].map((r) => Array.from({ length: n }, (_, i) => r[i] ?? ''));
  const width = Array.from({ length: n }, (_, i) => Math.max(...cells.map((r) => [...r[i]].length)));
  const right = new Set(opts.right ?? Array.from({ length: n }, (_, i) => i).filter((i) => rows.length > 0 && rows.every((r) => (r[i] ?? '') === '' || numeric(r[i]))));
  const pad = ' '.repeat(opts.indent ?? 0);
  const line = (r: string[]) =>
    pad +
    r
      .map((c, i) => {
        const fill = ' '.repeat(width[i] - [...c].length);
        return right.has(i) ? fill + c : c + fill;
      })
      .join('  ')
      .trimEnd();
  return [line(cells[0]), pad + width.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
