/**
 * A forwarder configured the way a pod is: devices from the SR-IOV device plugin's environment
 * variables, addresses from Multus' network-status annotation. Everything up to the EAL runs for
 * real; the VFs do not exist on this machine, so the run ends at the port set-up, with a clear error.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DPFWD, tmpDir } from './helpers/forwarder';

function runPod(config: string, env: Record<string, string>) {
  const dir = tmpDir('pod');
  const f = path.join(dir, 'dpfwd.yaml');
  fs.writeFileSync(f, config + `control: { socket: ${dir}/s.sock }\nmetrics: { listen: false }\n`);
  const r = spawnSync(process.execPath, [DPFWD, 'run', '--config', f], { encoding: 'utf8', timeout: 30000, env: { ...process.env, ...env } });
  return { ...r, dir };
}

const status = [
  { name: 'cbr0', interface: 'eth0', ips: ['10.244.1.5'], default: true },
  { name: 'default/sriov-a', interface: 'net1', ips: ['192.0.2.10'], 'device-info': { type: 'pci', pci: { 'pci-address': '0000:3b:02.1' } } },
  {
    name: 'default/sriov-b',
    interface: 'net2',
    ips: ['198.51.100.10', '2001:db8::10'],
    'device-info': { type: 'pci', pci: { 'pci-address': '0000:3b:02.3' } },
  },
];

describe('pod configuration: device plugin variables and Multus addresses', function () {
  this.timeout(60000);
  const PORTS = `ports:
  - { name: west, device: "env:PCIDEVICE_INTEL_COM_SRIOV[0]", address: network-status/24 }
  - { name: east, device: "env:PCIDEVICE_INTEL_COM_SRIOV[1]", address: network-status/24 }
`;

  it("takes each VF's address from the network-status annotation, then gets as far as the missing device", () => {
    const dir = tmpDir('annot');
    const file = path.join(dir, 'annotations');
    fs.writeFileSync(file, `k8s.v1.cni.cncf.io/network-status=${JSON.stringify(JSON.stringify(status))}\n`);
    const r = runPod(PORTS, { PCIDEVICE_INTEL_COM_SRIOV: '0000:3b:02.1,0000:3b:02.3', DPFWD_NETWORK_STATUS: file });
    assert.match(r.stderr, new RegExp(`port west: address 192\\.0\\.2\\.10/24 from ${file}`));
    assert.match(r.stderr, new RegExp(`port east: address 198\\.51\\.100\\.10/24 from ${file}`));
    assert.equal(r.status, 1);
    // the VFs the variable names do not exist here: said before EAL init, each with what to do
    assert.match(r.stderr, /ports\[0\]\.device: PCI device 0000:3b:02\.1 does not exist on this host: 'dpfwd sriov show' lists the functions that exist/);
    assert.match(r.stderr, /ports\[1\]\.device: PCI device 0000:3b:02\.3 does not exist on this host/);
    assert.doesNotMatch(r.stderr, /EAL arguments/);
  });

  it('names the file and the VF when the annotation has no address for it', () => {
    const dir = tmpDir('annot');
    const file = path.join(dir, 'annotations');
    fs.writeFileSync(file, `k8s.v1.cni.cncf.io/network-status=${JSON.stringify(JSON.stringify(status.slice(0, 2)))}\n`);
    const r = runPod(PORTS, { PCIDEVICE_INTEL_COM_SRIOV: '0000:3b:02.1,0000:3b:02.3', DPFWD_NETWORK_STATUS: file });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`ports\\[1\\]\\.address: ${file} has no IPv4 address for 0000:3b:02\\.3 \\(port east\\)`));
  });

  it("refuses two ports that resolve to the same VF, with the doctor's message", () => {
    const cfg = `ports:
  - { name: west, device: "env:PCIDEVICE_INTEL_COM_SRIOV[0]" }
  - { name: east, device: "env:PCIDEVICE_OTHER[0]" }
`;
    const r = runPod(cfg, { PCIDEVICE_INTEL_COM_SRIOV: '0000:3b:02.1', PCIDEVICE_OTHER: '0000:3b:02.1' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ports\[1\]\.device: 0000:3b:02\.1 is also used by port west/);
  });
});
