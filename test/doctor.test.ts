import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DoctorReport, formatDoctor, parseDoctorConfig, parseMemlock, runDoctor, SECURE_BOOT_VAR } from '../src/sriov/doctor';
import { DpfwdError } from '../src/errors';
import { FakeHost } from './helpers/fakesysfs';

const PF = '0000:3b:00.0';
const VF0 = '0000:3b:01.0';
const VF1 = '0000:3b:01.1';
const LIMITS = (soft: string, hard = soft) =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         ${soft}              ${hard}              bytes\n`;
const NO_CAPS = 'CapEff:\t0000000000000000\n';
const ROOT_CAPS = 'CapEff:\t000001ffffffffff\n';

/** A well set-up Intel host: IOMMU on, vfio-pci loaded, hugepages mounted, two VFs on vfio-pci. */
function goodHost(): FakeHost {
  const h = new FakeHost()
    .driver('vfio-pci')
    .file('proc/cmdline', 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt\n')
    .file('proc/cpuinfo', 'vendor_id\t: GenuineIntel\nflags\t\t: fpu vme sse2\n')
    .file('proc/mounts', 'sysfs /sys sysfs rw 0 0\nhugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n')
    .file('proc/self/limits', LIMITS('8388608'))
    .file('proc/self/status', ROOT_CAPS)
    .file('sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'N\n')
    .hugepages({ 'hugepages-2048kB': { nr: 512, free: 512 }, 'hugepages-1048576kB': { nr: 0, free: 0 } })
    .pci({ bdf: PF, driver: 'ice', netdev: 'ens1f0', iommuGroup: 12, totalVfs: 8, vfDriver: 'vfio-pci' });
  h.setNumVfs(PF, 2);
  return h;
}

const byName = (r: DoctorReport, name: string) => r.checks.filter((c) => c.name === name);
const one = (r: DoctorReport, name: string) => {
  const c = byName(r, name);
  assert.equal(c.length, 1, `one ${name} check in ${JSON.stringify(r.checks)}`);
  return c[0];
};
const cfg = (devices: string[], hugepagesMiB = 256) => ({ ports: devices.map((device, i) => ({ name: `p${i}`, device })), hugepagesMiB });

describe('doctor', () => {
  let h: FakeHost;
  beforeEach(() => (h = goodHost()));
  afterEach(() => h.cleanup());

  it('a well set-up host is all OK', () => {
    const r = runDoctor({ root: h.root, config: cfg([VF0, VF1]), env: {} });
    assert.deepEqual(
      r.checks.filter((c) => c.status !== 'OK'),
      [],
    );
    assert.equal(r.summary.fail, 0);
    assert.match(one(r, 'iommu').message, /IOMMU on: 3 IOMMU groups, kernel command line has intel_iommu=on iommu=pt/);
    assert.match(one(r, 'port p0').message, /0000:3b:01\.0 8086:1889 bound to vfio-pci, IOMMU group 100/);
    assert.match(formatDoctor(r), /^OK    iommu /m);
  });

  it('IOMMU off, cmdline without intel_iommu=on: FAIL with the GRUB fix', () => {
    h.file('proc/cmdline', 'root=/dev/sda1 quiet\n');
    fs.rmSync(h.p('sys/kernel/iommu_groups'), { recursive: true });
    const c = one(runDoctor({ root: h.root, env: {} }), 'iommu');
    assert.equal(c.status, 'FAIL');
    assert.match(c.message, /no intel_iommu\/iommu setting/);
    assert.match(c.fix!, /VT-d/);
    assert.match(c.fix!, /intel_iommu=on iommu=pt/);
    assert.match(c.fix!, /update-grub/);
  });

  it('IOMMU asked for on the cmdline but absent: BIOS; in a VM: virtual IOMMU; vdev-only config: WARN', () => {
    fs.rmSync(h.p('sys/kernel/iommu_groups'), { recursive: true });
    let c = one(runDoctor({ root: h.root, env: {} }), 'iommu');
    assert.match(c.fix!, /asks for the IOMMU, yet none was found: enable VT-d in the BIOS/);
    h.file('proc/cpuinfo', 'vendor_id\t: GenuineIntel\nflags\t\t: fpu hypervisor\n');
    c = one(runDoctor({ root: h.root, env: {} }), 'iommu');
    assert.match(c.fix!, /virtual machine/);
    assert.match(c.fix!, /intel-iommu/);
    c = one(runDoctor({ root: h.root, config: cfg(['net_af_packet0,iface=veth0']), env: {} }), 'iommu');
    assert.equal(c.status, 'WARN');
    assert.match(c.message, /only virtual devices/);
  });

  it('vfio-pci not loaded: FAIL with modprobe, or with "no module" when the kernel lacks it', () => {
    fs.rmSync(h.p('sys/bus/pci/drivers/vfio-pci'), { recursive: true });
    let c = one(runDoctor({ root: h.root, env: {} }), 'vfio-pci');
    assert.equal(c.status, 'FAIL');
    assert.match(c.fix!, /modprobe vfio-pci/);
    h.file('proc/sys/kernel/osrelease', '6.1.0-test\n').file('lib/modules/6.1.0-test/modules.dep', 'kernel/drivers/net/ethernet/intel/ice/ice.ko:\n');
    c = one(runDoctor({ root: h.root, env: {} }), 'vfio-pci');
    assert.match(c.message, /has no vfio-pci module/);
  });

  it('unsafe no-IOMMU mode warns loudly', () => {
    h.file('sys/module/vfio/parameters/enable_unsafe_noiommu_mode', 'Y\n');
    const c = one(runDoctor({ root: h.root, env: {} }), 'noiommu');
    assert.equal(c.status, 'WARN');
    assert.match(c.message, /UNSAFE/);
    assert.match(c.message, /DMA anywhere/);
  });

  it('Secure Boot: read from the EFI variable (5th byte); warns when a device sits on igb_uio', () => {
    const sb = `sys/firmware/efi/efivars/${SECURE_BOOT_VAR}`;
    h.file(sb, Buffer.from([0x06, 0, 0, 0, 1]));
    let c = one(runDoctor({ root: h.root, env: {} }), 'secure-boot');
    assert.equal(c.status, 'OK');
    assert.match(c.message, /Secure Boot is on/);
    assert.match(c.message, /vfio-pci/);
    h.driver('igb_uio').bindTo(VF1, 'igb_uio');
    c = one(runDoctor({ root: h.root, env: {} }), 'secure-boot');
    assert.equal(c.status, 'WARN');
    assert.match(c.fix!, /dpfwd bind 0000:3b:01\.1 vfio-pci/);
    h.file(sb, Buffer.from([0x06, 0, 0, 0, 0]));
    assert.match(one(runDoctor({ root: h.root, env: {} }), 'secure-boot').message, /Secure Boot is off/);
  });

  it('hugepages: none reserved, too few free for the config, enough', () => {
    h.hugepages({ 'hugepages-2048kB': { nr: 0, free: 0 } });
    let c = one(runDoctor({ root: h.root, env: {} }), 'hugepages');
    assert.equal(c.status, 'FAIL');
    assert.match(c.message, /no hugepages reserved/);
    assert.match(c.fix!, /echo 128 > \/sys\/kernel\/mm\/hugepages\/hugepages-2048kB\/nr_hugepages/);
    h.hugepages({ 'hugepages-2048kB': { nr: 512, free: 100 } });
    c = one(runDoctor({ root: h.root, config: cfg([VF0], 1024), env: {} }), 'hugepages');
    assert.equal(c.status, 'FAIL');
    assert.match(c.message, /200 MiB of hugepages free \(1024 MiB reserved.*1024 MiB needed \(eal\.hugepagesMiB\)/);
    h.hugepages({ 'hugepages-1048576kB': { nr: 1, free: 1 } });
    assert.equal(one(runDoctor({ root: h.root, config: cfg([VF0], 1024), env: {} }), 'hugepages').status, 'OK');
  });

  it('hugetlbfs not mounted: WARN with the mount command', () => {
    h.file('proc/mounts', 'sysfs /sys sysfs rw 0 0\n');
    const c = one(runDoctor({ root: h.root, env: {} }), 'hugetlbfs');
    assert.equal(c.status, 'WARN');
    assert.match(c.fix!, /mount -t hugetlbfs nodev \/dev\/hugepages/);
  });

  it('memlock: low limit without CAP_IPC_LOCK fails; unlimited or CAP_IPC_LOCK passes', () => {
    const c = one(runDoctor({ root: h.root, env: {}, limits: LIMITS('65536'), procStatus: NO_CAPS }), 'memlock');
    assert.equal(c.status, 'FAIL');
    assert.match(c.message, /below the 256 MiB/);
    assert.match(c.fix!, /ulimit -l unlimited/);
    assert.match(c.fix!, /IPC_LOCK/);
    assert.equal(one(runDoctor({ root: h.root, env: {}, limits: LIMITS('unlimited'), procStatus: NO_CAPS }), 'memlock').status, 'OK');
    assert.match(one(runDoctor({ root: h.root, env: {}, limits: LIMITS('65536'), procStatus: ROOT_CAPS }), 'memlock').message, /CAP_IPC_LOCK/);
    assert.deepEqual(parseMemlock(LIMITS('65536', 'unlimited')), { soft: 65536, hard: null });
  });

  it('configured devices: missing, on a kernel driver, unbound, vdev, duplicated', () => {
    h.bindTo(VF1, 'iavf');
    const r = runDoctor({ root: h.root, config: cfg(['0000:3b:02.0', VF1, 'net_af_packet0,iface=veth0', VF0, '3b:01.0']), env: {} });
    assert.match(one(r, 'port p0').message, /0000:3b:02\.0 is not present/);
    assert.match(one(r, 'port p0').fix!, /dpfwd sriov create/);
    assert.equal(one(r, 'port p1').status, 'FAIL');
    assert.match(one(r, 'port p1').message, /kernel driver iavf/);
    assert.match(one(r, 'port p1').fix!, /dpfwd bind 0000:3b:01\.1 vfio-pci --persist/);
    assert.equal(one(r, 'port p2').status, 'OK');
    const dup = one(r, 'devices');
    assert.equal(dup.status, 'FAIL');
    assert.equal(dup.message, 'ports[4].device: 0000:3b:01.0 is also used by port p3');
    h.bindTo(VF1, undefined);
    assert.match(one(runDoctor({ root: h.root, config: cfg([VF1]), env: {} }), 'port p0').message, /bound to no driver/);
  });

  it('af_packet on a veth: WARN naming af_xdp; on an interface with a device behind it, or af_xdp: OK', () => {
    h.file('sys/class/net/veth7/ifindex', '7\n').file('sys/class/net/veth7/iflink', '6\n');
    h.file('sys/class/net/eth0/ifindex', '2\n').file('sys/class/net/eth0/iflink', '2\n').mkdir('sys/class/net/eth0/device');
    const r = runDoctor({ root: h.root, config: cfg(['net_af_packet0,iface=veth7', 'net_af_packet1,iface=eth0', 'net_af_xdp0,iface=veth7']), env: {} });
    const c = one(r, 'port p0');
    assert.equal(c.status, 'WARN');
    assert.match(c.message, /af_packet on veth7, which looks like a veth/);
    assert.match(c.fix!, /net_af_xdp0,iface=veth7/);
    assert.match(c.fix!, /docs\/kernel-ports\.md/);
    assert.equal(one(r, 'port p1').status, 'OK');
    assert.equal(one(r, 'port p2').status, 'OK');
  });

  it('env: and auto devices resolve from PCIDEVICE_* (WARN outside a pod, FAIL inside)', () => {
    let r = runDoctor({
      root: h.root,
      config: cfg(['env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[0]', 'auto']),
      env: { PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE: `${VF0},${VF1}` },
    });
    assert.match(one(r, 'port p0').message, new RegExp(`${VF0} \\(from env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE\\[0\\]\\)`));
    assert.match(one(r, 'port p1').message, new RegExp(`${VF1} \\(from auto\\)`));
    r = runDoctor({ root: h.root, config: cfg(['env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[0]']), env: {} });
    assert.equal(one(r, 'devices').status, 'WARN');
    assert.match(one(r, 'devices').message, /Outside a pod/);
    r = runDoctor({ root: h.root, config: cfg(['env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[3]']), env: { PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE: VF0 } });
    assert.equal(one(r, 'devices').status, 'FAIL');
  });

  it('IOMMU group shared with a device on another driver: FAIL for a vfio-pci device', () => {
    h.pci({ bdf: '0000:3b:01.7', class: '0x010802', driver: 'nvme' });
    h.link('sys/kernel/iommu_groups/100/devices/0000:3b:01.7', 'sys/bus/pci/devices/0000:3b:01.7');
    h.pci({ bdf: '0000:3a:00.0', class: '0x060400', driver: 'pcieport' });
    h.link('sys/kernel/iommu_groups/100/devices/0000:3a:00.0', 'sys/bus/pci/devices/0000:3a:00.0');
    const c = one(runDoctor({ root: h.root, config: cfg([VF0]), env: {} }), 'iommu-group');
    assert.equal(c.status, 'FAIL');
    assert.match(c.message, /shares IOMMU group 100 with 0000:3b:01\.7 \(bound to nvme\)/);
    assert.doesNotMatch(c.message, /pcieport/);
  });

  it('a PF bound to vfio-pci: WARN that it cannot create VFs, keep it on the kernel driver', () => {
    h.bindTo(PF, 'vfio-pci');
    const c = one(runDoctor({ root: h.root, env: {} }), 'pf-driver');
    assert.equal(c.status, 'WARN');
    assert.match(c.message, /cannot create VFs/);
    assert.match(c.fix!, /dpfwd bind 0000:3b:00\.0 kernel/);
  });

  it('without --config, lists Ethernet functions and which are on a DPDK driver', () => {
    assert.match(one(runDoctor({ root: h.root, env: {} }), 'devices').message, /3 Ethernet PCI functions.*2 bound to a DPDK driver/);
    const empty = new FakeHost();
    const r = runDoctor({ root: empty.root, env: {} });
    assert.match(one(r, 'devices').message, /no Ethernet PCI functions/);
    assert.equal(one(r, 'hugepages').status, 'FAIL');
    empty.cleanup();
  });

  it('reads only ports[].device, eal.hugepagesMiB and eal.lcores from the YAML config', () => {
    const c = parseDoctorConfig(
      'eal:\n  hugepagesMiB: 1024\n  lcores: "1-2"\nports:\n  - name: wan\n    device: 0000:3b:01.0\n    mtu: 1500\n  - device: auto\n',
    );
    assert.deepEqual(c, {
      hugepagesMiB: 1024,
      lcores: '1-2',
      ports: [
        { name: 'wan', device: '0000:3b:01.0' },
        { name: 'ports[1]', device: 'auto' },
      ],
    });
    assert.equal(parseDoctorConfig('ports: []\n').hugepagesMiB, 256);
    assert.throws(
      () => parseDoctorConfig('ports:\n  - name: x\n'),
      (e: DpfwdError) => e.code === 'ECONFIG' && /ports\[0\]\.device is missing/.test(e.message),
    );
    assert.throws(
      () => parseDoctorConfig('ports: [\n'),
      (e: DpfwdError) => e.code === 'ECONFIG',
    );
  });

  it('CLI: prints OK/WARN/FAIL lines or JSON, exit status 1 only when a check fails', () => {
    const bin = path.resolve(__dirname, '..', '..', 'bin', 'dpfwd');
    const run = (...a: string[]) =>
      spawnSync(process.execPath, [bin, 'doctor', '--sysfs-root', h.root, ...a], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    let r = run();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^OK {4}iommu/m);
    assert.match(r.stdout, /0 WARN, 0 FAIL$/m);
    h.hugepages({ 'hugepages-2048kB': { nr: 0, free: 0 } });
    r = run('-j');
    assert.equal(r.status, 1);
    const report = JSON.parse(r.stdout);
    assert.equal(report.summary.fail, 1);
    assert.equal(report.checks.find((c: { name: string }) => c.name === 'hugepages').status, 'FAIL');
    assert.match(r.stderr, /1 check failed/);
  });
});
