/**
 * A stand-in for a running forwarder's control socket: answers each request line with the reply
 * `answer(op)` gives (one JSON line, `{id, ok, result}`), so a client command can run to its end
 * without DPDK. For what a client process loads and costs (test/cli-start.test.ts, bench/cli.ts).
 */
import * as fs from 'fs';
import * as net from 'net';

export async function stubSocket(path: string, answer: (op: string) => unknown): Promise<net.Server> {
  fs.rmSync(path, { force: true });
  const server = net.createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('error', () => {});
    c.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const req = JSON.parse(buf.slice(0, nl)) as { id: unknown; op: string };
        buf = buf.slice(nl + 1);
        c.write(JSON.stringify({ id: req.id, ok: true, result: answer(req.op) }) + '\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

/** Two routes as route.show gives them. */
export const SMALL_TABLE = [
  { dst: '10.1.0.0/24', dev: 'west', protocol: 'kernel', scope: 'link', type: 'unicast' },
  { dst: '10.20.0.0/16', gateway: '10.2.0.2', dev: 'east', protocol: 'static', type: 'unicast' },
];
