import { strict as assert } from 'assert';
import { bindDevice, BindOptions, ipProbe, NetProbe, netdevUses } from '../src/sriov/bind';
import { readPciDevice, SysRoot } from '../src/sriov/sysfs';
import { FakeHost, FakeKernel } from './helpers/fakesysfs';
import { throwsCode } from './helpers/assert';

const PF = '0000:3b:00.0';
const VF0 = '0000:3b:01.0';

const quiet: NetProbe = { defaultRoutes: () => [], addresses: () => [] };

describe('bind', () => {
  let h: FakeHost;
  let k: FakeKernel;
  beforeEach(() => {
    h = new FakeHost().driver('vfio-pci').pci({ bdf: PF, driver: 'ice', netdev: 'ens1f0', iommuGroup: 12, totalVfs: 8 });
    h.setNumVfs(PF, 2);
    h.mkdir(`sys/bus/pci/devices/${VF0}/net/ens1f0v0`);
    k = new FakeKernel(h);
    k.kernelDrivers.set(VF0, 'iavf');
  });
  afterEach(() => h.cleanup());
  const bind = (o: Partial<BindOptions>) =>
    bindDevice({ root: h.root, device: VF0, target: 'vfio-pci', writer: k, probe: quiet, kernelLog: () => [], hasDriverctl: true, ...o });

  it('vfio-pci: driver_override, unbind from the old driver, drivers_probe (never new_id)', () => {
    const r = bind({});
    assert.deepEqual(k.writes, [
      { path: `sys/bus/pci/devices/${VF0}/driver_override`, value: 'vfio-pci' },
      { path: 'sys/bus/pci/drivers/iavf/unbind', value: VF0 },
      { path: 'sys/bus/pci/drivers_probe', value: VF0 },
    ]);
    assert.ok(!k.writes.some((w) => w.path.endsWith('new_id')));
    assert.deepEqual([r.before, r.after], ['iavf', 'vfio-pci']);
    assert.equal(readPciDevice(new SysRoot(h.root), VF0)?.driver, 'vfio-pci');
  });

  it('kernel: clears the override and lets the kernel driver probe it again', () => {
    bind({});
    k.writes = [];
    const r = bind({ target: 'kernel' });
    assert.deepEqual(
      k.writes.map((w) => [w.path, w.value]),
      [
        [`sys/bus/pci/devices/${VF0}/driver_override`, '\n'],
        ['sys/bus/pci/drivers/vfio-pci/unbind', VF0],
        ['sys/bus/pci/drivers_probe', VF0],
      ],
    );
    assert.deepEqual([r.before, r.after], ['vfio-pci', 'iavf']);
  });

  it('is a no-op when the device is already where asked', () => {
    bind({});
    k.writes = [];
    assert.equal(bind({}).writes.length, 0);
    bind({ target: 'kernel' });
    k.writes = [];
    assert.equal(bind({ target: 'kernel' }).writes.length, 0);
    assert.deepEqual(k.writes, []);
  });

  it('refuses to unbind a netdev carrying the default route or an address, unless --force', () => {
    const probe: NetProbe = {
      defaultRoutes: () => [{ dst: 'default', dev: 'ens1f0v0', gateway: '192.0.2.1' }],
      addresses: (dev) =>
        dev === 'ens1f0v0'
          ? [
              { family: 'inet', local: '192.0.2.2', prefixlen: 24 },
              { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
            ]
          : [],
    };
    const e = throwsCode(
      () => bind({ probe }),
      'EINUSE',
      /ens1f0v0 carries the default route via 192\.0\.2\.1/,
      /ens1f0v0 has address 192\.0\.2\.2\/24/,
      /--force/,
    );
    assert.doesNotMatch(e.message, /fe80/, 'link-local IPv6 alone does not mean in use');
    assert.deepEqual(k.writes, []);
    assert.equal(bind({ probe, force: true }).after, 'vfio-pci');
  });

  it('ignores IPv6 link-local addresses: every up interface has one', () => {
    const dev = readPciDevice(new SysRoot(h.root), VF0)!;
    assert.deepEqual(netdevUses(dev, { defaultRoutes: () => [], addresses: () => [{ family: 'inet6', local: 'fe80::2', prefixlen: 64, scope: 'link' }] }), []);
  });

  it('ipProbe reads ip -j route show default (v4 and v6) and ip -j addr show dev X', () => {
    const calls: string[][] = [];
    const probe = ipProbe((argv) => {
      calls.push(argv);
      if (argv.includes('route'))
        return { status: 0, stdout: argv.includes('-6') ? '[]' : '[{"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]}]', stderr: '' };
      return { status: 0, stdout: '[{"ifname":"eth0","addr_info":[{"family":"inet6","local":"fd00::2","prefixlen":64,"scope":"global"}]}]', stderr: '' };
    });
    assert.deepEqual(probe.defaultRoutes(), [{ dst: 'default', dev: 'eth0', gateway: '192.0.2.1' }]);
    assert.deepEqual(probe.addresses('eth0'), [{ family: 'inet6', local: 'fd00::2', prefixlen: 64, scope: 'global' }]);
    assert.deepEqual(calls, [
      ['ip', '-j', 'route', 'show', 'default'],
      ['ip', '-6', '-j', 'route', 'show', 'default'],
      ['ip', '-j', 'addr', 'show', 'dev', 'eth0'],
    ]);
  });

  it('refuses to unbind a PF that has VFs (that would destroy them), unless --force', () => {
    throwsCode(() => bind({ device: PF }), 'EINUSE', /PF with 2 VFs/, /bind the VFs instead/, /--force/);
  });

  it('--persist prints the driverctl command; --persist apply runs it, and needs driverctl', () => {
    assert.deepEqual(bind({ persist: 'print' }).persist, { argv: ['driverctl', 'set-override', VF0, 'vfio-pci'], applied: false });
    const calls: string[][] = [];
    const r = bind({ persist: 'apply', runner: (a) => (calls.push(a), { status: 0, stdout: '', stderr: '' }) });
    assert.deepEqual(calls, [['driverctl', 'set-override', VF0, 'vfio-pci']]);
    assert.equal(r.persist?.applied, true);
    assert.deepEqual(bind({ target: 'kernel', persist: 'print' }).persist?.argv, ['driverctl', 'unset-override', VF0]);
    k.writes = [];
    throwsCode(() => bind({ persist: 'apply', hasDriverctl: false }), 'ENOENT', /driverctl/, /apt-get install driverctl/);
    assert.deepEqual(k.writes, [], 'nothing is changed when persisting is impossible');
  });

  it('needs vfio-pci loaded and an IOMMU group (or no-IOMMU mode)', () => {
    h.unlink(`sys/bus/pci/devices/${VF0}/iommu_group`);
    throwsCode(() => bind({}), 'EIOMMU', /no IOMMU group/, /intel_iommu=on iommu=pt/);
    h.file('sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'Y\n');
    assert.equal(bind({}).after, 'vfio-pci');
    const bare = new FakeHost().pci({ bdf: VF0, driver: 'iavf', iommuGroup: 1 });
    throwsCode(
      () => bindDevice({ root: bare.root, device: VF0, target: 'vfio-pci', writer: new FakeKernel(bare), probe: quiet }),
      'ENOENT',
      /modprobe vfio-pci/,
    );
    bare.cleanup();
  });

  it('reports a bind that did not take, with the kernel log lines about the device', () => {
    // drivers_probe is accepted but vfio-pci does not take the device (as when its probe fails)
    const writer = { write: (p: string, v: string) => (p.endsWith('drivers_probe') ? undefined : k.write(p, v)) };
    throwsCode(
      () => bind({ writer, kernelLog: () => [`vfio-pci ${VF0}: probe failed with error -22`] }),
      'EBIND',
      /unbound after asking for vfio-pci/,
      /probe failed with error -22/,
    );
  });

  it('a kernel bind that no driver claims says to load the module', () => {
    bind({});
    k.kernelDrivers.clear();
    throwsCode(() => bind({ target: 'kernel' }), 'EBIND', /no kernel driver claimed/, /modprobe/);
  });

  it('write errors name the file and the fix', () => {
    k.fail.set('driver_override', 'EACCES');
    throwsCode(() => bind({}), 'EACCES', /driver_override/, /root/);
  });

  it('warns when the IOMMU group holds a device on another driver', () => {
    h.pci({ bdf: '0000:3b:01.7', driver: 'nvme', class: '0x010802' });
    h.link(`sys/kernel/iommu_groups/100/devices/0000:3b:01.7`, `sys/bus/pci/devices/0000:3b:01.7`);
    const r = bind({});
    assert.match(r.warnings[0], /IOMMU group 100 also holds 0000:3b:01\.7 \(nvme\)/);
  });
});
