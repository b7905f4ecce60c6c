/**
 * docs/metrics.md's drop-reason and punt-kind tables against the one list in the C side
 * (native/dataplane/drop_reasons.h, exported by the addon): same names, same order, same help.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Dataplane } from '../src/dataplane';

const DOC = path.resolve(__dirname, '..', '..', 'docs', 'metrics.md');

/** The rows of the markdown table under `heading`: [name, help] from its first two columns. */
function table(md: string, heading: string): [string, string][] {
  const at = md.indexOf(heading);
  assert.ok(at >= 0, `docs/metrics.md has a "${heading}" section`);
  const rows: [string, string][] = [];
  let started = false;
  for (const line of md.slice(at).split('\n').slice(1)) {
    if (!line.startsWith('|')) {
      if (started) break;
      continue;
    }
    started = true;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
    const m = /^`([a-z0-9_]+)`$/.exec(cells[0]);
    if (m && !/^-+$/.test(cells[1])) rows.push([m[1], cells[1]]);
  }
  return rows.filter(([name]) => name !== 'reason');
}

describe('docs/metrics.md tables match the C lists', () => {
  const c = Dataplane.constants();
  const md = fs.readFileSync(DOC, 'utf8');

  it('drop reasons: every reason of drop_reasons.h, in its order, with its help text', () => {
    assert.deepEqual(
      table(md, '### Drop reasons'),
      c.drops.map((d) => [d.name, d.help]),
    );
  });

  it('punt kinds: every kind, in order, with its help text', () => {
    assert.deepEqual(
      table(md, '### Punt reasons'),
      c.punts.map((d) => [d.name, d.help]),
    );
  });

  it('exports the constants TypeScript used to copy by hand', () => {
    assert.equal(c.drops.at(-1)!.name, 'link_broadcast', 'new reasons are appended');
    assert.deepEqual(c.nh, { unresolved: 0xfffc, glean: 0xfffd, local: 0xfffe, drop: 0xffff, actionMin: 0xfff0, group: 0xfffb });
    assert.deepEqual(c.addrKinds, { own: 1, broadcast: 2, network: 3 });
    assert.deepEqual(c.groups, { buckets: 128, maxMembers: 32, maxWeight: 256, maxGroups: 65536 });
    assert.equal(c.maxPorts, 16);
    assert.equal(c.maxSubifs, 1024);
    assert.equal(c.burst, 32);
    assert.deepEqual(
      c.punts.map((p) => p.name),
      Dataplane.names().punts,
    );
    assert.deepEqual(
      c.drops.map((p) => p.name),
      Dataplane.names().drops,
    );
  });
});
