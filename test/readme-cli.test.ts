/**
 * README.md's CLI session runs as shown: every `$ dpfwd …` line of the code blocks in "Operating
 * it" is run, in order, against one forwarder with two net_null ports (the README's MACs set in
 * the config, so the tables match to the byte), and must print what the README prints after it:
 * stdout and exit 0, or for a line the README shows failing (`dpfwd: …`), that message on stderr
 * and exit 1. The commands are read from the README itself, so the test breaks when it drifts.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { dpfwdCli, ROOT, Running, startForwarder } from './helpers/forwarder';
import { splitLine } from '../src/cli/index';

interface Step {
  line: number;
  command: string;
  words: string[];
  expect: string;
}

/** The `$ dpfwd` lines of the section's code blocks, each with the lines the README shows after it. */
export function readmeSession(readme: string): Step[] {
  const start = readme.indexOf('## Operating it');
  const end = readme.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'README has its "Operating it" section');
  const section = readme.slice(start, end < 0 ? undefined : end);
  const offset = readme.slice(0, start).split('\n').length - 1;
  const lines = section.split('\n');
  const steps: Step[] = [];
  let inBlock = false;
  let cur: Step | null = null;
  lines.forEach((l, i) => {
    if (l.startsWith('```')) {
      inBlock = !inBlock;
      cur = null;
      return;
    }
    if (!inBlock) return;
    if (l.startsWith('$ ')) {
      cur = null;
      const cmd = l
        .slice(2)
        .replace(/\s+#.*$/, '')
        .trim();
      if (!cmd.startsWith('dpfwd ')) return; // `$ # a remark`
      cur = { line: offset + i + 1, command: cmd, words: splitLine(cmd).slice(1), expect: '' };
      steps.push(cur);
    } else if (cur) (cur as Step).expect += `${l}\n`;
  });
  return steps;
}

describe("README.md's CLI session against a running forwarder", function () {
  this.timeout(120000);
  const steps = readmeSession(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  let fwd: Running;

  before(async () => {
    fwd = await startForwarder({
      eal: { lcores: '0-1' },
      ports: [
        { name: 'west', device: 'net_null0,no-rx=1', address: '10.1.0.1/24', mac: '5a:de:57:4c:32:f9' },
        { name: 'east', device: 'net_null1,no-rx=1', address: '10.2.0.1/24', mac: '3a:a4:b7:99:21:8d' },
      ],
      // the share of time asleep (show workers' sleep_percent) would differ from run to run
      idle: { mode: 'poll' },
    });
  });
  after(async () => {
    if (fwd) assert.equal((await fwd.stop()).code, 0, fwd.stderr());
  });

  it('finds the session: route, neighbour, nexthop, address, show and interface commands', () => {
    const verbs = new Set(steps.map((s) => s.words[0]));
    for (const v of ['route', 'neigh', 'nexthop', 'neighbor', 'address', 'show', 'interface']) assert.ok(verbs.has(v), `README runs dpfwd ${v}`);
    assert.ok(steps.length >= 15, `${steps.length} commands`);
  });

  it('every command prints what the README shows, with the documented exit status', () => {
    // every step runs (later ones depend on earlier ones); all drift is reported at once
    const drift: string[] = [];
    for (const s of steps) {
      const r = dpfwdCli(fwd, s.words);
      const fails = s.expect.startsWith('dpfwd: ');
      const status = fails ? 1 : 0;
      const got = fails ? r.stderr : r.stdout;
      if (r.status !== status || got !== s.expect) {
        drift.push(`README.md:${s.line}: $ ${s.command}\n  exit ${r.status} (README: ${status})\n  README:\n${s.expect}  printed:\n${r.stdout}${r.stderr}`);
      }
    }
    assert.deepEqual(drift, []);
  });
});
