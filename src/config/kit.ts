/**
 * The validation kit: a context that collects every problem as `path: problem` and typed
 * readers (mapping, list, int, bool, string, a src/net parser) that report and fall back to the
 * default, so later checks do not cascade; and the "did you mean" for misspelt keys.
 */
export type Path = string;
/** Reads the original source text of a scalar (to tell `0660` from `660`), if known. */
export type SourceOf = (path: (string | number)[]) => string | undefined;

export function child(path: Path, key: string | number): Path {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function got(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

function editDistance(a: string, b: string): number {
  const d: number[] = [];
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (let j = 0; j < long.length && i < short.length; j++) if (long[j] === short[i]) i++;
  return i === short.length;
}

/** The closest valid key to a misspelt one, or undefined when nothing is close. */
export function suggestKey(key: string, valid: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const vl = v.toLowerCase();
    let dist = editDistance(k, vl);
    if (k === vl) dist = 0;
    else if (k.length >= 3 && (vl.startsWith(k) || k.startsWith(vl))) dist = Math.min(dist, 1);
    else if (vl.length >= 4 && (isSubsequence(vl, k) || isSubsequence(k, vl))) dist = Math.min(dist, 2); // staleTimeMs → staleMs
    if (dist < bestD) {
      bestD = dist;
      best = v;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  return bestD <= limit ? best : undefined;
}

export class Ctx {
  errors: string[] = [];
  warnings: string[] = [];
  constructor(readonly sourceOf: SourceOf) {}

  err(path: Path, problem: string): void {
    this.errors.push(path ? `${path}: ${problem}` : problem);
  }

  /** A mapping with only `valid` keys; null/undefined count as an empty mapping. */
  map(path: Path, v: unknown, valid: readonly string[], what = 'a mapping'): Record<string, unknown> | null {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.err(path, `expected ${what}, got ${got(v)}`);
      return null;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (valid.includes(k)) continue;
      const s = suggestKey(k, valid);
      this.err(child(path, k), `unknown key${s ? `; did you mean ${s}?` : ''} (valid keys: ${valid.join(', ')})`);
    }
    return o;
  }

  /** A list; null/undefined count as empty. */
  list(path: Path, v: unknown, what: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.err(path, `expected a list of ${what}, got ${got(v)}`);
      return [];
    }
    return v;
  }

  int(path: Path, v: unknown, def: number, min: number, max: number, opts: { pow2?: boolean; unit?: string } = {}): number {
    if (v === undefined) return def;
    const u = opts.unit ? ` ${opts.unit}` : '';
    const range = `${opts.pow2 ? 'a power of 2' : 'an integer'} from ${min} to ${max}${u}`;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max || (opts.pow2 && (v & (v - 1)) !== 0)) {
      this.err(path, `expected ${range}, got ${got(v)}`);
      return def;
    }
    return v;
  }

  bool(path: Path, v: unknown, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.err(path, `expected true or false, got ${got(v)}`);
      return def;
    }
    return v;
  }

  str(path: Path, v: unknown, what: string): string | undefined {
    if (typeof v !== 'string') {
      this.err(path, v === undefined ? `required (${what})` : `expected ${what}, got ${got(v)}`);
      return undefined;
    }
    return v;
  }

  /** Runs a src/routing parser, turning its EINVAL into an error at `path`. */
  parse<T>(path: Path, f: () => T): T | undefined {
    try {
      return f();
    } catch (e) {
      this.err(path, (e as Error).message);
      return undefined;
    }
  }
}
