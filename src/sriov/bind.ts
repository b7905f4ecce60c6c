import { DpfwdError } from '../errors';
import { CommandRunner, errnoOf, fsWriter, onPath, spawnRunner, SysfsWriter } from './io';
import { KernelLogReader, kmsgReader } from './kmsg';
import { PciDevice, pciDir, readPciDevice, resolvePciRef, SysRoot, VFIO_GROUP_SAFE_DRIVERS } from './sysfs';

export interface RouteInfo {
  dst: string;
  dev: string;
  gateway?: string;
}
export interface AddrInfo {
  family: string; // inet | inet6
  local: string;
  prefixlen: number;
  scope?: string;
}
/** What the host's network stack uses a netdev for; the iproute2 implementation is ipProbe. */
export interface NetProbe {
  defaultRoutes(): RouteInfo[];
  addresses(dev: string): AddrInfo[];
}

function jsonArray(s: string): Record<string, unknown>[] {
  try {
    const v = JSON.parse(s);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** NetProbe through `ip -j route show default` (IPv4 and IPv6) and `ip -j addr show dev X`. */
export function ipProbe(runner: CommandRunner = spawnRunner): NetProbe {
  return {
    defaultRoutes() {
      const out: RouteInfo[] = [];
      for (const fam of [[], ['-6']]) {
        const r = runner(['ip', ...fam, '-j', 'route', 'show', 'default']);
        if (r.status !== 0) continue;
        for (const o of jsonArray(r.stdout)) {
          if (typeof o.dev === 'string')
            out.push({ dst: String(o.dst ?? 'default'), dev: o.dev, gateway: typeof o.gateway === 'string' ? o.gateway : undefined });
        }
      }
      return out;
    },
    addresses(dev) {
      const r = runner(['ip', '-j', 'addr', 'show', 'dev', dev]);
      if (r.status !== 0) return [];
      const out: AddrInfo[] = [];
      for (const link of jsonArray(r.stdout)) {
        for (const a of (Array.isArray(link.addr_info) ? link.addr_info : []) as Record<string, unknown>[]) {
          if (typeof a.local === 'string')
            out.push({ family: String(a.family), local: a.local, prefixlen: Number(a.prefixlen), scope: typeof a.scope === 'string' ? a.scope : undefined });
        }
      }
      return out;
    },
  };
}

/** A probe that sees nothing: used when --sysfs-root points at a fake tree rather than this host. */
export const noNetProbe: NetProbe = { defaultRoutes: () => [], addresses: () => [] };

export type BindTarget = 'vfio-pci' | 'kernel';
export type PersistMode = 'print' | 'apply';

export interface BindOptions {
  root?: string;
  device: string;
  target: BindTarget;
  force?: boolean;
  persist?: PersistMode;
  writer?: SysfsWriter;
  probe?: NetProbe;
  runner?: CommandRunner;
  /** is driverctl installed? default: looked up on PATH */
  hasDriverctl?: boolean;
  kernelLog?: KernelLogReader;
}

export interface BindResult {
  bdf: string;
  before: string | null;
  after: string | null;
  writes: string[];
  warnings: string[];
  persist?: { argv: string[]; applied: boolean };
}

/** The driverctl command that makes this binding survive reboots. */
export function driverctlArgv(bdf: string, target: BindTarget): string[] {
  return target === 'vfio-pci' ? ['driverctl', 'set-override', bdf, 'vfio-pci'] : ['driverctl', 'unset-override', bdf];
}

/**
 * Why unbinding `dev` would cut the host off: its netdevs carrying the default route or an
 * address (IPv6 link-local addresses excepted: every up interface has one).
 */
export function netdevUses(dev: PciDevice, probe: NetProbe): string[] {
  const uses: string[] = [];
  const routes = dev.netdevs.length ? probe.defaultRoutes() : [];
  for (const nd of dev.netdevs) {
    for (const r of routes) if (r.dev === nd) uses.push(`${nd} carries the default route${r.gateway ? ` via ${r.gateway}` : ''}`);
    for (const a of probe.addresses(nd)) {
      if (a.family === 'inet6' && (a.scope === 'link' || /^fe80:/i.test(a.local))) continue;
      uses.push(`${nd} has address ${a.local}/${a.prefixlen}`);
    }
  }
  return uses;
}

/**
 * `dpfwd bind BDF vfio-pci|kernel`: driver_override + unbind + drivers_probe (never new_id, which
 * would grab every device with the same ID). `kernel` clears the override and lets the kernel
 * pick the device's own driver again.
 */
export function bindDevice(opts: BindOptions): BindResult {
  const sys = new SysRoot(opts.root);
  const writer = opts.writer ?? fsWriter;
  const runner = opts.runner ?? spawnRunner;
  const dev = resolvePciRef(sys, opts.device);
  const name = dev.bdf + (dev.netdevs.length ? ` (${dev.netdevs.join(',')})` : '');
  const warnings: string[] = [];
  const persistArgv = driverctlArgv(dev.bdf, opts.target);

  if (opts.persist === 'apply' && !(opts.hasDriverctl ?? onPath('driverctl'))) {
    throw new DpfwdError(
      'ENOENT',
      `--persist apply needs driverctl, which is not installed. Install it ('apt-get install driverctl'), or use '--persist' to print the command, or persist by hand with a udev rule setting driver_override.`,
    );
  }

  if (opts.target === 'vfio-pci') {
    if (!sys.exists('sys/bus/pci/drivers/vfio-pci')) {
      throw new DpfwdError(
        'ENOENT',
        `the vfio-pci driver is not loaded (no ${sys.path('sys/bus/pci/drivers/vfio-pci')}). Run 'modprobe vfio-pci' (and add vfio-pci to /etc/modules-load.d/vfio-pci.conf to load it at boot), then retry.`,
      );
    }
    const noiommu = sys.read('sys/module/vfio/parameters/enable_unsafe_noiommu_mode') === 'Y';
    if (dev.iommuGroup === null && !noiommu) {
      throw new DpfwdError(
        'EIOMMU',
        `${name} has no IOMMU group, so vfio-pci would refuse it: the IOMMU is off. Enable VT-d/AMD-Vi in the BIOS and boot with 'intel_iommu=on iommu=pt' (Intel) or 'iommu=pt' (AMD), then reboot; 'dpfwd doctor' checks this. ` +
          `(Inside a VM without a virtual IOMMU, vfio's unsafe no-IOMMU mode is the last resort.)`,
      );
    }
    if (dev.driver === 'vfio-pci') {
      return withPersist({ bdf: dev.bdf, before: 'vfio-pci', after: 'vfio-pci', writes: [], warnings: groupWarnings(sys, dev) }, opts, persistArgv, runner);
    }
    if ((dev.numVfs ?? 0) > 0 && !opts.force) {
      throw new DpfwdError(
        'EINUSE',
        `${name} is a PF with ${dev.numVfs} VFs enabled; unbinding its driver (${dev.driver}) destroys them, and vfio-pci cannot create VFs. Keep the PF on its kernel driver and bind the VFs instead ('dpfwd sriov show' lists them), or pass --force.`,
      );
    }
  } else if (dev.driver !== null && dev.driver !== 'vfio-pci' && dev.driver !== 'uio_pci_generic' && dev.driver !== 'igb_uio' && dev.driverOverride === null) {
    return withPersist({ bdf: dev.bdf, before: dev.driver, after: dev.driver, writes: [], warnings }, opts, persistArgv, runner);
  }

  if (dev.driver !== null && !opts.force) {
    const uses = netdevUses(dev, opts.probe ?? (sys.root === '/' ? ipProbe(runner) : noNetProbe));
    if (uses.length) {
      throw new DpfwdError(
        'EINUSE',
        `refusing to unbind ${dev.bdf} from ${dev.driver}: ${uses.join('; ')}. Unbinding it would take that away from this host (and may cut your SSH session). Pick another device, move the address/route off it first, or pass --force if you mean it.`,
      );
    }
  }

  const writes: string[] = [];
  const write = (rel: string, value: string) => {
    try {
      writer.write(sys.path(rel), value);
      writes.push(`${rel}=${value.trim()}`);
    } catch (e) {
      const errno = errnoOf(e);
      const fix =
        errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS'
          ? 'Only root may write sysfs, and /sys must be writable (not from an unprivileged container): run it on the host with sudo.'
          : `Look at the kernel log ('dmesg | tail') for the driver's reason.`;
      throw new DpfwdError(errno ?? 'EIO', `writing ${JSON.stringify(value.trim())} to ${sys.path(rel)} failed with ${errno ?? String(e)}. ${fix}`);
    }
  };
  const dir = pciDir(dev.bdf);
  write(`${dir}/driver_override`, opts.target === 'vfio-pci' ? 'vfio-pci' : '\n');
  if (dev.driver !== null) write(`sys/bus/pci/drivers/${dev.driver}/unbind`, dev.bdf);
  write('sys/bus/pci/drivers_probe', dev.bdf);

  const after = readPciDevice(sys, dev.bdf)?.driver ?? null;
  const result: BindResult = { bdf: dev.bdf, before: dev.driver, after, writes, warnings };
  if (opts.target === 'vfio-pci' && after !== 'vfio-pci') {
    const log = (opts.kernelLog ?? kmsgReader(sys.root))()
      .filter((l) => l.includes(dev.bdf))
      .slice(-3);
    throw new DpfwdError(
      'EBIND',
      `${dev.bdf} is ${after ? `bound to ${after}` : 'unbound'} after asking for vfio-pci${log.length ? `; the kernel log says: ${log.map((l) => `"${l.trim()}"`).join(' ')}` : ''}. ` +
        `Check that the IOMMU is on ('dpfwd doctor'), then retry; 'dpfwd bind ${dev.bdf} kernel' gives it back to its kernel driver.`,
    );
  }
  if (opts.target === 'kernel' && after === null) {
    throw new DpfwdError(
      'EBIND',
      `no kernel driver claimed ${dev.bdf} (${dev.vendor}:${dev.device}) after the override was cleared: its driver module is not loaded. Find it with 'modinfo $(cat ${sys.path(dir)}/modalias)' or 'lspci -k -s ${dev.bdf}', modprobe it, and retry.`,
    );
  }
  if (opts.target === 'vfio-pci') result.warnings.push(...groupWarnings(sys, dev));
  return withPersist(result, opts, persistArgv, runner);
}

function withPersist(res: BindResult, opts: BindOptions, argv: string[], runner: CommandRunner): BindResult {
  if (!opts.persist) return res;
  if (opts.persist === 'print') return { ...res, persist: { argv, applied: false } };
  const r = runner(argv);
  if (r.status !== 0) {
    throw new DpfwdError(
      'EPERSIST',
      `'${argv.join(' ')}' failed: ${(r.stderr || r.stdout).trim() || `exit status ${r.status}`}. The binding is in place until reboot; fix driverctl's complaint and rerun it.`,
    );
  }
  return { ...res, persist: { argv, applied: true } };
}

/** Devices in the same IOMMU group that are bound to a driver vfio cannot share a group with. */
export function groupConflicts(sys: SysRoot, dev: PciDevice): { bdf: string; driver: string }[] {
  if (dev.iommuGroup === null) return [];
  const out: { bdf: string; driver: string }[] = [];
  for (const other of sys.list(`sys/kernel/iommu_groups/${dev.iommuGroup}/devices`)) {
    if (other === dev.bdf) continue;
    const drv = sys.linkName(`${pciDir(other)}/driver`) ?? null;
    if (drv !== null && !VFIO_GROUP_SAFE_DRIVERS.includes(drv)) out.push({ bdf: other, driver: drv });
  }
  return out;
}

function groupWarnings(sys: SysRoot, dev: PciDevice): string[] {
  const c = groupConflicts(sys, dev);
  if (!c.length) return [];
  return [
    `IOMMU group ${dev.iommuGroup} also holds ${c.map((x) => `${x.bdf} (${x.driver})`).join(', ')}; vfio only opens a group whose devices are all bound to vfio-pci or unbound. Bind those too, or move the NIC to a slot with its own group (ACS).`,
  ];
}
