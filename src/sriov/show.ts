import { CommandRunner } from './io';
import { listEthernetDevices, PciDevice, SysRoot } from './sysfs';

/** What `ip -j link show dev PF` reports for one VF (vfinfo_list), where the PF driver reports it. */
export interface VfLinkInfo {
  mac?: string;
  vlan?: number;
  qos?: number;
  spoofchk?: boolean;
  trust?: boolean;
  linkState?: string;
}

export interface ShownVf extends VfLinkInfo {
  index: number;
  bdf: string;
  vendorDevice: string | null;
  driver: string | null;
  netdevs: string[];
  numaNode: number | null;
  iommuGroup: string | null;
}

export interface ShownDevice extends Pick<PciDevice, 'bdf' | 'driver' | 'netdevs' | 'numaNode' | 'iommuGroup' | 'totalVfs' | 'numVfs' | 'physfn'> {
  role: 'pf' | 'vf' | 'nic';
  vendorDevice: string;
  vfs: ShownVf[];
}

export interface ShowOptions {
  root?: string;
  /** runs `ip -j link show dev PF` for VF MAC/VLAN/spoofchk/trust; omitted → not read */
  runner?: CommandRunner;
}

/** Parses one `ip -j link show` object's vfinfo_list (key names differ across iproute2 versions). */
export function parseVfInfo(ipJson: string): Map<number, VfLinkInfo> {
  const out = new Map<number, VfLinkInfo>();
  let links: unknown;
  try {
    links = JSON.parse(ipJson);
  } catch {
    return out;
  }
  if (!Array.isArray(links)) return out;
  for (const link of links) {
    const list = (link as { vfinfo_list?: unknown }).vfinfo_list;
    if (!Array.isArray(list)) continue;
    for (const v of list as Record<string, unknown>[]) {
      if (typeof v.vf !== 'number') continue;
      const info: VfLinkInfo = {};
      const mac = v.address ?? v.mac;
      if (typeof mac === 'string') info.mac = mac;
      const vl = Array.isArray(v.vlan_list) ? (v.vlan_list[0] as Record<string, unknown> | undefined) : v;
      if (vl && typeof vl.vlan === 'number') info.vlan = vl.vlan;
      if (vl && typeof vl.qos === 'number') info.qos = vl.qos;
      if (typeof v.spoofchk === 'boolean') info.spoofchk = v.spoofchk;
      if (typeof v.trust === 'boolean') info.trust = v.trust;
      if (typeof v.link_state === 'string') info.linkState = v.link_state;
      out.set(v.vf, info);
    }
  }
  return out;
}

/** `dpfwd sriov show`: every Ethernet PF and NIC, each PF with its VFs nested under it. */
export function sriovShow(opts: ShowOptions = {}): { devices: ShownDevice[] } {
  const sys = new SysRoot(opts.root);
  const all = listEthernetDevices(sys);
  const byBdf = new Map(all.map((d) => [d.bdf, d]));
  const devices: ShownDevice[] = [];
  for (const d of all) {
    // VFs are shown under their PF when the PF is listed too
    if (d.physfn && byBdf.has(d.physfn)) continue;
    const vfLinks = d.vfs.length && d.netdevs.length && opts.runner ? readVfLinks(opts.runner, d.netdevs[0]) : new Map();
    devices.push({
      bdf: d.bdf,
      role: d.physfn ? 'vf' : d.totalVfs !== null ? 'pf' : 'nic',
      vendorDevice: `${d.vendor}:${d.device}`,
      driver: d.driver,
      netdevs: d.netdevs,
      numaNode: d.numaNode,
      iommuGroup: d.iommuGroup,
      totalVfs: d.totalVfs,
      numVfs: d.numVfs,
      physfn: d.physfn,
      vfs: d.vfs.map(({ index, bdf }) => {
        const vf: PciDevice | undefined = byBdf.get(bdf);
        return {
          index,
          bdf,
          vendorDevice: vf ? `${vf.vendor}:${vf.device}` : null,
          driver: vf?.driver ?? null,
          netdevs: vf?.netdevs ?? [],
          numaNode: vf?.numaNode ?? null,
          iommuGroup: vf?.iommuGroup ?? null,
          ...(vfLinks.get(index) ?? {}),
        };
      }),
    });
  }
  return { devices };
}

function readVfLinks(runner: CommandRunner, pfNetdev: string): Map<number, VfLinkInfo> {
  const r = runner(['ip', '-j', 'link', 'show', 'dev', pfNetdev]);
  return r.status === 0 ? parseVfInfo(r.stdout) : new Map();
}

const onOff = (b: boolean | undefined) => (b === undefined ? undefined : b ? 'on' : 'off');

/** Text form of sriovShow: one line per function, VFs indented under their PF. */
export function formatShow(res: { devices: ShownDevice[] }, root = '/'): string {
  if (res.devices.length === 0) {
    return `no Ethernet PCI functions (class 0x0200) under ${root.replace(/\/$/, '')}/sys/bus/pci/devices\n`;
  }
  const lines: string[] = [];
  const rows: string[][] = [['ADDRESS', 'ID', 'DRIVER', 'NETDEV', 'NUMA', 'IOMMU', 'VFS']];
  const vfRows = new Map<number, string[][]>();
  res.devices.forEach((d) => {
    rows.push([
      d.bdf,
      d.vendorDevice,
      d.driver ?? '-',
      d.netdevs.join(',') || '-',
      d.numaNode === null ? '-' : String(d.numaNode),
      d.iommuGroup ?? '-',
      d.totalVfs === null ? (d.role === 'vf' ? `vf of ${d.physfn}` : 'no SR-IOV') : `${d.numVfs ?? 0}/${d.totalVfs}`,
    ]);
    vfRows.set(
      rows.length - 1,
      d.vfs.map((v) => {
        const extra = [
          v.mac !== undefined ? `mac ${v.mac}` : '',
          v.vlan !== undefined ? `vlan ${v.vlan}` : '',
          v.spoofchk !== undefined ? `spoofchk ${onOff(v.spoofchk)}` : '',
          v.trust !== undefined ? `trust ${onOff(v.trust)}` : '',
          v.linkState !== undefined ? `link ${v.linkState}` : '',
        ]
          .filter(Boolean)
          .join(' ');
        return [
          `  vf ${v.index} ${v.bdf}`,
          v.vendorDevice ?? '-',
          v.driver ?? '-',
          v.netdevs.join(',') || '-',
          v.numaNode === null ? '-' : String(v.numaNode),
          v.iommuGroup ?? '-',
          extra,
        ];
      }),
    );
  });
  const flat: string[][] = [];
  rows.forEach((r, i) => {
    flat.push(r);
    flat.push(...(vfRows.get(i) ?? []));
  });
  const widths = flat[0].map((_, c) => Math.max(...flat.map((r) => (c < r.length - 1 ? r[c].length : 0))));
  for (const r of flat)
    lines.push(
      r
        .map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]) : cell))
        .join('  ')
        .trimEnd(),
    );
  return lines.join('\n') + '\n';
}
