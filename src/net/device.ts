/**
 * Port device strings: the one grammar of what `ports[].device` may hold, used by config
 * validation, the forwarder (DPDK's device name, devargs), `dpfwd doctor` and the pod's device
 * references. A leaf module: pure functions, no I/O.
 *
 *   0000:01:10.0[,devargs]       a PCI function (domain 0000 implied when left out)
 *   net_<driver><n>[,k=v,...]    a DPDK virtual device
 *   env:NAME[i]                  entry i (default 0) of a PCIDEVICE_* variable (SR-IOV device plugin)
 *   auto                         the next PCIDEVICE_* address no other port uses
 */

export type DeviceKind = 'pci' | 'vdev' | 'env' | 'auto';

export interface Device {
  kind: DeviceKind;
  /** canonical string: a BDF with its domain and lowercase hex; others as given */
  device: string;
  /** pci: the BDF; vdev: net_<driver><n>; env: the variable; auto: 'auto' */
  name: string;
  /** env: the index into the variable's comma-separated list */
  index?: number;
}

/** Virtual device drivers we know take `key=value` devargs; others pass through unchecked. */
export const KNOWN_VDEV_DRIVERS: readonly string[] = ['pcap', 'null', 'memif', 'af_packet', 'af_xdp', 'tap', 'ring', 'vhost', 'virtio_user'];

export const DEVICE_HELP = 'a PCI address like 0000:01:10.0, a virtual device like net_af_packet0,iface=veth0, env:NAME[i] or auto';

const BDF_RE = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;
const ENV_RE = /^env:([A-Za-z_][A-Za-z0-9_]*)(?:\[(0|[1-9][0-9]*)\])?$/;

/** `0000:01:10.0`, or `01:10.0` (domain 0000 implied), lower-cased; undefined if not a BDF. */
export function normalizeBdf(s: string): string | undefined {
  const m = BDF_RE.exec(s.trim());
  if (!m) return undefined;
  return `${(m[1] ?? '0000').toLowerCase()}:${m[2].toLowerCase()}:${m[3].toLowerCase()}.${m[4]}`;
}

/** DPDK's device name for a device string: the BDF, or the vdev name before the first comma. */
export function deviceName(device: string): string {
  const comma = device.indexOf(',');
  return comma < 0 ? device : device.slice(0, comma);
}

/** The `key=value` arguments after the device name. */
export function devargs(device: string): Map<string, string> {
  const m = new Map<string, string>();
  const comma = device.indexOf(',');
  if (comma < 0) return m;
  for (const kv of device.slice(comma + 1).split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return m;
}

/** The PCI address of a device string (`0000:01:10.0` or `0000:01:10.0,devargs…`), else undefined. */
export function pciAddressOf(device: string): string | undefined {
  return normalizeBdf(deviceName(device));
}

/** An `env:NAME[i]` reference as its variable and index, or undefined when s is not one. */
export function parseEnvRef(s: string): { name: string; index: number } | undefined {
  const m = ENV_RE.exec(s);
  return m ? { name: m[1], index: m[2] === undefined ? 0 : Number(m[2]) } : undefined;
}

/** A DPDK vdev string (net_pcap0,…), as opposed to a PCI address or a device reference. */
export function isVdev(device: string): boolean {
  return /^net_/.test(device) || (!pciAddressOf(device) && !device.startsWith('env:') && device !== 'auto');
}

/**
 * Classifies and normalises a device string: PCI BDFs get the 0000 domain and lowercase hex,
 * vdevs must be net_<driver><n>[,k=v…]. Returns the device, or a problem.
 */
export function parseDevice(s: string): Device | string {
  if (s === 'auto') return { kind: 'auto', device: s, name: s };
  if (s.startsWith('env:')) {
    const r = parseEnvRef(s);
    if (!r) return `${JSON.stringify(s)} is not an env: device; write env:NAME or env:NAME[i] (i counts from 0 in the comma-separated list)`;
    return { kind: 'env', device: s, name: r.name, index: r.index };
  }
  const pci = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])(,.*)?$/.exec(s);
  if (pci) {
    const [, , , dev, , args] = pci;
    if (parseInt(dev, 16) > 0x1f) return `${JSON.stringify(s)} is not a PCI address: device ${dev} is above 1f`;
    const bdf = normalizeBdf(deviceName(s))!;
    return { kind: 'pci', device: `${bdf}${args ?? ''}`, name: bdf };
  }
  if (s.startsWith('net_')) {
    const name = deviceName(s);
    const m = /^net_([a-z_]+?)([0-9]+)$/.exec(name);
    if (!m) return `${JSON.stringify(name)} is not a virtual device name: use net_<driver><n>, e.g. net_pcap0 or net_af_packet1`;
    const comma = s.indexOf(',');
    if (comma >= 0 && KNOWN_VDEV_DRIVERS.includes(m[1])) {
      for (const kv of s.slice(comma + 1).split(',')) {
        if (!/^[A-Za-z_][A-Za-z0-9_-]*=./.test(kv)) {
          return `${JSON.stringify(kv)} in ${JSON.stringify(s)} is not a key=value device argument`;
        }
      }
    }
    return { kind: 'vdev', device: s, name };
  }
  if (/^[a-z][a-z0-9_.-]*$/i.test(s) && s.length <= 15) {
    return `${JSON.stringify(s)} is not a device: use ${DEVICE_HELP} (for a kernel interface, net_af_packet0,iface=${s})`;
  }
  return `${JSON.stringify(s)} is not a device: use ${DEVICE_HELP}`;
}
