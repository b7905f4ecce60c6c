import * as fs from 'fs';
import { DpfwdError } from '../errors';
import { normalizeBdf, parseEnvRef, pciAddressOf } from '../net/device';

/**
 * Device references for pods. The SR-IOV network device plugin hands a container its VFs in
 * environment variables named after the resource: `intel.com/sriov_netdevice` →
 * `PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE=0000:3b:02.1,0000:3b:02.3`. A port's `device` may be
 *   `env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[0]`  the 1st address of that variable (`env:X` = `env:X[0]`)
 *   `auto`                                         the next address, across every PCIDEVICE_* variable
 *                                                  sorted by name, that no other port uses
 * Anything else (a BDF, a DPDK vdev string) is returned unchanged.
 */
export function resolveDeviceRefs(devices: string[], env: Record<string, string | undefined>): string[] {
  const out: (string | undefined)[] = devices.map((d, i) => (d === 'auto' ? undefined : resolveOne(d, i, env)));
  const used = new Set(out.filter((d): d is string => d !== undefined).map((d) => pciAddressOf(d) ?? d));
  const pool = pciDeviceVars(env).flatMap(([, v]) => splitList(v));
  devices.forEach((d, i) => {
    if (d !== 'auto') return;
    const pick = pool.find((a) => !used.has(normalizeBdf(a) ?? a));
    if (pick === undefined) {
      throw new DpfwdError(
        'ECONFIG',
        `ports[${i}].device: auto found no unused device address: ${describeEnv(env)}${used.size ? `, and the other ports already use ${[...used].join(', ')}` : ''}. ` +
          `Request one more device for the pod (resources.limits of the SR-IOV resource) or name the port's device explicitly.`,
      );
    }
    used.add(normalizeBdf(pick) ?? pick);
    out[i] = pick;
  });
  return out as string[];
}

function resolveOne(d: string, i: number, env: Record<string, string | undefined>): string {
  if (!d.startsWith('env:')) return d;
  const m = parseEnvRef(d);
  if (!m) {
    throw new DpfwdError(
      'ECONFIG',
      `ports[${i}].device: ${JSON.stringify(d)} is not a device reference; write env:PCIDEVICE_<RESOURCE>[<index>], e.g. env:PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE[0].`,
    );
  }
  const { name, index } = m;
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new DpfwdError(
      'ECONFIG',
      `ports[${i}].device: ${d} names the environment variable ${name}, which is not set: ${describeEnv(env)}. ` +
        `The SR-IOV device plugin sets PCIDEVICE_<RESOURCE NAME, upper-cased, '.' and '/' as '_'> only when the container requests that resource in resources.limits; check the resource name and the pod spec.`,
    );
  }
  const list = splitList(value);
  if (index >= list.length) {
    throw new DpfwdError(
      'ECONFIG',
      `ports[${i}].device: ${d} asks for entry ${index} but ${name}=${value} holds ${list.length} address${list.length === 1 ? '' : 'es'} (indexes 0–${list.length - 1}). Request more of that resource in the pod's resources.limits, or use a smaller index.`,
    );
  }
  return list[index];
}

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function pciDeviceVars(env: Record<string, string | undefined>): [string, string][] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[0].startsWith('PCIDEVICE_') && typeof e[1] === 'string')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function describeEnv(env: Record<string, string | undefined>): string {
  const vars = pciDeviceVars(env);
  return vars.length
    ? `the environment has ${vars.map(([k, v]) => `${k}=${v}`).join(', ')}`
    : 'the environment has no PCIDEVICE_* variables (no device-plugin resource was allocated to this container)';
}

/** One entry of the Multus `k8s.v1.cni.cncf.io/network-status` annotation. */
export interface NetworkStatus {
  name: string;
  interface?: string;
  ips: string[];
  mac?: string;
  default?: boolean;
  deviceInfo?: { type?: string; pci?: { pciAddress: string; pfPciAddress?: string } };
}

export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

/**
 * Reads the network-status annotation from a downward API file: either the `annotations` file
 * (lines `key="json-escaped value"`) or a file holding that one annotation's raw JSON.
 */
export function readNetworkStatus(path: string): NetworkStatus[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new DpfwdError(
      'ECONFIG',
      `cannot read the pod annotations file ${path} (${(e as NodeJS.ErrnoException).code ?? e}): mount the downward API into the pod (volume downwardAPI, items path: annotations, fieldRef metadata.annotations) at that path.`,
    );
  }
  return parseNetworkStatus(text, path);
}

export function parseNetworkStatus(text: string, where = 'annotations'): NetworkStatus[] {
  let raw: string | undefined;
  if (text.trim().startsWith('[')) raw = text.trim();
  else {
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq < 0 || line.slice(0, eq).trim() !== NETWORK_STATUS_ANNOTATION) continue;
      try {
        raw = JSON.parse(line.slice(eq + 1).trim()) as string;
      } catch {
        throw new DpfwdError('ECONFIG', `${where}: the ${NETWORK_STATUS_ANNOTATION} line is not a quoted string; is this a downward API annotations file?`);
      }
    }
  }
  if (raw === undefined) {
    throw new DpfwdError(
      'ECONFIG',
      `${where} has no ${NETWORK_STATUS_ANNOTATION} annotation: Multus writes it once the pod's networks are attached. Check the pod has the k8s.v1.cni.cncf.io/networks annotation and that Multus is the cluster's CNI.`,
    );
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new DpfwdError('ECONFIG', `${where}: ${NETWORK_STATUS_ANNOTATION} is not valid JSON (${(e as Error).message}).`);
  }
  if (!Array.isArray(v)) throw new DpfwdError('ECONFIG', `${where}: ${NETWORK_STATUS_ANNOTATION} should be a JSON array of networks.`);
  return v.map((o: Record<string, unknown>) => {
    const e: NetworkStatus = { name: String(o.name ?? ''), ips: Array.isArray(o.ips) ? o.ips.map(String) : [] };
    if (typeof o.interface === 'string') e.interface = o.interface;
    if (typeof o.mac === 'string') e.mac = o.mac;
    if (typeof o.default === 'boolean') e.default = o.default;
    const di = o['device-info'] ?? o.deviceInfo;
    if (di && typeof di === 'object') {
      const d = di as { type?: unknown; pci?: Record<string, unknown> };
      e.deviceInfo = {};
      if (typeof d.type === 'string') e.deviceInfo.type = d.type;
      if (d.pci && typeof d.pci['pci-address'] === 'string') {
        e.deviceInfo.pci = { pciAddress: d.pci['pci-address'] as string };
        if (typeof d.pci['pf-pci-address'] === 'string') e.deviceInfo.pci.pfPciAddress = d.pci['pf-pci-address'] as string;
      } else if (d.pci && typeof d.pci.pciAddress === 'string') e.deviceInfo.pci = { pciAddress: d.pci.pciAddress };
    }
    return e;
  });
}

/**
 * The IPs SR-IOV CNI allocated for the network attached with this VF. SR-IOV CNI does not apply
 * them to a vfio-pci VF (there is no netdev), so dpfwd takes them from here. [] if none.
 */
export function ipsForPciAddress(statuses: NetworkStatus[], pciAddress: string): string[] {
  const want = normalizeBdf(pciAddress) ?? pciAddress;
  const hit = statuses.find((s) => s.deviceInfo?.pci && (normalizeBdf(s.deviceInfo.pci.pciAddress) ?? s.deviceInfo.pci.pciAddress) === want);
  return hit ? [...hit.ips] : [];
}

export interface AddressConflict {
  path: string; // ports[i].device
  message: string; // "0000:01:10.0 is also used by port wan"
  text: string; // "ports[i].device: 0000:01:10.0 is also used by port wan"
}

/** PCI addresses used by two ports; one entry per later duplicate, naming the first port. */
export function addressConflicts(ports: { name: string; device: string }[]): AddressConflict[] {
  const seen = new Map<string, string>();
  const out: AddressConflict[] = [];
  ports.forEach((p, i) => {
    const bdf = pciAddressOf(p.device);
    if (!bdf) return;
    const first = seen.get(bdf);
    if (first !== undefined) {
      const path = `ports[${i}].device`;
      const message = `${bdf} is also used by port ${first}`;
      out.push({ path, message, text: `${path}: ${message}` });
    } else seen.set(bdf, p.name);
  });
  return out;
}
