/**
 * The control socket's framing, without a forwarder: requests split across reads, several in one
 * read, UTF-8 split inside a character. Unknown ops answer ENOSYS naming the op, which is enough
 * to see what the server decoded.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { Ctx } from '../src/api/actions';
import { startControlServer } from '../src/api/server';
import { tmpDir } from './helpers/forwarder';

describe('control server: request framing', () => {
  let server: net.Server;
  let dir: string;
  let sock: string;

  before(async () => {
    dir = tmpDir('ctl');
    sock = path.join(dir, 'dpfwd.sock');
    server = await startControlServer({} as Ctx, sock);
  });

  after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes each part on its own (a pause between), resolves with the first `count` answers. */
  function exchange(parts: Buffer[], count: number): Promise<{ id: unknown; ok: boolean; error?: { code: string; message: string } }[]> {
    return new Promise((resolve, reject) => {
      const s = net.connect(sock);
      let buf = '';
      s.setEncoding('utf8');
      s.on('connect', async () => {
        for (const p of parts) {
          s.write(p);
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      s.on('data', (d: string) => {
        buf += d;
        const lines = buf.split('\n');
        if (lines.length > count) {
          s.end();
          resolve(lines.slice(0, count).map((l) => JSON.parse(l)));
        }
      });
      s.on('error', reject);
    });
  }

  it('joins a request split inside a multi-byte character', async () => {
    const req = Buffer.from(JSON.stringify({ id: 7, op: 'héllo✓' }) + '\n');
    const cut1 = req.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    const cut2 = req.indexOf(Buffer.from('✓')) + 2; // inside the three bytes of ✓
    const [a] = await exchange([req.subarray(0, cut1), req.subarray(cut1, cut2), req.subarray(cut2)], 1);
    assert.equal(a.id, 7);
    assert.equal(a.error?.code, 'ENOSYS');
    assert.match(a.error!.message, /^unknown operation "héllo✓"; known: /);
  });

  it('answers several requests in one read, in order, and one completed by the next read', async () => {
    const line = (id: number) => JSON.stringify({ id, op: `op${id}` }) + '\n';
    const third = Buffer.from(line(3));
    const answers = await exchange([Buffer.from(line(1) + line(2)), third.subarray(0, 5), third.subarray(5)], 3);
    assert.deepEqual(
      answers.map((x) => [x.id, /^unknown operation "(\w+)"/.exec(x.error!.message)?.[1]]),
      [
        [1, 'op1'],
        [2, 'op2'],
        [3, 'op3'],
      ],
    );
  });

  it('answers EPROTO to a line that is not JSON and keeps serving', async () => {
    const [bad, good] = await exchange([Buffer.from('{nope\n'), Buffer.from(JSON.stringify({ id: 9, op: 'x' }) + '\n')], 2);
    assert.equal(bad.error?.code, 'EPROTO');
    assert.equal(good.id, 9);
  });
});
