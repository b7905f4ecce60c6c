/** Plain-text output helpers shared by the CLI commands. */
export function table(rows: Record<string, unknown>[], cols: string[]): string {
  const cells = rows.map((r) => cols.map((c) => (r[c] === undefined || r[c] === null ? '-' : String(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]))).join('  ');
  return [line(cols), ...cells.map(line)].join('\n') + '\n';
}

/** `-p`/`--pretty` (a global option, set by the entry point): JSON indented. */
export const output = { pretty: false };

export function toJson(value: unknown): string {
  return output.pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
}

export function print(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? toJson(value) + '\n' : text());
}

/** Writes and waits while stdout's buffer is full, so a stream of pages never piles up in memory. */
export function write(s: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(s)) resolve();
    else process.stdout.once('drain', () => resolve());
  });
}

/**
 * A JSON array written row by row as pages arrive (`route show -j` of a million routes is never
 * one string): `[`, rows separated by commas, `]`.
 */
export class JsonArrayWriter {
  private n = 0;
  async rows(rows: readonly unknown[]): Promise<void> {
    if (!rows.length) return;
    const ind = output.pretty ? '\n  ' : '';
    // compact: one stringify of the page without its brackets, not one per row
    const body = output.pretty ? rows.map((r) => ind + JSON.stringify(r, null, 2).replace(/\n/g, '\n  ')).join(',') : JSON.stringify(rows).slice(1, -1);
    await write((this.n === 0 ? '[' : ',') + body);
    this.n += rows.length;
  }
  async end(): Promise<void> {
    await write(this.n === 0 ? '[]\n' : output.pretty ? '\n]\n' : ']\n');
  }
}
