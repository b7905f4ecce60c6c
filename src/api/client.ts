/** Client of the control socket: one request, one response, with a timeout. */
import * as net from 'net';
import { DpfwdError } from '../errors';

export async function request(socketPath: string, op: string, args: Record<string, unknown> = {}, timeoutMs = 10000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new DpfwdError('ETIMEDOUT', `cannot reach dpfwd at ${socketPath}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(JSON.stringify({ id: 1, op, args }) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.end();
      let res: { ok: boolean; result?: unknown; error?: { code: string; message: string } };
      try {
        res = JSON.parse(buf.slice(0, nl));
      } catch {
        reject(new DpfwdError('EPROTO', `dpfwd at ${socketPath} sent a malformed answer`));
        return;
      }
      if (res.ok) resolve(res.result);
      else reject(new DpfwdError(res.error?.code ?? 'EREMOTE', res.error?.message ?? 'request failed'));
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint = e.code === 'ENOENT' ? 'no such socket (is dpfwd running? is --socket right?)'
        : e.code === 'ECONNREFUSED' ? 'connection refused (dpfwd is not running; a stale socket file is left)'
          : e.code === 'EACCES' ? 'permission denied (run as root or join the socket\'s group)' : e.message;
      reject(new DpfwdError(e.code ?? 'ECONN', `cannot reach dpfwd at ${socketPath}: ${hint}`));
    });
  });
}
