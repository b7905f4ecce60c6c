import { strict as assert } from 'assert';
import { CommandResult } from '../src/sriov/io';
import { formatShow, parseVfInfo, sriovShow } from '../src/sriov/show';
import { sriovCreate } from '../src/sriov/create';
import { checkSetArgs, sriovSet } from '../src/sriov/set';
import { parseKmsg } from '../src/sriov/kmsg';
import { FakeHost, FakeKernel } from './helpers/fakesysfs';
import { throwsCode } from './helpers/assert';

const PF = '0000:3b:00.0';

function host(): FakeHost {
  return new FakeHost()
    .driver('vfio-pci')
    .pci({ bdf: PF, driver: 'ice', netdev: 'ens1f0', numa: 0, iommuGroup: 12, totalVfs: 8 })
    .pci({ bdf: '0000:00:1f.6', vendor: '8086', device: '15bb', driver: 'e1000e', netdev: 'eno1', iommuGroup: 3 })
    .pci({ bdf: '0000:00:02.0', class: '0x030000', driver: 'i915' });
}

const ipVfJson = JSON.stringify([
  {
    ifname: 'ens1f0',
    vfinfo_list: [
      { vf: 0, address: '02:00:00:00:00:01', vlan_list: [{ vlan: 100, qos: 0 }], spoofchk: true, trust: false, link_state: 'auto' },
      { vf: 1, mac: '02:00:00:00:00:02', vlan: 0, spoofchk: false, trust: true },
    ],
  },
]);

describe('sriov show', () => {
  let h: FakeHost;
  beforeEach(() => (h = host()));
  afterEach(() => h.cleanup());

  it('lists Ethernet functions only (class 0x0200), with driver, netdev, NUMA, IOMMU group, VF counts', () => {
    const r = sriovShow({ root: h.root });
    assert.deepEqual(
      r.devices.map((d) => [d.bdf, d.role, d.vendorDevice, d.driver, d.netdevs, d.numaNode, d.iommuGroup, d.numVfs, d.totalVfs]),
      [
        ['0000:00:1f.6', 'nic', '8086:15bb', 'e1000e', ['eno1'], null, '3', null, null],
        [PF, 'pf', '8086:1592', 'ice', ['ens1f0'], 0, '12', 0, 8],
      ],
    );
  });

  it('nests VFs under their PF with MAC/VLAN/spoofchk/trust read through ip -j link', () => {
    h.setNumVfs(PF, 2);
    h.bindTo('0000:3b:01.0', 'vfio-pci');
    const calls: string[][] = [];
    const r = sriovShow({ root: h.root, runner: (argv) => (calls.push(argv), { status: 0, stdout: ipVfJson, stderr: '' }) });
    assert.deepEqual(calls, [['ip', '-j', 'link', 'show', 'dev', 'ens1f0']]);
    const pf = r.devices.find((d) => d.bdf === PF)!;
    assert.equal(r.devices.length, 2, 'VFs are not listed at top level');
    assert.deepEqual(pf.vfs[0], {
      index: 0,
      bdf: '0000:3b:01.0',
      vendorDevice: '8086:1889',
      driver: 'vfio-pci',
      netdevs: [],
      numaNode: 0,
      iommuGroup: '100',
      mac: '02:00:00:00:00:01',
      vlan: 100,
      qos: 0,
      spoofchk: true,
      trust: false,
      linkState: 'auto',
    });
    assert.equal(pf.vfs[1].mac, '02:00:00:00:00:02');
    assert.equal(pf.vfs[1].trust, true);
    const text = formatShow(r);
    assert.match(text, /0000:3b:00\.0\s+8086:1592\s+ice\s+ens1f0\s+0\s+12\s+2\/8/);
    assert.match(text, /vf 0 0000:3b:01\.0\s+8086:1889\s+vfio-pci.*mac 02:00:00:00:00:01 vlan 100 spoofchk on trust off/);
  });

  it('shows VFs without link info when ip fails, and says so plainly when there is no NIC', () => {
    h.setNumVfs(PF, 1);
    const r = sriovShow({ root: h.root, runner: (): CommandResult => ({ status: 1, stdout: '', stderr: 'x' }) });
    assert.equal(r.devices[1].vfs[0].mac, undefined);
    const empty = new FakeHost();
    assert.match(formatShow(sriovShow({ root: empty.root }), empty.root), /no Ethernet PCI functions \(class 0x0200\)/);
    empty.cleanup();
  });

  it('parses older iproute2 vfinfo keys and ignores junk', () => {
    assert.equal(parseVfInfo('not json').size, 0);
    assert.deepEqual(parseVfInfo(ipVfJson).get(1), { mac: '02:00:00:00:00:02', vlan: 0, spoofchk: false, trust: true });
  });
});

describe('sriov create', () => {
  let h: FakeHost;
  let k: FakeKernel;
  beforeEach(() => {
    h = host();
    k = new FakeKernel(h);
  });
  afterEach(() => h.cleanup());
  const create = (pf: string, count: number, log: string[] = []) => sriovCreate({ root: h.root, pf, count, writer: k, kernelLog: () => log });

  it('writes sriov_numvfs and lists the new VFs (PF by address or by netdev name)', () => {
    const r = create('ens1f0', 3);
    assert.deepEqual(r.writes, ['sriov_numvfs=3']);
    assert.equal(r.after, 3);
    assert.deepEqual(
      r.vfs.map((v) => v.bdf),
      ['0000:3b:01.0', '0000:3b:01.1', '0000:3b:01.2'],
    );
    assert.equal(h.read(`sys/bus/pci/devices/${PF}/sriov_numvfs`).trim(), '3');
  });

  it('goes through 0 when changing a non-zero count, and does nothing when the count is already right', () => {
    create(PF, 2);
    k.writes = [];
    assert.deepEqual(create(PF, 4).writes, ['sriov_numvfs=0', 'sriov_numvfs=4']);
    assert.deepEqual(create(PF, 4).writes, []);
    assert.deepEqual(create(PF, 0).writes, ['sriov_numvfs=0']);
  });

  it('ENOMEM + "bus out of range" in the kernel log: advises another slot / pci=assign-busses', () => {
    k.fail.set('sriov_numvfs', 'ENOMEM');
    h.kmsg([
      `pci ${PF}: [8086:1592] type 00 class 0x020000`,
      `pci ${PF}: SR-IOV: bus number out of range`,
      `ice ${PF}: can't enable 8 VFs (bus 3c out of range of [bus 3b])`,
    ]);
    throwsCode(
      () => sriovCreate({ root: h.root, pf: PF, count: 8, writer: k }),
      'ENOMEM',
      /bus 3c out of range of \[bus 3b\]/,
      /another slot/,
      /pci=assign-busses/,
    );
  });

  it('ENOMEM with nothing in the kernel log: SR-IOV disabled in the BIOS', () => {
    k.fail.set('sriov_numvfs', 'ENOMEM');
    const e = throwsCode(() => create(PF, 4, ['unrelated line']), 'ENOMEM', /SR-IOV disabled in the BIOS/, /Enable "SR-IOV Support"/);
    assert.doesNotMatch(e.message, /assign-busses/);
  });

  it('ENOMEM with "not enough MMIO resources": pci=realloc', () => {
    k.fail.set('sriov_numvfs', 'ENOMEM');
    throwsCode(() => create(PF, 4, [`ice ${PF}: not enough MMIO resources for SR-IOV`]), 'ENOMEM', /pci=realloc/);
  });

  it('ENOSPC: out of MSI-X vectors / VF resources', () => {
    k.fail.set('sriov_numvfs', 'ENOSPC');
    throwsCode(() => create(PF, 8), 'ENOSPC', /MSI-X/, /fewer VFs/);
  });

  it('EBUSY from the kernel: VFs in use, go through 0', () => {
    k.fail.set('sriov_numvfs', '0=EBUSY');
    create(PF, 2);
    throwsCode(() => create(PF, 4), 'EBUSY', /through 0/, /in use/);
  });

  it('EPERM / EACCES: needs root and a writable /sys', () => {
    k.fail.set('sriov_numvfs', 'EACCES');
    throwsCode(() => create(PF, 1), 'EPERM', /root/, /read-only/);
  });

  it('a device without sriov_totalvfs has no SR-IOV', () => {
    throwsCode(() => create('eno1', 2), 'ENOTSUP', /no sriov_totalvfs/, /Single Root I\/O Virtualization/);
    assert.deepEqual(k.writes, []);
  });

  it('refuses a PF on vfio-pci or uio_pci_generic: they cannot create VFs', () => {
    h.bindTo(PF, 'vfio-pci');
    throwsCode(() => create(PF, 2), 'ENOTSUP', /vfio-pci drives VFs for userspace, not PFs/, /dpfwd bind 0000:3b:00\.0 kernel/);
    h.bindTo(PF, 'uio_pci_generic');
    throwsCode(() => create(PF, 2), 'ENOTSUP', /uio_pci_generic has no SR-IOV support/);
    assert.deepEqual(k.writes, []);
  });

  it('refuses a VF, too many VFs, an unbound PF, and an unknown device', () => {
    create(PF, 1);
    throwsCode(() => create('0000:3b:01.0', 1), 'ENOTSUP', /virtual function of 0000:3b:00\.0/);
    throwsCode(() => create(PF, 9), 'ERANGE', /at most 8/);
    throwsCode(() => create(PF, -1), 'EINVAL');
    throwsCode(() => create('0000:99:00.0', 1), 'ENODEV', /0000:3b:00\.0 \(ens1f0\)/);
    h.bindTo(PF, undefined);
    throwsCode(() => create(PF, 2), 'ENOTSUP', /no driver bound/);
  });

  it('ENOENT from the kernel: the PF driver has no sriov_configure', () => {
    k.fail.set('sriov_numvfs', 'ENOENT');
    throwsCode(() => create(PF, 2), 'ENOTSUP', /does not implement SR-IOV configuration/);
  });

  it('reads kmsg records under the root (prefix stripped, continuation lines dropped)', () => {
    assert.deepEqual(parseKmsg('6,1,2,-;hello\n SUBSYSTEM=pci\n4,2,3,c;world\n'), ['hello', 'world']);
  });
});

describe('sriov set', () => {
  let h: FakeHost;
  beforeEach(() => {
    h = host();
    h.setNumVfs(PF, 4);
  });
  afterEach(() => h.cleanup());

  it('runs one ip link set PF vf N … with every setting', () => {
    const calls: string[][] = [];
    const r = sriovSet({
      root: h.root,
      pf: PF,
      vf: 2,
      mac: '02:AA:00:00:00:01',
      vlan: 100,
      trust: 'on',
      spoofchk: 'off',
      runner: (a) => (calls.push(a), { status: 0, stdout: '', stderr: '' }),
    });
    assert.deepEqual(calls, [['ip', 'link', 'set', 'dev', 'ens1f0', 'vf', '2', 'mac', '02:aa:00:00:00:01', 'vlan', '100', 'spoofchk', 'off', 'trust', 'on']]);
    assert.deepEqual(r.argv, calls[0]);
  });

  it('checks its arguments before running anything', () => {
    assert.equal(checkSetArgs({ vf: 0, trust: 'on' }), true);
    assert.match(checkSetArgs({ vf: 0 }) as string, /at least one/);
    assert.match(checkSetArgs({ vf: 0, mac: '01:00:5e:00:00:01' }) as string, /multicast/);
    assert.match(checkSetArgs({ vf: 0, mac: 'zz' }) as string, /not a MAC/);
    assert.match(checkSetArgs({ vf: 0, vlan: 4096 }) as string, /0–4095/);
    assert.match(checkSetArgs({ vf: 0, qos: 3, trust: 'on' }) as string, /needs --vlan/);
    const never = () => assert.fail('ran a command');
    throwsCode(() => sriovSet({ root: h.root, pf: PF, vf: 4, trust: 'on', runner: never }), 'ERANGE', /has 4 VFs/, /0 to 3/);
    throwsCode(() => sriovSet({ root: h.root, pf: '0000:3b:01.0', vf: 0, trust: 'on', runner: never }), 'EINVAL', /is a VF/);
  });

  it('explains ip failures', () => {
    const fail = (stderr: string) => () => ({ status: 2, stdout: '', stderr });
    throwsCode(
      () => sriovSet({ root: h.root, pf: PF, vf: 0, trust: 'on', runner: fail('RTNETLINK answers: Operation not permitted') }),
      'EVFSET',
      /Operation not permitted/,
      /root/,
    );
    throwsCode(
      () => sriovSet({ root: h.root, pf: PF, vf: 0, trust: 'on', runner: fail('RTNETLINK answers: Operation not supported') }),
      'EVFSET',
      /does not support/,
    );
    throwsCode(() => sriovSet({ root: h.root, pf: PF, vf: 0, trust: 'on', runner: () => ({ status: 127, stdout: '', stderr: '' }) }), 'ENOENT', /iproute2/);
  });
});
