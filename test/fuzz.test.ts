/*
 * Fuzzes the fast path's pure per-packet functions (native/dataplane/packet.h) against the
 * byte-by-byte reference in native/fuzz/fuzz_packet.c, and proves the harness can fail by
 * fuzzing a deliberately broken variant (-DFUZZ_SELFTEST_BREAK: TTL checksum update without
 * the end-around carry fold). Needs clang with libFuzzer and the DPDK headers; no EAL, no NIC.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join('native', 'fuzz', 'build.sh');
const OUT = path.join(ROOT, 'native', 'fuzz', 'out');

function run(args: string[]): { status: number | null; output: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync('bash', [SCRIPT, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}\n${r.stderr}`, ms: Date.now() - t0 };
}

describe('packet.h fuzz harness (libFuzzer)', function () {
  this.timeout(150_000);

  it('fuzzes for 20 s without a crash and runs > 10000 inputs', function () {
    const r = run(['--run', '20']);
    assert.equal(r.status, 0, `build.sh --run 20 exited ${r.status}:\n${r.output.slice(-4000)}`);
    const m = /^Done (\d+) runs in (\d+) second/m.exec(r.output);
    assert.ok(m, `no "Done N runs" line from libFuzzer:\n${r.output.slice(-4000)}`);
    const runs = Number(m[1]);
    assert.ok(runs > 10_000, `only ${runs} runs in ${m[2]} s`);
  });

  it('catches a broken checksum update (-DFUZZ_SELFTEST_BREAK) within 30 s', function () {
    for (const f of fs.existsSync(OUT) ? fs.readdirSync(OUT) : []) {
      if (f.startsWith('fuzz_packet_selftest-crash-')) fs.unlinkSync(path.join(OUT, f));
    }
    const r = run(['--selftest', '--run', '30']);
    assert.notEqual(r.status, 0, `the broken variant ran 30 s without a crash:\n${r.output.slice(-4000)}`);
    // 1 = build or setup failure; libFuzzer reports a crash with another code (77 for abort()).
    assert.notEqual(r.status, 1, `build failed:\n${r.output.slice(-4000)}`);
    const log = fs.readFileSync(path.join(OUT, 'fuzz_packet_selftest.log'), 'utf8');
    assert.match(log, /fuzz_packet: .*checksum/, 'the crash is not the harness catching the checksum');
    assert.match(log, /deadly signal/);
    assert.ok(
      fs.readdirSync(OUT).some((f) => f.startsWith('fuzz_packet_selftest-crash-')),
      'libFuzzer wrote no crash input',
    );
  });
});
