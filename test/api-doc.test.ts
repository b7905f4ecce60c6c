/**
 * docs/api.md documents the control socket as it is: every operation of the server's table and no
 * other, every error code the server and the actions behind it can reply with, and the framing it
 * describes (NDJSON, pipelined requests answered in order with their ids) against a real forwarder.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { OP_NAMES } from '../src/api/ops';
import { OPERATIONS } from '../src/api/server';
import { DEFAULTS } from '../src/config/keys';
import { ROOT, Running, startForwarder } from './helpers/forwarder';

const doc = fs.readFileSync(path.join(ROOT, 'docs', 'api.md'), 'utf8');
const documentedOps = [...doc.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]);
const documentedCodes = [...doc.matchAll(/^\| `(E[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

/** Files whose errors reach a client as replies: the server's own and those of the actions it calls. */
function replyCodes(): Map<string, string> {
  const files = [
    path.join(ROOT, 'src', 'api', 'actions.ts'),
    path.join(ROOT, 'src', 'api', 'config-actions.ts'),
    path.join(ROOT, 'src', 'forwarder', 'reload.ts'),
  ];
  for (const d of ['routing', 'neighbors', 'controlplane']) {
    for (const f of fs.readdirSync(path.join(ROOT, 'src', d))) if (f.endsWith('.ts')) files.push(path.join(ROOT, 'src', d, f));
  }
  files.push(path.join(ROOT, 'src', 'dataplane', 'index.ts'));
  const out = new Map<string, string>();
  for (const f of files) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/DpfwdError\(\s*'(E[A-Z0-9_]+)'/g)) out.set(m[1], path.relative(ROOT, f));
  }
  // the server's own replies are literals ({ code: 'E…' }); its DpfwdErrors are start-up failures
  for (const f of ['server.ts', 'request.ts', 'parse-worker.ts']) {
    for (const m of fs.readFileSync(path.join(ROOT, 'src', 'api', f), 'utf8').matchAll(/code: '(E[A-Z0-9_]+)'/g)) out.set(m[1], `src/api/${f}`);
  }
  return out;
}

describe('docs/api.md', () => {
  it('documents every operation of src/api/ops.ts (the server answers exactly those) and no other', () => {
    assert.deepEqual([...documentedOps].sort(), [...OP_NAMES].sort());
    assert.deepEqual([...OPERATIONS].sort(), [...OP_NAMES].sort(), 'the server answers the declared operations');
    assert.equal(new Set(documentedOps).size, documentedOps.length, 'each operation once');
  });

  it('documents every error code a reply can carry, and none that cannot occur', () => {
    const codes = replyCodes();
    for (const [code, file] of codes) assert.ok(documentedCodes.includes(code), `${code} (from ${file}) is in the error code table`);
    for (const code of documentedCodes) assert.ok(codes.has(code), `${code} is documented but nothing replies with it`);
  });

  it('gives every control limit with its default from docs/config.md', () => {
    const limits: Record<string, string> = {
      maxClients: String(DEFAULTS.control.maxClients),
      maxRequestBytes: `${DEFAULTS.control.maxRequestBytes / 2 ** 20} MiB`,
      maxBufferedBytes: `${DEFAULTS.control.maxBufferedBytes / 2 ** 20} MiB`,
      maxReplyBacklogBytes: `${DEFAULTS.control.maxReplyBacklogBytes / 2 ** 20} MiB`,
      requestTimeoutMs: String(DEFAULTS.control.requestTimeoutMs),
      idleTimeoutMs: String(DEFAULTS.control.idleTimeoutMs),
    };
    for (const [k, v] of Object.entries(limits)) assert.match(doc, new RegExp(`^\\| \`${k}\` \\| ${v} \\|`, 'm'), `${k} = ${v}`);
  });
});

describe('docs/api.md against a running forwarder', function () {
  this.timeout(60000);
  let fwd: Running;
  before(async () => {
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [{ name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24' }],
    });
  });
  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
  });

  /** Writes all lines in one write, reads `n` reply lines. */
  function raw(lines: string, n: number): Promise<any[]> {
    return new Promise((resolve, reject) => {
      const s = net.connect(fwd.socket, () => s.write(lines));
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        const got = buf.split('\n').filter(Boolean);
        if (got.length >= n) {
          s.end();
          resolve(got.map((l) => JSON.parse(l)));
        }
      });
      s.on('error', reject);
      setTimeout(() => {
        s.destroy();
        reject(new Error(`timeout; got: ${buf}`));
      }, 10000).unref();
    });
  }

  it('pipelined NDJSON: replies in order with their ids; EPROTO for a line that is not JSON; ENOSYS lists the documented operations', async () => {
    const [a, b, c, d] = await raw('{"id":"a","op":"nope"}\n{"id":2,"op":"health"}\nnot json\n{"op":"route.show","args":[1]}\n', 4);
    assert.equal(a.id, 'a');
    assert.equal(a.ok, false);
    assert.equal(a.error.code, 'ENOSYS');
    const known = /known: (.*)$/.exec(a.error.message)![1].split(', ');
    assert.deepEqual(known.sort(), [...documentedOps].sort());
    assert.deepEqual(
      { id: b.id, ok: b.ok, keys: Object.keys(b.result).sort() },
      { id: 2, ok: true, keys: ['alive', 'ok', 'problem', 'uptimeSeconds', 'workers'] },
    );
    assert.deepEqual(c, { id: null, ok: false, error: { code: 'EPROTO', message: 'request is not JSON' } });
    assert.equal(d.id, null, 'no id: null');
    assert.equal(d.ok, true, 'args that are not an object count as {}');
  });

  it('every documented operation that takes no arguments answers ok; the others say which argument is missing (EINVAL)', async () => {
    for (const op of documentedOps) {
      const section = doc.slice(doc.indexOf(`### \`${op}\``)).split('\n### ')[0];
      const [r] = await raw(JSON.stringify({ id: op, op }) + '\n', 1);
      assert.equal(r.id, op);
      if (/Args: none|Args: `\{[a-z]+\?/.test(section)) {
        assert.equal(r.ok, true, `${op}: ${JSON.stringify(r.error)}`);
      } else {
        assert.deepEqual([r.ok, r.error.code], [false, 'EINVAL'], `${op}: ${JSON.stringify(r)}`);
        assert.match(r.error.message, /missing argument: \w+/);
      }
    }
  });
});
