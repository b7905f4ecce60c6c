import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DpfwdError } from '../src/errors';
import { addressConflicts, ipsForPciAddress, parseNetworkStatus, readNetworkStatus, resolveDeviceRefs } from '../src/sriov';

const ENV = {
  PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE: '0000:3b:02.1,0000:3b:02.3',
  PCIDEVICE_INTEL_COM_SRIOV_DPDK_A: '0000:5e:02.0',
  HOME: '/root',
};

function econfig(fn: () => unknown, ...res: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DpfwdError);
    assert.equal(e.code, 'ECONFIG');
    for (const re of res) assert.match(e.message, re);
    return true;
  });
}

describe('pod device references', () => {
  it('env:VAR[i] picks the i-th address; env:VAR means [0]; other devices pass through', () => {
    assert.deepEqual(
      resolveDeviceRefs(
        ['env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[1]', 'env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE', 'net_af_packet0,iface=veth0', '0000:01:10.0'],
        ENV,
      ),
      ['0000:3b:02.3', '0000:3b:02.1', 'net_af_packet0,iface=veth0', '0000:01:10.0'],
    );
  });

  it('auto takes the next unused address across PCIDEVICE_* sorted by name', () => {
    // sorted: ..._DPDK_A (5e:02.0) before ..._NETDEVICE
    assert.deepEqual(resolveDeviceRefs(['auto', 'auto', 'auto'], ENV), ['0000:5e:02.0', '0000:3b:02.1', '0000:3b:02.3']);
    assert.deepEqual(resolveDeviceRefs(['auto', 'env:PCIDEVICE_INTEL_COM_SRIOV_DPDK_A[0]'], ENV), ['0000:3b:02.1', '0000:5e:02.0']);
    econfig(
      () => resolveDeviceRefs(['auto', 'auto', 'auto', 'auto'], ENV),
      /ports\[3\]\.device: auto found no unused device address/,
      /PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE=0000:3b:02\.1,0000:3b:02\.3/,
    );
  });

  it('explains a missing variable, an index past the end, and a malformed reference', () => {
    econfig(
      () => resolveDeviceRefs(['env:PCIDEVICE_MELLANOX_COM_CX5[0]'], ENV),
      /ports\[0\]\.device/,
      /PCIDEVICE_MELLANOX_COM_CX5, which is not set/,
      /PCIDEVICE_INTEL_COM_SRIOV_DPDK_A=0000:5e:02\.0/,
      /resources\.limits/,
    );
    econfig(() => resolveDeviceRefs(['env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[2]'], ENV), /holds 2 addresses \(indexes 0–1\)/);
    econfig(() => resolveDeviceRefs(['env:PCIDEVICE_X[a]'], ENV), /not a device reference/);
    econfig(() => resolveDeviceRefs(['auto'], {}), /no PCIDEVICE_\* variables/);
  });

  it('addressConflicts names the later port path and the first port', () => {
    const c = addressConflicts([
      { name: 'wan', device: '0000:01:10.0' },
      { name: 'lan', device: '0000:01:10.1' },
      { name: 'dmz', device: '01:10.0' },
      { name: 'tap', device: 'net_tap0' },
      { name: 'tap2', device: 'net_tap0' },
      { name: 'lan2', device: '0000:01:10.1,rx_low_latency=1' },
    ]);
    assert.deepEqual(
      c.map((x) => x.text),
      ['ports[2].device: 0000:01:10.0 is also used by port wan', 'ports[5].device: 0000:01:10.1 is also used by port lan'],
    );
    assert.equal(c[0].path, 'ports[2].device');
  });
});

describe('Multus network-status', () => {
  const status = [
    { name: 'cbr0', interface: 'eth0', ips: ['10.244.1.5'], mac: '0a:58:0a:f4:01:05', default: true, dns: {} },
    {
      name: 'default/sriov-net-a',
      interface: 'net1',
      ips: ['192.0.2.10', '2001:db8::10'],
      mac: '02:00:00:00:00:10',
      dns: {},
      'device-info': { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:3b:02.1', 'pf-pci-address': '0000:3b:00.0' } },
    },
  ];
  const annotationsFile = (value: string) =>
    [
      'kubernetes.io/config.seen="2024-01-01T00:00:00Z"',
      `k8s.v1.cni.cncf.io/network-status=${JSON.stringify(value)}`,
      'k8s.v1.cni.cncf.io/networks="sriov-net-a"',
    ].join('\n') + '\n';

  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-annot-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the downward API annotations file and maps a VF address to its IPs', () => {
    const f = path.join(dir, 'annotations');
    fs.writeFileSync(f, annotationsFile(JSON.stringify(status, null, 2)));
    const s = readNetworkStatus(f);
    assert.equal(s.length, 2);
    assert.deepEqual(s[1], {
      name: 'default/sriov-net-a',
      interface: 'net1',
      ips: ['192.0.2.10', '2001:db8::10'],
      mac: '02:00:00:00:00:10',
      deviceInfo: { type: 'pci', pci: { pciAddress: '0000:3b:02.1', pfPciAddress: '0000:3b:00.0' } },
    });
    assert.deepEqual(ipsForPciAddress(s, '3b:02.1'), ['192.0.2.10', '2001:db8::10']);
    assert.deepEqual(ipsForPciAddress(s, '0000:3b:02.3'), []);
  });

  it('also reads a file holding only the annotation value', () => {
    assert.equal(parseNetworkStatus(JSON.stringify(status))[0].default, true);
  });

  it('explains a missing file, a missing annotation and bad JSON', () => {
    econfig(() => readNetworkStatus(path.join(dir, 'nope')), /downward API/);
    econfig(() => parseNetworkStatus('a="b"\n'), /no k8s\.v1\.cni\.cncf\.io\/network-status annotation/, /Multus/);
    econfig(() => parseNetworkStatus(annotationsFile('[{')), /not valid JSON/);
  });
});
