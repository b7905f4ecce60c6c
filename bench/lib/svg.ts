/** A small horizontal bar chart as SVG text (no dependencies): one bar per row, min–max whiskers. */
export interface Bar {
  label: string;
  value: number;
  min?: number;
  max?: number;
  /** text after the value, e.g. "0.93× l3fwd" */
  note?: string;
}

export interface Chart {
  title: string;
  subtitle?: string;
  unit: string;
  groups: { name: string; bars: Bar[] }[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#3b6ea5', '#d08c2f', '#6a9f58', '#a5505a', '#7d6aa5', '#4f9a9a'];

export function barChart(c: Chart): string {
  const width = 760;
  const labelW = 190;
  const barH = 22;
  const gap = 8;
  const plotW = width - labelW - 170;
  const rows = c.groups.reduce((n, g) => n + g.bars.length + 1, 0);
  const top = c.subtitle ? 62 : 44;
  const height = top + rows * (barH + gap) + 20;
  const maxV = Math.max(1e-9, ...c.groups.flatMap((g) => g.bars.map((b) => Math.max(b.value, b.max ?? 0))));
  const x = (v: number) => labelW + (plotW * v) / maxV;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
  );
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="12" y="24" font-size="16" font-weight="bold">${esc(c.title)}</text>`);
  if (c.subtitle) out.push(`<text x="12" y="44" fill="#555">${esc(c.subtitle)}</text>`);
  let y = top;
  c.groups.forEach((g) => {
    out.push(`<text x="12" y="${y + 15}" font-weight="bold">${esc(g.name)}</text>`);
    y += barH + gap;
    g.bars.forEach((b, i) => {
      const color = COLORS[i % COLORS.length];
      out.push(`<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`);
      out.push(`<rect x="${labelW}" y="${y}" width="${Math.max(1, x(b.value) - labelW).toFixed(1)}" height="${barH}" fill="${color}"/>`);
      if (b.min !== undefined && b.max !== undefined) {
        const ym = y + barH / 2;
        out.push(`<line x1="${x(b.min).toFixed(1)}" y1="${ym}" x2="${x(b.max).toFixed(1)}" y2="${ym}" stroke="#222" stroke-width="1.5"/>`);
        for (const v of [b.min, b.max])
          out.push(`<line x1="${x(v).toFixed(1)}" y1="${ym - 5}" x2="${x(v).toFixed(1)}" y2="${ym + 5}" stroke="#222" stroke-width="1.5"/>`);
      }
      out.push(
        `<text x="${(x(Math.max(b.value, b.max ?? 0)) + 6).toFixed(1)}" y="${y + 15}">${esc(`${b.value} ${c.unit}${b.note ? `  ${b.note}` : ''}`)}</text>`,
      );
      y += barH + gap;
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
