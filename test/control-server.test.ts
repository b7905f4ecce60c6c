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

  it('copies each byte of pipelined input a bounded number of times, however much is waiting', async () => {
    // 4 MB of short requests in one write arrive faster than they are handled, so many reads wait
    // at once. Taking one short line used to join everything waiting (Buffer.concat of all of it),
    // again after every read: megabytes copied per line, 100+ ms per step on a loaded machine, the
    // router's ARP and /healthz waiting behind it (control-stalls, 60 pipelining clients).
    const line = JSON.stringify({ id: 1, op: 'x' }) + '\n';
    const count = Math.ceil(4e6 / line.length);
    const concat = Buffer.concat;
    let copied = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
      const b = concat(list, total);
      copied += b.length;
      return b;
    }) as typeof Buffer.concat;
    try {
      const answered = await new Promise<number>((resolve, reject) => {
        const s = net.connect(sock);
        let n = 0;
        s.on('connect', () => s.write(line.repeat(count)));
        s.on('data', (d: Buffer) => {
          for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) n++;
          if (n >= count) {
            s.end();
            resolve(n);
          }
        });
        s.on('error', reject);
      });
      assert.equal(answered, count);
    } finally {
      Buffer.concat = concat;
    }
    assert.ok(copied <= 2 * count * line.length, `${copied} bytes copied for ${count * line.length} bytes of requests`);
  });

  it('reads a long request that follows pipelined short ones (reading paused for read-ahead resumes)', async () => {
    // 100 kB of short requests, then one 300 kB request line, in one write
    const short = JSON.stringify({ id: 1, op: 'x' }) + '\n';
    const count = Math.ceil(1e5 / short.length);
    const long = JSON.stringify({ id: 2, op: 'y', pad: 'p'.repeat(3e5) }) + '\n';
    const answers = await new Promise<string[]>((resolve, reject) => {
      const s = net.connect(sock);
      let buf = '';
      s.setEncoding('utf8');
      s.on('connect', () => s.write(short.repeat(count) + long));
      s.on('data', (d: string) => {
        buf += d;
        const lines = buf.split('\n');
        if (lines.length > count + 1) {
          s.end();
          resolve(lines.slice(0, count + 1));
        }
      });
      s.on('error', reject);
    });
    const last = JSON.parse(answers[count]);
    assert.equal(last.id, 2);
    assert.match(last.error.message, /^unknown operation "y"/);
  });
});
