import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SysfsWriter } from '../../src/sriov/io';

export interface FakePci {
  bdf: string;
  vendor?: string;
  device?: string;
  class?: string; // default 0x020000
  driver?: string;
  netdev?: string;
  numa?: number;
  iommuGroup?: number;
  totalVfs?: number;
  numVfs?: number;
  physfn?: string;
  vfDevice?: string; // device ID the kernel gives this PF's VFs
  vfDriver?: string; // driver the VFs come up on
}

/**
 * A filesystem root shaped like a Linux host's /sys, /proc and /dev, built in a tmp dir. Links are
 * relative like the kernel's (driver → ../../drivers/X), so code that reads link names works on both.
 */
export class FakeHost {
  readonly root: string;
  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'dpfwd-sysfs-'));
    for (const d of ['sys/bus/pci/devices', 'sys/bus/pci/drivers', 'sys/kernel/iommu_groups', 'sys/class/net', 'proc/self', 'dev']) this.mkdir(d);
    this.file('sys/bus/pci/drivers_probe', '');
  }
  p(rel: string): string {
    return path.join(this.root, rel);
  }
  mkdir(rel: string): this {
    fs.mkdirSync(this.p(rel), { recursive: true });
    return this;
  }
  file(rel: string, content: string | Buffer): this {
    fs.mkdirSync(path.dirname(this.p(rel)), { recursive: true });
    fs.writeFileSync(this.p(rel), content);
    return this;
  }
  link(rel: string, target: string): this {
    fs.mkdirSync(path.dirname(this.p(rel)), { recursive: true });
    try {
      fs.unlinkSync(this.p(rel));
    } catch {
      /* none yet */
    }
    fs.symlinkSync(path.relative(path.dirname(this.p(rel)), this.p(target)), this.p(rel));
    return this;
  }
  unlink(rel: string): this {
    try {
      fs.unlinkSync(this.p(rel));
    } catch {
      /* gone */
    }
    return this;
  }
  read(rel: string): string {
    return fs.readFileSync(this.p(rel), 'utf8');
  }
  driver(name: string): this {
    this.mkdir(`sys/bus/pci/drivers/${name}`);
    this.file(`sys/bus/pci/drivers/${name}/unbind`, '');
    this.file(`sys/bus/pci/drivers/${name}/bind`, '');
    return this;
  }
  bindTo(bdf: string, driver: string | undefined): this {
    const dir = `sys/bus/pci/devices/${bdf}`;
    this.unlink(`${dir}/driver`);
    if (driver) {
      this.driver(driver);
      this.link(`${dir}/driver`, `sys/bus/pci/drivers/${driver}`);
    }
    return this;
  }
  pci(d: FakePci): this {
    const dir = `sys/bus/pci/devices/${d.bdf}`;
    this.mkdir(dir);
    this.file(`${dir}/vendor`, `0x${d.vendor ?? '8086'}\n`);
    this.file(`${dir}/device`, `0x${d.device ?? '1592'}\n`);
    this.file(`${dir}/class`, `${d.class ?? '0x020000'}\n`);
    this.file(`${dir}/numa_node`, `${d.numa ?? -1}\n`);
    this.file(`${dir}/driver_override`, '(null)\n');
    this.file(`${dir}/modalias`, `pci:v0000${d.vendor ?? '8086'}d0000${d.device ?? '1592'}\n`);
    this.bindTo(d.bdf, d.driver);
    if (d.netdev) {
      this.mkdir(`${dir}/net/${d.netdev}`);
      this.link(`sys/class/net/${d.netdev}/device`, dir);
    }
    if (d.iommuGroup !== undefined) {
      this.mkdir(`sys/kernel/iommu_groups/${d.iommuGroup}/devices`);
      this.link(`sys/kernel/iommu_groups/${d.iommuGroup}/devices/${d.bdf}`, dir);
      this.link(`${dir}/iommu_group`, `sys/kernel/iommu_groups/${d.iommuGroup}`);
    }
    if (d.totalVfs !== undefined) {
      this.file(`${dir}/sriov_totalvfs`, `${d.totalVfs}\n`);
      this.file(`${dir}/sriov_numvfs`, '0\n');
      this.file(`${dir}/.vfinfo`, JSON.stringify({ vfDevice: d.vfDevice ?? '1889', vfDriver: d.vfDriver ?? 'iavf', numa: d.numa ?? -1 }));
      if (d.numVfs) this.setNumVfs(d.bdf, d.numVfs);
    }
    if (d.physfn) {
      this.link(`${dir}/physfn`, `sys/bus/pci/devices/${d.physfn}`);
    }
    return this;
  }
  /** VF i of PF bus:dev.fn sits at bus:(dev+1+i/8).(i%8), like ice/i40e with VF offset 8. */
  static vfBdf(pf: string, i: number): string {
    const [dom, bus, devfn] = pf.split(':');
    const dev = Number.parseInt(devfn.split('.')[0], 16) + 1 + Math.floor(i / 8);
    return `${dom}:${bus}:${dev.toString(16).padStart(2, '0')}.${i % 8}`;
  }
  /** What the kernel does on a successful sriov_numvfs write. */
  setNumVfs(pf: string, n: number): void {
    const dir = `sys/bus/pci/devices/${pf}`;
    const info = JSON.parse(this.read(`${dir}/.vfinfo`)) as { vfDevice: string; vfDriver: string; numa: number };
    const old = Number(this.read(`${dir}/sriov_numvfs`));
    for (let i = 0; i < old; i++) {
      fs.rmSync(this.p(`sys/bus/pci/devices/${FakeHost.vfBdf(pf, i)}`), { recursive: true, force: true });
      this.unlink(`${dir}/virtfn${i}`);
    }
    for (let i = 0; i < n; i++) {
      const vf = FakeHost.vfBdf(pf, i);
      this.pci({ bdf: vf, device: info.vfDevice, driver: info.vfDriver, physfn: pf, numa: info.numa, iommuGroup: 100 + i });
      this.link(`${dir}/virtfn${i}`, `sys/bus/pci/devices/${vf}`);
    }
    this.file(`${dir}/sriov_numvfs`, `${n}\n`);
  }
  kmsg(lines: string[]): this {
    return this.file('dev/kmsg', lines.map((l, i) => `3,${100 + i},${1000 * i},-;${l}\n`).join(''));
  }
  hugepages(sizes: Record<string, { nr: number; free: number }>): this {
    for (const [dir, v] of Object.entries(sizes)) {
      this.file(`sys/kernel/mm/hugepages/${dir}/nr_hugepages`, `${v.nr}\n`);
      this.file(`sys/kernel/mm/hugepages/${dir}/free_hugepages`, `${v.free}\n`);
    }
    return this;
  }
  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: write error`), { code });
}

/**
 * A SysfsWriter that behaves like the kernel on a FakeHost: sriov_numvfs creates/removes VFs
 * (EBUSY on a non-zero → non-zero change), driver_override/unbind/drivers_probe move the driver
 * link. `fail` maps a path suffix to an errno thrown instead. Every write is logged.
 */
export class FakeKernel implements SysfsWriter {
  writes: { path: string; value: string }[] = [];
  fail = new Map<string, string>();
  /** what a kernel driver probe picks for a device with no override: bdf → driver */
  kernelDrivers = new Map<string, string>();
  constructor(private host: FakeHost) {}

  write(p: string, value: string): void {
    const rel = path.relative(this.host.root, p);
    for (const [suffix, errno] of this.fail)
      if (rel.endsWith(suffix) && (errno.includes('=') ? errno.startsWith(`${value}=`) : true)) throw errnoError(errno.split('=').pop() as string);
    this.writes.push({ path: rel, value });
    let m: RegExpExecArray | null;
    if ((m = /^sys\/bus\/pci\/devices\/([^/]+)\/sriov_numvfs$/.exec(rel))) {
      const n = Number(value);
      const cur = Number(this.host.read(rel));
      if (cur !== 0 && n !== 0 && cur !== n) throw errnoError('EBUSY');
      this.host.setNumVfs(m[1], n);
    } else if ((m = /^sys\/bus\/pci\/devices\/([^/]+)\/driver_override$/.exec(rel))) {
      this.host.file(rel, value.trim() === '' ? '(null)\n' : `${value}\n`);
    } else if ((m = /^sys\/bus\/pci\/drivers\/([^/]+)\/unbind$/.exec(rel))) {
      this.host.bindTo(value, undefined);
    } else if (rel === 'sys/bus/pci/drivers_probe') {
      const override = this.host.read(`sys/bus/pci/devices/${value}/driver_override`).trim();
      const drv = override !== '(null)' ? override : this.kernelDrivers.get(value);
      if (drv && fs.existsSync(this.host.p(`sys/bus/pci/drivers/${drv}`))) this.host.bindTo(value, drv);
    } else {
      this.host.file(rel, value);
    }
  }
}
