import * as fs from 'fs';
import { parse as parseYaml } from 'yaml';
import { DpfwdError } from '../errors';
import { cpusAllowed, cpuListString, DEFAULT_LCORES, lcoresOutside, parseLcoreList } from '../host/cpus';
import { groupConflicts } from './bind';
import { addressConflicts, resolveDeviceRefs } from './podenv';
import { deviceName, devargs, isVdev, pciAddressOf } from '../net/device';
import { BIFURCATED_DRIVERS, isDpdkDriver, listEthernetDevices, PciDevice, readPciDevice, SysRoot } from './sysfs';

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}
export interface DoctorReport {
  checks: DoctorCheck[];
  summary: { ok: number; warn: number; fail: number };
}

/** The two things doctor needs from dpfwd.yaml; read on its own so doctor works on any draft config. */
export interface DoctorConfig {
  ports: { name: string; device: string }[];
  /** hugepage memory the forwarder needs, MiB (eal.hugepagesMiB, default 256) */
  hugepagesMiB: number;
  /** where hugepagesMiB comes from, when not eal.hugepagesMiB or the default (`dpfwd doctor --config`: the config's computed need) */
  hugepagesFrom?: string;
  /** eal.lcores as written ("0-3", "auto"), when the config sets it */
  lcores?: string;
}

export const DEFAULT_HUGEPAGES_MIB = 256;
export const SECURE_BOOT_VAR = 'SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

export function parseDoctorConfig(text: string, where = 'config'): DoctorConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new DpfwdError('ECONFIG', `${where} is not valid YAML: ${(e as Error).message.split('\n')[0]}. Fix the syntax and rerun.`);
  }
  const root = (doc ?? {}) as { eal?: { hugepagesMiB?: unknown; lcores?: unknown }; ports?: unknown };
  const ports: DoctorConfig['ports'] = [];
  if (root.ports !== undefined && !Array.isArray(root.ports)) throw new DpfwdError('ECONFIG', `${where}: ports must be a list of {name, device}.`);
  ((root.ports as unknown[]) ?? []).forEach((p, i) => {
    const o = (p ?? {}) as { name?: unknown; device?: unknown };
    if (typeof o.device !== 'string' || !o.device)
      throw new DpfwdError('ECONFIG', `${where}: ports[${i}].device is missing; give a PCI address, a vdev string, env:PCIDEVICE_…[n] or auto.`);
    ports.push({ name: typeof o.name === 'string' ? o.name : `ports[${i}]`, device: o.device });
  });
  const h = root.eal?.hugepagesMiB;
  if (h !== undefined && (typeof h !== 'number' || !(h > 0))) throw new DpfwdError('ECONFIG', `${where}: eal.hugepagesMiB must be a positive number of MiB.`);
  const out: DoctorConfig = { ports, hugepagesMiB: typeof h === 'number' ? h : DEFAULT_HUGEPAGES_MIB };
  const l = root.eal?.lcores;
  if (typeof l === 'string' || typeof l === 'number') out.lcores = String(l);
  return out;
}

export function loadDoctorConfig(path: string): DoctorConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new DpfwdError('ECONFIG', `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? e}); pass the forwarder's config file with --config.`);
  }
  return parseDoctorConfig(text, path);
}

export interface DoctorOptions {
  root?: string;
  config?: DoctorConfig;
  /** environment for env:/auto device references; default process.env */
  env?: Record<string, string | undefined>;
  /** checks made by the caller, listed first (`doctor --config`: the config's own errors) */
  extra?: DoctorCheck[];
  /** contents of /proc/self/limits and /proc/self/status; default read under root */
  limits?: string;
  procStatus?: string;
}

/** `dpfwd doctor`: each check OK / WARN / FAIL with its fix, read-only. */
export function runDoctor(opts: DoctorOptions = {}): DoctorReport {
  const sys = new SysRoot(opts.root);
  const cfg = opts.config;
  const env = opts.env ?? process.env;
  const checks: DoctorCheck[] = [...(opts.extra ?? [])];
  const add = (c: DoctorCheck) => checks.push(c);
  const needPci = !cfg || cfg.ports.some((p) => !isVdev(p.device));
  const failOrWarn: CheckStatus = needPci ? 'FAIL' : 'WARN';
  const notNeeded = needPci ? '' : ' (this config uses only virtual devices, so it does not need it)';

  const cmdline = sys.read('proc/cmdline') ?? '';
  const cpuinfo = sys.read('proc/cpuinfo') ?? '';
  const amd = /AuthenticAMD|HygonGenuine/.test(cpuinfo);
  const inVm = /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo);
  const args = cmdline.split(/\s+/);
  const noiommu = sys.read('sys/module/vfio/parameters/enable_unsafe_noiommu_mode') === 'Y';

  // IOMMU
  const groups = sys.list('sys/kernel/iommu_groups');
  const cmdIommu = args.filter((a) => /^(intel_iommu|amd_iommu|iommu)=/.test(a));
  const cmdOn = args.includes('intel_iommu=on') || args.some((a) => /^amd_iommu=on/.test(a)) || (amd && !args.includes('amd_iommu=off'));
  const wantArgs = amd ? 'iommu=pt' : 'intel_iommu=on iommu=pt';
  if (groups.length > 0) {
    add({
      name: 'iommu',
      status: 'OK',
      message: `IOMMU on: ${groups.length} IOMMU groups${cmdIommu.length ? `, kernel command line has ${cmdIommu.join(' ')}` : ''}${args.includes('iommu=pt') ? '' : '; add iommu=pt to keep host-driver devices fast'}`,
    });
  } else {
    const bios = amd ? 'AMD-Vi/IOMMU' : 'VT-d';
    let fix: string;
    if (inVm) {
      fix =
        `This is a virtual machine: the hypervisor must give it a virtual IOMMU (QEMU: '-device intel-iommu,intremap=on,caching-mode=on' and 'intel_iommu=on iommu=pt' on the guest's kernel command line) and pass a VF through per port; ` +
        `without one, run on virtual devices (net_af_packet, net_af_xdp, net_tap) instead of VFs.`;
    } else if (cmdOn && !args.includes('intel_iommu=off')) {
      fix = `${amd ? 'AMD kernels turn the IOMMU on by default' : 'The kernel command line asks for the IOMMU'}, yet none was found: enable ${bios} in the BIOS setup and reboot${args.includes('iommu=pt') ? '' : "; add 'iommu=pt' too"}.`;
    } else {
      fix = `Enable ${bios} in the BIOS setup, add '${wantArgs}' to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot.`;
    }
    add({
      name: 'iommu',
      status: noiommu ? 'WARN' : failOrWarn,
      message:
        `no IOMMU groups under /sys/kernel/iommu_groups: the IOMMU is off, so vfio-pci cannot take devices${noiommu ? ' except in unsafe no-IOMMU mode' : ''}${notNeeded}; ` +
        (cmdIommu.length
          ? `the kernel command line has ${cmdIommu.join(' ')}`
          : `the kernel command line has no ${amd ? 'amd_iommu/iommu' : 'intel_iommu/iommu'} setting`),
      fix,
    });
  }

  // vfio-pci
  if (sys.exists('sys/bus/pci/drivers/vfio-pci')) {
    add({ name: 'vfio-pci', status: 'OK', message: 'vfio-pci driver loaded' });
  } else {
    const rel = sys.read('proc/sys/kernel/osrelease');
    const modDir = rel ? `lib/modules/${rel}` : undefined;
    const haveTree = modDir !== undefined && sys.exists(modDir);
    const shipped = haveTree && /vfio-pci\.ko/.test((sys.read(`${modDir}/modules.dep`) ?? '') + (sys.read(`${modDir}/modules.builtin`) ?? ''));
    add({
      name: 'vfio-pci',
      status: failOrWarn,
      message:
        `vfio-pci driver not loaded (no /sys/bus/pci/drivers/vfio-pci)${notNeeded}` +
        (modDir && !haveTree
          ? `, and this kernel (${rel}) has no module tree /${modDir} to load it from`
          : haveTree && !shipped
            ? `, and /${modDir} has no vfio-pci module`
            : ''),
      fix:
        modDir && (!haveTree || !shipped)
          ? "Boot a kernel that has vfio-pci (CONFIG_VFIO_PCI, e.g. the distribution's stock kernel and its modules package), then 'modprobe vfio-pci'."
          : "'modprobe vfio-pci', and add 'vfio-pci' to /etc/modules-load.d/vfio-pci.conf so it loads at boot.",
    });
  }

  // unsafe no-IOMMU
  if (noiommu) {
    add({
      name: 'noiommu',
      status: 'WARN',
      message:
        'vfio UNSAFE no-IOMMU mode is ON (enable_unsafe_noiommu_mode=Y): devices given to DPDK can DMA anywhere in host memory, a bug or a hostile VF can corrupt the kernel, and the kernel is tainted',
      fix: "Use it only in a VM that has no virtual IOMMU. On a host, enable the IOMMU and 'echo N > /sys/module/vfio/parameters/enable_unsafe_noiommu_mode'.",
    });
  } else {
    add({ name: 'noiommu', status: 'OK', message: 'vfio unsafe no-IOMMU mode off' });
  }

  // Secure Boot
  const sb = sys.readBytes(`sys/firmware/efi/efivars/${SECURE_BOOT_VAR}`);
  const uioDevs = listEthernetDevices(sys).filter((d) => d.driver === 'igb_uio' || d.driver === 'uio_pci_generic');
  if (sb && sb.length >= 5 && sb[4] === 1) {
    add({
      name: 'secure-boot',
      status: uioDevs.length ? 'WARN' : 'OK',
      message: `UEFI Secure Boot is on: unsigned modules such as igb_uio cannot load and kernel lockdown restricts UIO; vfio-pci is the driver to use${uioDevs.length ? ` (${uioDevs.map((d) => `${d.bdf} is on ${d.driver}`).join(', ')})` : ''}`,
      fix: uioDevs.length ? `Move those devices to vfio-pci: ${uioDevs.map((d) => `'dpfwd bind ${d.bdf} vfio-pci'`).join(', ')}.` : undefined,
    });
  } else {
    add({
      name: 'secure-boot',
      status: 'OK',
      message: sb
        ? 'UEFI Secure Boot is off'
        : sys.exists('sys/firmware/efi')
          ? 'UEFI Secure Boot is off (no SecureBoot variable)'
          : 'not booted through UEFI (no /sys/firmware/efi): no Secure Boot restrictions',
    });
  }

  // hugepages
  const needMiB = cfg?.hugepagesMiB ?? DEFAULT_HUGEPAGES_MIB;
  let totalMiB = 0;
  let freeMiB = 0;
  const sizes: string[] = [];
  for (const dir of sys.list('sys/kernel/mm/hugepages')) {
    const m = /^hugepages-(\d+)kB$/.exec(dir);
    if (!m) continue;
    const kB = Number(m[1]);
    const nr = Number(sys.read(`sys/kernel/mm/hugepages/${dir}/nr_hugepages`) ?? 0);
    const free = Number(sys.read(`sys/kernel/mm/hugepages/${dir}/free_hugepages`) ?? 0);
    totalMiB += (nr * kB) / 1024;
    freeMiB += (free * kB) / 1024;
    sizes.push(`${kB >= 1048576 ? `${kB / 1048576}G` : `${kB / 1024}M`}: ${nr} reserved, ${free} free`);
  }
  const need = `${needMiB} MiB ${cfg ? (cfg.hugepagesFrom ? `needed (${cfg.hugepagesFrom})` : cfg.hugepagesMiB === DEFAULT_HUGEPAGES_MIB ? 'needed (default estimate; set eal.hugepagesMiB)' : 'needed (eal.hugepagesMiB)') : 'needed (default estimate; pass --config for the real need)'}`;
  const pages2M = Math.ceil(needMiB / 2);
  const hpFix =
    `Reserve them: 'echo ${pages2M} > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages' now, and 'vm.nr_hugepages = ${pages2M}' in /etc/sysctl.d/80-hugepages.conf (or 'hugepages=${pages2M}' on the kernel command line) for boot. ` +
    'On NUMA hosts reserve them on the node of the NIC (/sys/devices/system/node/nodeN/hugepages/).';
  if (sizes.length === 0) {
    add({
      name: 'hugepages',
      status: 'FAIL',
      message: 'this kernel has no hugepage support (/sys/kernel/mm/hugepages is missing)',
      fix: 'Use a kernel built with CONFIG_HUGETLBFS.',
    });
  } else if (totalMiB === 0) {
    add({ name: 'hugepages', status: 'FAIL', message: `no hugepages reserved (${sizes.join('; ')}); ${need}`, fix: hpFix });
  } else if (freeMiB < needMiB) {
    add({
      name: 'hugepages',
      status: 'FAIL',
      message: `${freeMiB} MiB of hugepages free (${totalMiB} MiB reserved: ${sizes.join('; ')}), ${need}`,
      fix: `Free the pages (a stale DPDK process or files left in the hugetlbfs mount hold them: 'ls /dev/hugepages') or reserve more. ${hpFix}`,
    });
  } else {
    add({ name: 'hugepages', status: 'OK', message: `${freeMiB} MiB of hugepages free (${sizes.join('; ')}), ${need}` });
  }

  // hugetlbfs mount
  const mounts = (sys.read('proc/mounts') ?? '')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'hugetlbfs')
    .map((f) => f[1]);
  if (mounts.length) add({ name: 'hugetlbfs', status: 'OK', message: `hugetlbfs mounted on ${mounts.join(', ')}` });
  else
    add({
      name: 'hugetlbfs',
      status: 'WARN',
      message: 'no hugetlbfs mounted: DPDK then only works with --in-memory (anonymous hugepages)',
      fix: "'mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages' (systemd's dev-hugepages.mount does it at boot); in a pod, mount an emptyDir with medium: HugePages.",
    });

  // memlock
  add(memlockCheck(opts.limits ?? sys.read('proc/self/limits'), opts.procStatus ?? sys.read('proc/self/status'), needMiB, needPci));

  // configured lcores against the CPUs this process may run on (its affinity mask / cpuset)
  const allowed = cpusAllowed(opts.procStatus ?? sys.read('proc/self/status') ?? '');
  if (cfg && allowed) add(lcoresCheck(cfg.lcores ?? DEFAULT_LCORES, allowed));

  // devices
  const pciNeeded: PciDevice[] = [];
  if (cfg) {
    let devices = cfg.ports.map((p) => p.device);
    try {
      devices = resolveDeviceRefs(devices, env);
    } catch (e) {
      const inPod = Object.keys(env).some((k) => k.startsWith('PCIDEVICE_'));
      add({
        name: 'devices',
        status: inPod ? 'FAIL' : 'WARN',
        message: `${(e as Error).message}${inPod ? '' : ' Outside a pod this is expected: env:/auto devices are resolved when the forwarder starts in its pod.'}`,
      });
    }
    for (const c of addressConflicts(cfg.ports.map((p, i) => ({ name: p.name, device: devices[i] })))) {
      add({ name: 'devices', status: 'FAIL', message: c.text, fix: 'Give each port its own device.' });
    }
    cfg.ports.forEach((p, i) => {
      const d = devices[i];
      const label = `port ${p.name}`;
      if (d.startsWith('env:') || d === 'auto') return; // reported above
      if (isVdev(d)) {
        add(afPacketOnVeth(label, d, sys) ?? { name: label, status: 'OK', message: `${d}: virtual device, no PCI checks` });
        return;
      }
      const bdf = pciAddressOf(d) as string;
      const dev = readPciDevice(sys, bdf);
      const from = d === p.device ? '' : ` (from ${p.device})`;
      if (!dev) {
        add({
          name: label,
          status: 'FAIL',
          message: `${bdf}${from} is not present on this host`,
          fix: "If it is a VF, create the VFs on its PF ('dpfwd sriov create PF N'); 'dpfwd sriov show' lists the functions that exist.",
        });
        return;
      }
      pciNeeded.push(dev);
      add(deviceCheck(label, dev, from, sys));
    });
  } else {
    const eth = listEthernetDevices(sys);
    const dpdk = eth.filter((d) => isDpdkDriver(d.driver));
    pciNeeded.push(...dpdk);
    if (eth.length === 0) {
      add({
        name: 'devices',
        status: 'WARN',
        message:
          'no Ethernet PCI functions (class 0x0200) on this host: only virtual devices (net_af_packet, net_af_xdp, net_tap, net_pcap, net_memif) can be used',
      });
    } else {
      const list = eth
        .map((d) => `${d.bdf} ${d.vendor}:${d.device} on ${d.driver ?? 'no driver'}${d.netdevs.length ? ` (${d.netdevs.join(',')})` : ''}`)
        .join(', ');
      add({
        name: 'devices',
        status: dpdk.length ? 'OK' : 'WARN',
        message: `${eth.length} Ethernet PCI function${eth.length === 1 ? '' : 's'}: ${list}; ${dpdk.length ? `${dpdk.length} bound to a DPDK driver` : 'none bound to a DPDK driver'}`,
        fix: dpdk.length
          ? undefined
          : "Bind the VFs the forwarder will use: 'dpfwd bind BDF vfio-pci --persist'; pass --config to check exactly the configured devices.",
      });
    }
  }

  // IOMMU group sharing
  for (const dev of pciNeeded) {
    const c = groupConflicts(sys, dev);
    if (!c.length) continue;
    add({
      name: 'iommu-group',
      status: dev.driver === 'vfio-pci' ? 'FAIL' : 'WARN',
      message: `${dev.bdf} shares IOMMU group ${dev.iommuGroup} with ${c.map((x) => `${x.bdf} (bound to ${x.driver})`).join(', ')}: vfio only opens a group whose devices are all on vfio-pci or unbound`,
      fix: `Bind the group's other devices to vfio-pci too (if the host can spare them), or move the NIC to a slot behind an ACS-capable port so it gets a group of its own.`,
    });
  }

  // PFs given to DPDK
  for (const d of listEthernetDevices(sys)) {
    if (d.physfn === null && d.totalVfs !== null && isDpdkDriver(d.driver)) {
      add({
        name: 'pf-driver',
        status: 'WARN',
        message: `PF ${d.bdf} (SR-IOV capable, ${d.totalVfs} VFs) is bound to ${d.driver}, which cannot create VFs`,
        fix: `Keep the PF on its kernel driver and give VFs to DPDK: 'dpfwd bind ${d.bdf} kernel', 'dpfwd sriov create ${d.bdf} N', then 'dpfwd bind <VF> vfio-pci'.`,
      });
    }
  }

  const summary = { ok: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status.toLowerCase() as 'ok' | 'warn' | 'fail']++;
  return { checks, summary };
}

/**
 * net_af_packet on a veth (iflink differs from ifindex and no device behind it: the host end of
 * a container link) works, but is the slowest and least faithful kernel-facing port: the PMD
 * copies every frame twice, its socket makes the kernel reassemble fragments, and dpfwd has to
 * attach an XDP program so the peer stops sending TSO super-frames (docs/kernel-ports.md).
 */
export function afPacketOnVeth(label: string, device: string, sys: SysRoot): DoctorCheck | undefined {
  if (!/^net_af_packet/.test(deviceName(device))) return undefined;
  const iface = devargs(device).get('iface'); // the one device-string parser (src/net/device.ts)
  if (!iface) return undefined;
  const dir = `sys/class/net/${iface}`;
  const ifindex = sys.read(`${dir}/ifindex`)?.trim();
  const iflink = sys.read(`${dir}/iflink`)?.trim();
  if (!ifindex || !iflink || ifindex === iflink || sys.exists(`${dir}/device`)) return undefined;
  return {
    name: label,
    status: 'WARN',
    message: `${device}: af_packet on ${iface}, which looks like a veth (a container link). It works (dpfwd completes partial checksums, attaches a pass-through XDP program so the peer stops sending TSO super-frames, refragments datagrams the kernel reassembles), but every frame is copied twice and fragments are reassembled on the way in`,
    fix: `Use net_af_xdp0,iface=${iface} (zero reassembly, faster on the same link; needs CAP_BPF/NET_ADMIN), or net_tap for a namespace dpfwd creates itself; see docs/kernel-ports.md for measured numbers.`,
  };
}

function deviceCheck(label: string, dev: PciDevice, from: string, sys: SysRoot): DoctorCheck {
  const what = `${dev.bdf}${from} ${dev.vendor}:${dev.device}`;
  if (dev.driver === 'vfio-pci') {
    const safe = dev.iommuGroup !== null || sys.read('sys/module/vfio/parameters/enable_unsafe_noiommu_mode') === 'Y';
    return safe
      ? { name: label, status: 'OK', message: `${what} bound to vfio-pci${dev.iommuGroup !== null ? `, IOMMU group ${dev.iommuGroup}` : ' (no-IOMMU mode)'}` }
      : { name: label, status: 'FAIL', message: `${what} is on vfio-pci but has no IOMMU group`, fix: 'Enable the IOMMU (see the iommu check) and rebind.' };
  }
  if (dev.driver === 'uio_pci_generic' || dev.driver === 'igb_uio') {
    return {
      name: label,
      status: 'WARN',
      message: `${what} bound to ${dev.driver}: DPDK works, but without IOMMU protection${dev.physfn ? '' : ''}`,
      fix: `Prefer vfio-pci: 'dpfwd bind ${dev.bdf} vfio-pci --persist'.`,
    };
  }
  if (dev.driver !== null && BIFURCATED_DRIVERS.includes(dev.driver)) {
    return { name: label, status: 'OK', message: `${what} on ${dev.driver}: bifurcated driver, DPDK's mlx PMD runs beside it` };
  }
  return {
    name: label,
    status: 'FAIL',
    message: `${what} is ${dev.driver ? `bound to the kernel driver ${dev.driver}${dev.netdevs.length ? ` (${dev.netdevs.join(',')})` : ''}` : 'bound to no driver'}, which DPDK cannot use`,
    fix: `'dpfwd bind ${dev.bdf} vfio-pci --persist'.`,
  };
}

const CAP_IPC_LOCK = 14;

/** Parses `Max locked memory  <soft> <hard> bytes` of /proc/self/limits; null = unlimited. */
export function parseMemlock(limits: string): { soft: number | null; hard: number | null } | undefined {
  const m = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  const v = (s: string) => (s === 'unlimited' ? null : Number(s));
  return { soft: v(m[1]), hard: v(m[2]) };
}

function hasCapIpcLock(status: string | undefined): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)/im.exec(status ?? '');
  return !!m && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_IPC_LOCK))) !== 0n;
}

function memlockCheck(limits: string | undefined, status: string | undefined, needMiB: number, needPci: boolean): DoctorCheck {
  const ml = limits ? parseMemlock(limits) : undefined;
  const fix =
    "Raise it: 'ulimit -l unlimited' in the shell, LimitMEMLOCK=infinity in the systemd unit, '* - memlock unlimited' in /etc/security/limits.d/, or give the process CAP_IPC_LOCK (in a pod: securityContext.capabilities.add [IPC_LOCK]).";
  if (!ml) return { name: 'memlock', status: 'WARN', message: 'cannot read the locked-memory limit from /proc/self/limits' };
  const fmt = (n: number | null) => (n === null ? 'unlimited' : `${Math.round(n / 1048576)} MiB`);
  if (ml.soft === null) return { name: 'memlock', status: 'OK', message: 'locked-memory limit unlimited' };
  if (hasCapIpcLock(status)) {
    return {
      name: 'memlock',
      status: 'OK',
      message: `locked-memory limit ${fmt(ml.soft)}, but this process has CAP_IPC_LOCK, so vfio can pin the DMA memory it needs`,
    };
  }
  if (ml.soft < needMiB * 1048576) {
    return {
      name: 'memlock',
      status: needPci ? 'FAIL' : 'WARN',
      message: `locked-memory limit ${fmt(ml.soft)} (hard ${fmt(ml.hard)}) is below the ${needMiB} MiB vfio must pin for DMA, and this process lacks CAP_IPC_LOCK`,
      fix,
    };
  }
  return { name: 'memlock', status: 'OK', message: `locked-memory limit ${fmt(ml.soft)} covers the ${needMiB} MiB to pin` };
}

/** Text form: `OK    name  message`, the fix indented under WARN and FAIL lines, then a summary. */
function lcoresCheck(lcores: string, allowed: number[]): DoctorCheck {
  const cpus = cpuListString(allowed);
  if (lcores === 'auto') {
    return allowed.length >= 2
      ? {
          name: 'lcores',
          status: 'OK',
          message: `eal.lcores auto: main lcore ${allowed[0]}, workers ${cpuListString(allowed.slice(1))} (the CPUs this process may run on)`,
        }
      : {
          name: 'lcores',
          status: 'FAIL',
          message: `eal.lcores auto: this process may run on CPU ${cpus} only; dpfwd needs 2`,
          fix: 'Give the process at least 2 CPUs (taskset -c, CPUAffinity= in the unit, a CPU request of 2 or more in the pod).',
        };
  }
  const list = parseLcoreList(lcores.replace(/\s+/g, ''));
  if (typeof list === 'string') return { name: 'lcores', status: 'FAIL', message: `eal.lcores: ${list}`, fix: 'Write an lcore list like "0-3", or auto.' };
  const outside = lcoresOutside(list, allowed);
  if (outside) {
    return {
      name: 'lcores',
      status: 'FAIL',
      message: `eal.lcores "${lcores}": ${outside}`,
      fix: `Use 'lcores: auto' (takes the CPUs the process may run on), or choose lcores among ${cpus}.`,
    };
  }
  return { name: 'lcores', status: 'OK', message: `eal.lcores "${lcores}" within the CPUs this process may run on (${cpus})` };
}

export function formatDoctor(r: DoctorReport): string {
  const w = Math.max(...r.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${c.status.padEnd(4)}  ${c.name.padEnd(w)}  ${c.message}`);
    if (c.fix && c.status !== 'OK') lines.push(`${' '.repeat(6 + w)}  fix: ${c.fix}`);
  }
  lines.push(`${r.summary.ok} OK, ${r.summary.warn} WARN, ${r.summary.fail} FAIL`);
  return lines.join('\n') + '\n';
}
