import { DpfwdError } from '../errors';
import { errnoOf, fsWriter, SysfsWriter } from './io';
import { KernelLogReader, kmsgReader } from './kmsg';
import { isDpdkDriver, pciDir, readPciDevice, resolvePciRef, SysRoot } from './sysfs';

export interface CreateOptions {
  root?: string;
  /** PF as a PCI address or netdev name */
  pf: string;
  count: number;
  writer?: SysfsWriter;
  kernelLog?: KernelLogReader;
}

export interface CreateResult {
  pf: string;
  before: number;
  after: number;
  /** sysfs writes done, in order, e.g. ['sriov_numvfs=0', 'sriov_numvfs=4'] */
  writes: string[];
  vfs: { index: number; bdf: string }[];
}

/**
 * `dpfwd sriov create PF N`: sets the PF's VF count through sysfs `sriov_numvfs` (the documented
 * interface; the `max_vfs` module parameter is deprecated). A different non-zero count goes
 * through 0 first, since the kernel answers EBUSY to a change between two non-zero counts.
 * N = 0 removes every VF.
 */
export function sriovCreate(opts: CreateOptions): CreateResult {
  const sys = new SysRoot(opts.root);
  const writer = opts.writer ?? fsWriter;
  const kernelLog = opts.kernelLog ?? kmsgReader(sys.root);
  if (!Number.isInteger(opts.count) || opts.count < 0) {
    throw new DpfwdError('EINVAL', `the VF count must be a whole number ≥ 0, not ${opts.count}; pass 0 to remove every VF.`);
  }
  const pf = resolvePciRef(sys, opts.pf);
  const name = pf.bdf + (pf.netdevs.length ? ` (${pf.netdevs.join(',')})` : '');
  if (pf.physfn) {
    throw new DpfwdError(
      'ENOTSUP',
      `${name} is a virtual function of ${pf.physfn}: VFs cannot have VFs of their own. Run 'dpfwd sriov create ${pf.physfn} ${opts.count}' on the physical function.`,
    );
  }
  if (pf.totalVfs === null) {
    throw new DpfwdError(
      'ENOTSUP',
      `${name} has no sriov_totalvfs: the device (${pf.vendor}:${pf.device}) has no SR-IOV capability, or SR-IOV is disabled for it in the BIOS/firmware. ` +
        `Check 'lspci -s ${pf.bdf} -vvv' for "Single Root I/O Virtualization"; if it is missing, enable SR-IOV in the BIOS (and in the NIC's firmware settings for cards that have one), or use a NIC that supports SR-IOV.`,
    );
  }
  if (isDpdkDriver(pf.driver)) {
    throw new DpfwdError(
      'ENOTSUP',
      `${name} is bound to ${pf.driver}, which cannot create VFs: ${pf.driver === 'vfio-pci' ? 'vfio-pci drives VFs for userspace, not PFs' : `${pf.driver} has no SR-IOV support`}. ` +
        `Keep the PF on its kernel driver and give the VFs to DPDK: 'dpfwd bind ${pf.bdf} kernel', then 'dpfwd sriov create ${pf.bdf} ${opts.count}', then 'dpfwd bind <VF> vfio-pci'.`,
    );
  }
  if (pf.driver === null) {
    throw new DpfwdError(
      'ENOTSUP',
      `${name} has no driver bound, and only the PF's kernel driver can create VFs. Bind it back with 'dpfwd bind ${pf.bdf} kernel' (or 'modprobe' its driver), then retry.`,
    );
  }
  if (opts.count > pf.totalVfs) {
    throw new DpfwdError(
      'ERANGE',
      `${name} supports at most ${pf.totalVfs} VFs (sriov_totalvfs), ${opts.count} were asked for. Ask for ${pf.totalVfs} or fewer; some NICs raise the limit through a firmware setting (e.g. the NIC's NVM/HII configuration in the BIOS).`,
    );
  }
  const before = pf.numVfs ?? 0;
  const writes: string[] = [];
  const numvfsPath = sys.path(`${pciDir(pf.bdf)}/sriov_numvfs`);
  const write = (n: number) => {
    try {
      writer.write(numvfsPath, String(n));
      writes.push(`sriov_numvfs=${n}`);
    } catch (e) {
      throw explainNumvfsError(e, { name, bdf: pf.bdf, driver: pf.driver, count: n, before: n === 0 ? before : 0, total: pf.totalVfs, kernelLog });
    }
  };
  if (before !== opts.count) {
    if (before !== 0 && opts.count !== 0) write(0);
    write(opts.count);
  }
  const now = readPciDevice(sys, pf.bdf);
  return { pf: pf.bdf, before, after: now?.numVfs ?? opts.count, writes, vfs: now?.vfs ?? [] };
}

interface ErrCtx {
  name: string;
  bdf: string;
  driver: string | null;
  count: number;
  before: number;
  total: number | null;
  kernelLog: KernelLogReader;
}

/** Kernel lines about this PF's SR-IOV, most recent last. */
function sriovLogLines(ctx: ErrCtx): string[] {
  return ctx.kernelLog().filter((l) => l.includes(ctx.bdf) || /SR-IOV|VFs|sriov/i.test(l));
}

/**
 * Turns the errno of a failed `sriov_numvfs` write into the cause and the fix. ENOMEM has two
 * common causes the errno cannot tell apart; the kernel log can:
 *   `pci 0000:02:00.0: SR-IOV: bus number out of range` / `can't enable 8 VFs (bus 03 out of range of [bus 02])`
 *   `not enough MMIO resources for SR-IOV` / nothing at all when the BIOS left SR-IOV disabled.
 */
export function explainNumvfsError(e: unknown, ctx: ErrCtx): DpfwdError {
  const errno = errnoOf(e);
  const what = `writing ${ctx.count} to sriov_numvfs of ${ctx.name} failed with ${errno ?? String(e)}`;
  switch (errno) {
    case 'ENOMEM': {
      const lines = sriovLogLines(ctx);
      const bus = [...lines].reverse().find((l) => /out of range of \[bus/.test(l) || /bus number out of range/i.test(l));
      if (bus) {
        return new DpfwdError(
          'ENOMEM',
          `${what}, and the kernel log says "${bus.trim()}": the PCI bridge above this slot has no bus numbers left for the VFs (VFs past the first bus need extra bus numbers the BIOS did not reserve). ` +
            `Move the NIC to another slot (typically a CPU-attached x8/x4 slot rather than the x16 slot meant for graphics), boot with 'pci=assign-busses' on the kernel command line, or update/enable SR-IOV support in the BIOS so it reserves bus numbers; fewer VFs may also fit.`,
        );
      }
      const mmio = [...lines].reverse().find((l) => /not enough MMIO resources/i.test(l));
      if (mmio) {
        return new DpfwdError(
          'ENOMEM',
          `${what}, and the kernel log says "${mmio.trim()}": the BIOS did not reserve memory windows for the VF BARs. ` +
            `Enable SR-IOV support in the BIOS (it then reserves VF BAR space), or boot with 'pci=realloc' on the kernel command line; fewer VFs may also fit.`,
        );
      }
      return new DpfwdError(
        'ENOMEM',
        `${what} ("Cannot allocate memory") and the kernel log names no cause: the usual one is SR-IOV disabled in the BIOS, which then reserves no bus numbers or memory for VFs. ` +
          `Enable "SR-IOV Support" (and VT-d/AMD-Vi) in the BIOS setup and reboot; if it is already on, look at 'dmesg | grep -i -e sr-iov -e ${ctx.bdf}' and try 'pci=realloc' on the kernel command line.`,
      );
    }
    case 'ENOSPC':
      return new DpfwdError(
        'ENOSPC',
        `${what} ("No space left on device"): the PF driver ran out of VF resources — MSI-X interrupt vectors or queues — for ${ctx.count} VFs. ` +
          `Ask for fewer VFs, reduce the PF's own queues first ('ethtool -L <pf> combined 4'), or check the NIC's firmware limits; the kernel log ('dmesg | tail') names which resource ran out.`,
      );
    case 'EBUSY':
      return new DpfwdError(
        'EBUSY',
        `${what} ("Device or resource busy"): ${ctx.before ? `${ctx.before} VFs are` : 'VFs are'} already enabled and the kernel only changes the count through 0, or a VF is still in use (assigned to a VM or bound to vfio-pci and opened by a process). ` +
          `Stop what uses the VFs, then 'dpfwd sriov create ${ctx.bdf} 0' and create them again.`,
      );
    case 'ENOENT':
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
      return new DpfwdError(
        'ENOTSUP',
        `${what}: the driver ${ctx.driver ?? '(none)'} bound to the PF does not implement SR-IOV configuration through sysfs. ` +
          `Bind the PF to its vendor's kernel driver (not vfio-pci or uio_pci_generic, which cannot create VFs), or update the driver; old drivers used the deprecated 'max_vfs' module parameter instead.`,
      );
    case 'ERANGE':
    case 'EINVAL':
      return new DpfwdError(
        'ERANGE',
        `${what}: the kernel rejected ${ctx.count} VFs${ctx.total !== null ? ` (sriov_totalvfs is ${ctx.total})` : ''}. Ask for fewer VFs; the PF driver may allow fewer than sriov_totalvfs when the PF's link is down or in a given firmware mode.`,
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new DpfwdError(
        'EPERM',
        `${what}: only root may write sysfs (or /sys is mounted read-only, as in an unprivileged container). Run 'sudo dpfwd sriov create ${ctx.bdf} ${ctx.count}' on the host; in Kubernetes, VFs are created on the node by the SR-IOV operator or a privileged DaemonSet, not by the forwarding pod.`,
      );
    default:
      return new DpfwdError(errno ?? 'EIO', `${what}. Look at the kernel log ('dmesg | tail -20') for the PF driver's reason.`);
  }
}
