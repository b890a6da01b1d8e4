/**
 * A terminal line plot in plain text (optionally ANSI-coloured): several series on one grid, linear or log10 y,
 * vertical separators with labels (e.g. a migration between hosts). No dependencies.
 */
export interface Series {
  name: string;
  /** One character drawn at each point. */
  glyph: string;
  /** ANSI colour code (e.g. 32 for green), used only when colour is on. */
  color?: number;
  /** `gap`: do not connect this point to the previous one (e.g. a different host). */
  points: { x: number; y: number; gap?: boolean }[];
}

export interface PlotOptions {
  width?: number;
  height?: number;
  /** log10 y axis (all y must be > 0). */
  log?: boolean;
  /** Vertical marks at x with a label under the axis (e.g. "→ host B"). */
  marks?: { x: number; label: string }[];
  yLabel?: string;
  xLabel?: string;
  color?: boolean;
  /** Format a y tick value. */
  formatY?: (y: number) => string;
}

export function plot(series: Series[], opts: PlotOptions = {}): string {
  const W = opts.width ?? 64;
  const H = opts.height ?? 14;
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) return '(nothing to plot)';
  const ty = (y: number) => (opts.log ? Math.log10(y) : y);
  if (opts.log && pts.some((p) => p.y <= 0)) throw new RangeError('a log plot needs y > 0');
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => ty(p.y));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 1;
    y1 += 1;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const col = (x: number) => Math.round(((x - x0) / (x1 - x0)) * (W - 1));
  const row = (y: number) => H - 1 - Math.round(((ty(y) - y0) / (y1 - y0)) * (H - 1));
  const grid: { ch: string; color?: number }[][] = Array.from({ length: H }, () => Array.from({ length: W }, () => ({ ch: ' ' })));
  for (const m of opts.marks ?? []) for (let r = 0; r < H; r++) grid[r][col(m.x)] = { ch: '┊' };
  for (const s of series) {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    // connect consecutive points of a series with its glyph on every column between them
    for (let i = 0; i < sorted.length; i++) {
      const a = sorted[i];
      const b = sorted[i + 1];
      grid[row(a.y)][col(a.x)] = { ch: s.glyph, color: s.color };
      if (!b || b.gap) continue;
      const c0 = col(a.x);
      const c1 = col(b.x);
      for (let c = c0 + 1; c < c1; c++) {
        const x = x0 + (c / (W - 1)) * (x1 - x0);
        const t = (x - a.x) / (b.x - a.x);
        const y = opts.log ? 10 ** (ty(a.y) + t * (ty(b.y) - ty(a.y))) : a.y + t * (b.y - a.y);
        grid[row(y)][c] = { ch: s.glyph, color: s.color };
      }
    }
  }
  const fmt = opts.formatY ?? ((y: number) => (Math.abs(y) >= 1e6 ? y.toExponential(2) : String(Math.round(y))));
  const ticks = new Map<number, string>();
  for (const r of [0, Math.floor((H - 1) / 2), H - 1]) {
    const v = y0 + ((H - 1 - r) / (H - 1)) * (y1 - y0);
    ticks.set(r, fmt(opts.log ? 10 ** v : v));
  }
  const tw = Math.max(...[...ticks.values()].map((t) => t.length));
  const paint = (cell: { ch: string; color?: number }) => (opts.color && cell.color ? `\x1b[${cell.color}m${cell.ch}\x1b[0m` : cell.ch);
  const lines: string[] = [];
  if (opts.yLabel) lines.push(`${' '.repeat(tw)}  ${opts.yLabel}${opts.log ? ' (log scale)' : ''}`);
  grid.forEach((r, i) => lines.push(`${(ticks.get(i) ?? '').padStart(tw)} ┤${r.map(paint).join('').trimEnd()}`));
  lines.push(`${' '.repeat(tw)} └${'─'.repeat(W)}`);
  const marks = opts.marks ?? [];
  if (marks.length) {
    let lab = ' '.repeat(W);
    for (const m of marks) {
      const c = Math.min(col(m.x), Math.max(0, W - m.label.length));
      lab = lab.slice(0, c) + m.label + lab.slice(c + m.label.length);
    }
    lines.push(`${' '.repeat(tw)}  ${lab.slice(0, W).trimEnd()}`);
  }
  if (opts.xLabel) lines.push(`${' '.repeat(tw)}  ${opts.xLabel}`);
  lines.push(`${' '.repeat(tw)}  ${series.map((s) => `${paint({ ch: s.glyph, color: s.color })} ${s.name}`).join('   ')}`);
  return lines.join('\n');
}
