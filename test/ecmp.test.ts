import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';

// ECMP bucket fill and flow hash in C (native/dataplane/ecmp_fill.c, ecmp.h), without the EAL:
// weights 1:1 and 1:3, a member leaving or returning moves only its own buckets, a member
// removed from the set or added back likewise, 200 UDP flows spread, fragments hash together.
// All the checking is in C (test_ecmp.c); this runs it and reads its lines.
const SCRIPT = path.resolve(__dirname, '..', '..', 'native', 'dataplane', 'test_ecmp.sh');

describe('ecmp (native bucket fill and flow hash)', function () {
  this.timeout(120000);

  it('test_ecmp passes: proportions, resilience, spread of 200 flows', () => {
    const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 100000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    assert.equal(r.error, undefined, `test_ecmp.sh did not run: ${String(r.error)}\n${out}`);
    assert.equal(r.status, 0, `test_ecmp.sh exited ${r.status}:\n${out}`);
    assert.match(out, /^weights 1:1: 64:64$/m);
    assert.match(out, /^weights 1:3: 32:96$/m);
    assert.match(out, /^member leaves: \d+ buckets moved \(its own\), others kept/m);
    assert.match(out, /^members come back: tables equal to before: yes$/m);
    const flows = out.match(/^200 UDP flows: 1:1 -> (\d+):(\d+), 1:3 -> (\d+):(\d+)$/m);
    assert.ok(flows, out);
    assert.ok(Number(flows[1]) >= 70 && Number(flows[1]) <= 130, out);
    const checks = out.match(/^(\d+) checks, 0 failures$/m);
    assert.ok(checks && Number(checks[1]) > 200, out);
  });
});
