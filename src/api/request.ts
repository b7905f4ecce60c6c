/**
 * One request line of the control socket, parsed with bounds: the shape of the JSON is measured
 * on the bytes before anything is built (nesting depth, number of values), so a line costs the
 * server at most its bytes, and what comes back is never larger than the limits allow to echo.
 * Used on the main thread for short lines and in the parse worker (parse-worker.ts) for long ones.
 */

/** Deepest nesting of arrays and objects in a request (replies and logs recurse over it). */
export const MAX_REQUEST_DEPTH = 64;
/** Most JSON values (array elements, object members) in one request; `route.load` carries one string. */
export const MAX_REQUEST_VALUES = 100000;
/** Longest string `id`; an id is echoed in the reply, so it is bounded. */
export const MAX_ID_CHARS = 128;

export interface ParsedRequest {
  id: null | number | boolean | string;
  op: unknown;
  args: unknown;
}

export type ParseResult = { ok: true; req: ParsedRequest } | { ok: false; id: ParsedRequest['id']; code: string; message: string };

/**
 * Depth and value count of a JSON text, by its bytes (strings skipped, escapes honoured); stops
 * as soon as a bound is passed. Not a validator: JSON.parse judges the syntax afterwards.
 */
export function measure(b: Uint8Array): { depth: number; values: number; over: 'depth' | 'values' | null } {
  let inStr = false;
  let esc = false;
  let depth = 0;
  let max = 0;
  let values = 1;
  for (let i = 0; i < b.length; i++) {
    const x = b[i];
    if (inStr) {
      if (esc) esc = false;
      else if (x === 0x5c) esc = true;
      else if (x === 0x22) inStr = false;
      continue;
    }
    if (x === 0x22) inStr = true;
    else if (x === 0x5b || x === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > MAX_REQUEST_DEPTH) return { depth: max, values, over: 'depth' };
      }
    } else if (x === 0x5d || x === 0x7d) depth--;
    else if (x === 0x2c && ++values > MAX_REQUEST_VALUES) return { depth: max, values, over: 'values' };
  }
  return { depth: max, values, over: null };
}

/** The id to echo: null, a number, a boolean or a short string; anything else is refused. */
function idOf(v: unknown): ParsedRequest['id'] | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string' && v.length <= MAX_ID_CHARS) return v;
  return undefined;
}

/** Parses one request line (without its newline). */
export function parseRequest(line: Uint8Array): ParseResult {
  const m = measure(line);
  if (m.over === 'depth') return { ok: false, id: null, code: 'EPROTO', message: `request nested deeper than ${MAX_REQUEST_DEPTH} levels` };
  if (m.over === 'values')
    return {
      ok: false,
      id: null,
      code: 'E2BIG',
      message: `request has more than ${MAX_REQUEST_VALUES} JSON values; route.load takes a whole route file as one string`,
    };
  let req: { id?: unknown; op?: unknown; args?: unknown };
  try {
    req = JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  } catch {
    return { ok: false, id: null, code: 'EPROTO', message: 'request is not JSON' };
  }
  const obj = req !== null && typeof req === 'object' && !Array.isArray(req);
  const id = obj ? idOf(req.id) : null;
  if (id === undefined)
    return { ok: false, id: null, code: 'EPROTO', message: `id must be null, a number, a boolean or a string of at most ${MAX_ID_CHARS} characters` };
  return { ok: true, req: { id, op: obj ? req.op : undefined, args: obj ? req.args : undefined } };
}
