import * as fs from 'fs';
import * as path from 'path';
import { DpfwdError } from '../errors';

/** PCI class 0x0200: Ethernet controller (what `lspci -d ::0200` lists). */
export const PCI_CLASS_ETHERNET = 0x0200;
/** Drivers through which DPDK takes a whole PCI function. */
export const DPDK_DRIVERS = ['vfio-pci', 'uio_pci_generic', 'igb_uio'];
/** Bifurcated drivers: DPDK's mlx PMDs run on top of the kernel driver, no rebinding needed. */
export const BIFURCATED_DRIVERS = ['mlx5_core', 'mlx4_core'];
/** Drivers that may share an IOMMU group with a vfio-pci device without breaking it. */
export const VFIO_GROUP_SAFE_DRIVERS = ['vfio-pci', 'pci-stub', 'pcieport'];

export { normalizeBdf, pciAddressOf } from '../net/device';
import { normalizeBdf } from '../net/device';

/**
 * Read-only view of a filesystem root: `/` on a host, a directory built by a test otherwise.
 * Paths are given relative to the root (`sys/bus/pci/devices`). Reads never throw: a missing or
 * unreadable file is `undefined`, the way an operator reading sysfs treats it.
 */
export class SysRoot {
  constructor(readonly root: string = '/') {}

  path(rel: string): string {
    return path.join(this.root, rel);
  }

  read(rel: string): string | undefined {
    try {
      return fs.readFileSync(this.path(rel), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  readBytes(rel: string): Buffer | undefined {
    try {
      return fs.readFileSync(this.path(rel));
    } catch {
      return undefined;
    }
  }

  exists(rel: string): boolean {
    return fs.existsSync(this.path(rel));
  }

  list(rel: string): string[] {
    try {
      return fs.readdirSync(this.path(rel)).sort();
    } catch {
      return [];
    }
  }

  /** Last component of a symlink's target (`driver` → `vfio-pci`), undefined if not a link. */
  linkName(rel: string): string | undefined {
    try {
      return path.basename(fs.readlinkSync(this.path(rel)));
    } catch {
      return undefined;
    }
  }
}

export interface PciDevice {
  bdf: string;
  vendor: string; // 4 hex digits, no 0x
  device: string;
  classCode: number; // class << 8 | subclass (0x0200)
  driver: string | null;
  driverOverride: string | null;
  netdevs: string[];
  numaNode: number | null;
  iommuGroup: string | null;
  /** null: the device has no SR-IOV capability (no sriov_totalvfs). */
  totalVfs: number | null;
  numVfs: number | null;
  /** set on a VF: its PF's address */
  physfn: string | null;
  /** set on a PF with VFs enabled */
  vfs: { index: number; bdf: string }[];
}

function hex4(s: string | undefined): string {
  return (s ?? '').replace(/^0x/i, '').padStart(4, '0').toLowerCase();
}

function intOrNull(s: string | undefined): number | null {
  if (s === undefined || s === '') return null;
  const n = Number.parseInt(s, 10);
  return Number.isFinite(n) ? n : null;
}

export function pciDir(bdf: string): string {
  return `sys/bus/pci/devices/${bdf}`;
}

/** Network interfaces of a PCI function: `<dev>/net/*`, or `<dev>/virtio*\/net/*` for virtio-net. */
export function netdevsOf(sys: SysRoot, bdf: string): string[] {
  const dir = pciDir(bdf);
  const names = [...sys.list(`${dir}/net`)];
  for (const sub of sys.list(dir)) if (/^virtio\d+$/.test(sub)) names.push(...sys.list(`${dir}/${sub}/net`));
  return names;
}

export function readPciDevice(sys: SysRoot, bdf: string): PciDevice | undefined {
  const dir = pciDir(bdf);
  if (!sys.exists(dir)) return undefined;
  const cls = Number.parseInt(sys.read(`${dir}/class`) ?? '0', 16);
  const numa = intOrNull(sys.read(`${dir}/numa_node`));
  const override = sys.read(`${dir}/driver_override`);
  const vfs: { index: number; bdf: string }[] = [];
  for (const e of sys.list(dir)) {
    const m = /^virtfn(\d+)$/.exec(e);
    const target = m && sys.linkName(`${dir}/${e}`);
    if (m && target) vfs.push({ index: Number(m[1]), bdf: target });
  }
  vfs.sort((a, b) => a.index - b.index);
  return {
    bdf,
    vendor: hex4(sys.read(`${dir}/vendor`)),
    device: hex4(sys.read(`${dir}/device`)),
    classCode: cls >> 8,
    driver: sys.linkName(`${dir}/driver`) ?? null,
    driverOverride: override && override !== '(null)' ? override : null,
    netdevs: netdevsOf(sys, bdf),
    numaNode: numa === null || numa < 0 ? null : numa,
    iommuGroup: sys.linkName(`${dir}/iommu_group`) ?? null,
    totalVfs: intOrNull(sys.read(`${dir}/sriov_totalvfs`)),
    numVfs: intOrNull(sys.read(`${dir}/sriov_numvfs`)),
    physfn: sys.linkName(`${dir}/physfn`) ?? null,
    vfs,
  };
}

export function listPciAddresses(sys: SysRoot): string[] {
  return sys.list('sys/bus/pci/devices').filter((b) => normalizeBdf(b) === b);
}

/** Ethernet controllers (class 0x0200), PFs and VFs alike, sorted by address. */
export function listEthernetDevices(sys: SysRoot): PciDevice[] {
  const out: PciDevice[] = [];
  for (const bdf of listPciAddresses(sys)) {
    const d = readPciDevice(sys, bdf);
    if (d && d.classCode === PCI_CLASS_ETHERNET) out.push(d);
  }
  return out;
}

/** Netdev name → PCI address, through /sys/class/net/NAME/device. */
export function bdfOfNetdev(sys: SysRoot, name: string): string | undefined {
  if (!/^[^/\s]{1,15}$/.test(name)) return undefined;
  let dev = sys.linkName(`sys/class/net/${name}/device`);
  // virtio-net: device → virtioN, whose parent is the PCI function
  if (dev && /^virtio\d+$/.test(dev)) {
    try {
      dev = path.basename(path.dirname(fs.realpathSync(sys.path(`sys/class/net/${name}/device`))));
    } catch {
      return undefined;
    }
  }
  return dev && normalizeBdf(dev) === dev ? dev : undefined;
}

/**
 * Resolve what the operator typed (a BDF, a short BDF, or a netdev name of the function) to a
 * present PCI function, or throw ENODEV listing the Ethernet functions that do exist.
 */
export function resolvePciRef(sys: SysRoot, ref: string): PciDevice {
  const bdf = normalizeBdf(ref) ?? bdfOfNetdev(sys, ref);
  const dev = bdf ? readPciDevice(sys, bdf) : undefined;
  if (dev) return dev;
  const have = listEthernetDevices(sys).map((d) => d.bdf + (d.netdevs.length ? ` (${d.netdevs.join(',')})` : ''));
  throw new DpfwdError(
    'ENODEV',
    `no PCI function ${JSON.stringify(ref)} under ${sys.path('sys/bus/pci/devices')}: ` +
      (have.length
        ? `the Ethernet functions present are ${have.join(', ')}; run 'dpfwd sriov show' and use one of those addresses or netdev names.`
        : `this host has no Ethernet PCI functions (class 0x0200); check 'lspci -d ::0200' and that the NIC is seated and enabled in the BIOS.`),
  );
}

export function isDpdkDriver(driver: string | null): boolean {
  return driver !== null && DPDK_DRIVERS.includes(driver);
}
