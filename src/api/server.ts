/**
 * Control API on a UNIX socket: newline-delimited JSON, one request {id, op, args} → one
 * response {id, ok, result | error: {code, message}}. A bad request never disturbs forwarding.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ACTIONS, Ctx } from './actions';
import { DpfwdError } from '../errors';

export const DEFAULT_SOCKET = '/run/dpfwd/dpfwd.sock';
const MAX_LINE = 64 * 1024 * 1024; // route.load carries whole files

/** Is something answering on this socket path? */
function inUse(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export async function startControlServer(ctx: Ctx, socketPath: string, mode = 0o660): Promise<net.Server> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  if (fs.existsSync(socketPath)) {
    if (await inUse(socketPath)) {
      throw new DpfwdError('EADDRINUSE', `another dpfwd answers on ${socketPath}; stop it or give this one --socket <path>`);
    }
    fs.unlinkSync(socketPath); // stale, from a killed process
  }
  const server = net.createServer((conn) => {
    // Requests can be tens of MiB (route.load): keep chunks in a list and search only the new
    // chunk for the end of line; concatenating and rescanning would be quadratic.
    let chunks: string[] = [];
    let size = 0;
    conn.setEncoding('utf8');
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk: string) => {
      let nl;
      while ((nl = chunk.indexOf('\n')) >= 0) {
        chunks.push(chunk.slice(0, nl));
        const line = chunks.join('');
        chunks = [];
        size = 0;
        chunk = chunk.slice(nl + 1);
        conn.write(JSON.stringify(handle(ctx, line)) + '\n');
      }
      if (chunk.length) {
        chunks.push(chunk);
        size += chunk.length;
      }
      if (size > MAX_LINE) {
        conn.end(JSON.stringify({ ok: false, error: { code: 'E2BIG', message: 'request too large' } }) + '\n');
        chunks = [];
        size = 0;
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, mode);
  return server;
}

export function handle(ctx: Ctx, line: string): object {
  let req: { id?: unknown; op?: unknown; args?: unknown };
  try {
    req = JSON.parse(line);
  } catch {
    return { ok: false, error: { code: 'EPROTO', message: 'request is not JSON' } };
  }
  const id = req?.id ?? null;
  const op = typeof req?.op === 'string' ? req.op : '';
  const fn = ACTIONS[op];
  if (!fn) return { id, ok: false, error: { code: 'ENOSYS', message: `unknown operation ${JSON.stringify(req?.op)}; known: ${Object.keys(ACTIONS).join(', ')}` } };
  const args = req.args && typeof req.args === 'object' ? (req.args as Record<string, unknown>) : {};
  try {
    return { id, ok: true, result: fn(ctx, args) };
  } catch (e) {
    const code = (e as DpfwdError).code ?? 'EINTERNAL';
    return { id, ok: false, error: { code, message: (e as Error).message } };
  }
}
