import { strict as assert } from 'assert';
import { DpfwdError } from '../src/errors';
import { buildEalArgs, parseConfig } from '../src/config';

function cfg(
  extra: string,
  ports = `ports:
  - {name: west, device: "net_af_packet0,iface=vwest"}
  - {name: east, device: "net_af_packet1,iface=veast"}
`,
) {
  return parseConfig(`${ports}${extra}`, 't');
}

const devicesOf = (c: ReturnType<typeof cfg>) => c.ports.map((p) => p.device);

describe('eal: buildEalArgs', () => {
  it('defaults: lcores, main lcore, in-memory, log level, --no-pci, vdevs', () => {
    const c = cfg('');
    assert.deepEqual(buildEalArgs(c, devicesOf(c)), [
      'dpfwd',
      '-l',
      '0-1',
      '--main-lcore',
      '0',
      '--in-memory',
      '--log-level=notice',
      '--no-pci',
      '--vdev',
      'net_af_packet0,iface=vwest',
      '--vdev',
      'net_af_packet1,iface=veast',
      '--no-telemetry',
    ]);
  });

  it('main lcore is the first written, not the lowest', () => {
    const c = cfg('eal: {lcores: "3,1,2"}');
    const a = buildEalArgs(c, devicesOf(c));
    assert.deepEqual(a.slice(0, 5), ['dpfwd', '-l', '3,1,2', '--main-lcore', '3']);
  });

  it('file prefix instead of in-memory', () => {
    const c = cfg('eal: {filePrefix: fw1}');
    const a = buildEalArgs(c, devicesOf(c));
    assert.ok(!a.includes('--in-memory'));
    assert.deepEqual(a.slice(5, 7), ['--file-prefix', 'fw1']);
  });

  it('log level', () => {
    const c = cfg('eal: {logLevel: debug}');
    assert.ok(buildEalArgs(c, devicesOf(c)).includes('--log-level=debug'));
  });

  it('--socket-limit (a cap; -m only preallocates) only when hugepagesMiB is set', () => {
    const c = cfg('eal: {hugepagesMiB: 512}');
    const a = buildEalArgs(c, devicesOf(c));
    assert.ok(a.includes('--socket-limit=512'));
    assert.ok(!a.includes('-m'));
    const d = cfg('');
    assert.ok(!buildEalArgs(d, devicesOf(d)).some((x) => x.startsWith('--socket-limit')));
  });

  it('PCI devices as -a (normalised), no --no-pci; vdevs after', () => {
    const c = cfg(
      '',
      `ports:
  - {name: a, device: "01:10.0"}
  - {name: b, device: "net_null0,no-rx=1"}
  - {name: c, device: "0000:02:00.1,txq_inline=128"}
`,
    );
    assert.deepEqual(buildEalArgs(c, devicesOf(c)).slice(6), [
      '--log-level=notice',
      '-a',
      '0000:01:10.0',
      '-a',
      '0000:02:00.1,txq_inline=128',
      '--vdev',
      'net_null0,no-rx=1',
      '--no-telemetry',
    ]);
  });

  it('resolved env:/auto devices are classified by what they resolved to', () => {
    const c = cfg(
      '',
      `ports:
  - {name: a, device: "env:PCIDEVICE_X"}
  - {name: b, device: auto}
`,
    );
    const a = buildEalArgs(c, ['0000:3b:02.0', 'net_tap0,iface=dtap0']);
    assert.deepEqual(a.slice(7), ['-a', '0000:3b:02.0', '--vdev', 'net_tap0,iface=dtap0', '--no-telemetry']);
  });

  it('DPDK telemetry is off (--no-telemetry) unless eal.telemetry is true; the flag is not for eal.args', () => {
    const off = cfg('');
    assert.equal(
      buildEalArgs(off, devicesOf(off))
        .filter((x) => /telemetry/.test(x))
        .join(' '),
      '--no-telemetry',
    );
    const on = cfg('eal: {telemetry: true}');
    assert.ok(!buildEalArgs(on, devicesOf(on)).some((x) => /telemetry/.test(x)));
    assert.throws(() => cfg('eal: {args: ["--no-telemetry"]}'), /eal\.args\[0\]: --no-telemetry is set by dpfwd from eal\.telemetry/);
  });

  it('eal.args are appended last', () => {
    const c = cfg('eal: {args: ["-n", 4, "--log-level=pmd.net.af_packet:debug"]}');
    const a = buildEalArgs(c, devicesOf(c));
    assert.deepEqual(a.slice(-3), ['-n', '4', '--log-level=pmd.net.af_packet:debug']);
  });

  it('refuses unresolved devices and a wrong device count', () => {
    const c = cfg('', `ports:\n  - {name: a, device: auto}\n`);
    assert.throws(
      () => buildEalArgs(c, ['auto']),
      (e: unknown) => {
        assert.ok(e instanceof DpfwdError);
        assert.equal(e.code, 'EINVAL');
        assert.equal(e.message, 'port a: device auto must be resolved to a PCI address or virtual device before EAL init');
        return true;
      },
    );
    assert.throws(() => buildEalArgs(c, []), {
      code: 'EINVAL',
      message: 'buildEalArgs: 0 devices for 1 ports; pass one resolved device per port, in port order',
    });
    assert.throws(() => buildEalArgs(c, ['eth0']), { code: 'EINVAL', message: /^port a: "eth0" is not a device/ });
  });
});
