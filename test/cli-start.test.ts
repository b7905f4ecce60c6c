/**
 * Issue 24: a client command costs about a bare `node`. What it must not load is checked here (the
 * time itself is measured in bench/cli.ts, not asserted): `dpfwd route show` loads its own command
 * module, yargs and the socket client, never the native addon, the forwarder, the control socket's
 * server, the YAML parser or prom-client.
 */
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from 'net';
import { ROOT } from './helpers/forwarder';
import { SMALL_TABLE, stubSocket } from './helpers/stub-socket';

describe('CLI start: a client command loads only what it needs', function () {
  this.timeout(60000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-cli-start-'));
  const sock = path.join(dir, 'ctl.sock');
  const preload = path.join(dir, 'loaded.js');
  let server: Server;

  before(async () => {
    // on exit, the files the process loaded (CommonJS cache), one per line on fd 3
    fs.writeFileSync(preload, "process.on('exit', () => require('fs').writeSync(3, Object.keys(require.cache).join('\\n')));\n");
    server = await stubSocket(sock, (op) => (op === 'route.show' ? SMALL_TABLE : []));
  });
  after(() => {
    server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs dpfwd (asynchronously: the stub socket answers from this process). */
  async function loaded(args: string[]): Promise<{ out: string; files: string[] }> {
    const p = spawn(process.execPath, ['-r', preload, path.join(ROOT, 'bin', 'dpfwd'), ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const text = ['', '', ''];
    [p.stdout!, p.stderr!, p.stdio[3] as NodeJS.ReadableStream].forEach((s, i) => s.on('data', (d: Buffer) => (text[i] += d.toString())));
    const timer = setTimeout(() => p.kill(), 50000);
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, text[1]);
    return { out: text[0], files: text[2].split('\n') };
  }

  for (const args of [
    ['route', 'show'],
    ['-j', 'route', 'show'],
    ['neigh', 'show'],
  ])
    it(`dpfwd ${args.join(' ')}`, async () => {
      const { out, files } = await loaded([...args, '--socket', sock]);
      if (args[0] === 'route') assert.match(out, /10\.20\.0\.0\/16/);
      assert.ok(
        files.some((f) => f.endsWith(path.join('cli', 'commands', args[args.length - 2] === 'neigh' ? 'neighbor.js' : 'route.js'))),
        'its command module',
      );
      const heavy = files.filter((f) =>
        /\.node$|[/\\]node_modules[/\\](yaml|prom-client)[/\\]|[/\\]dist[/\\]src[/\\](forwarder|controlplane|metrics|config[/\\]index|api[/\\]server)/.test(f),
      );
      assert.deepEqual(heavy, []);
      const otherCommands = files.filter((f) => /[/\\]cli[/\\]commands[/\\](run|top|capture|config|doctor)\.js$/.test(f));
      assert.deepEqual(otherCommands, [], "other commands' modules");
    });

  it('dpfwd --help still lists every command', async () => {
    const { out } = await loaded(['--help']);
    for (const c of ['run', 'route', 'neighbor', 'config', 'capture', 'top', 'doctor', 'trace', 'sriov']) assert.match(out, new RegExp(`dpfwd ${c}\\b`), c);
  });
});
