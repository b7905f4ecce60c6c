/**
 * The router's interfaces: each port's untagged interface (index = port index) and its VLAN
 * sub-interfaces (`west.100`, indices from the dataplane's MAX_PORTS up). One record per
 * interface, shared by the RIB (names ↔ indices, egress of next hops), the control plane (MAC,
 * MTU, addresses for ARP and ICMP), the API and metrics. The interface index is the one the
 * dataplane's next-hop words, punts and inject use.
 */
import { DpfwdError } from '../errors';
import type { Mac } from '../net/mac';
import { IFACE_NAME_RE } from './routes';

export interface Iface {
  /** the dataplane's interface index */
  index: number;
  /** `west`, or `west.100` for a VLAN sub-interface */
  name: string;
  /** the physical port's index */
  port: number;
  /** 802.1Q VLAN id, 0 for the port's untagged interface */
  vlan: number;
  /** the port's MAC (sub-interfaces share it) */
  mac: Mac;
  mtu: number;
}

/** What creating a sub-interface needs of the dataplane (the Dataplane satisfies it). */
export interface SubifWriter {
  ifaceSet(index: number, conf: { port: number; vlan: number; mtu: number }): void;
  ifaceDel(index: number): void;
}

/** The dataplane's index space: sub-interfaces take [maxPorts, maxPorts + maxSubifs). */
export interface SubifSpace {
  maxPorts: number;
  maxSubifs: number;
}

export class Interfaces {
  private readonly byIndex = new Map<number, Iface>();
  private readonly byName = new Map<string, Iface>();

  constructor(list: readonly Iface[] = []) {
    for (const i of list) this.add(i);
  }

  add(i: Iface): void {
    if (this.byName.has(i.name)) throw new DpfwdError('EEXIST', `interface ${i.name} exists`);
    if (this.byIndex.has(i.index)) throw new DpfwdError('EEXIST', `interface index ${i.index} is taken by ${this.byIndex.get(i.index)!.name}`);
    this.byIndex.set(i.index, i);
    this.byName.set(i.name, i);
  }

  delete(name: string): Iface {
    const i = this.find(name);
    if (!i) throw new DpfwdError('ENOENT', `no interface ${name}`);
    this.byIndex.delete(i.index);
    this.byName.delete(name);
    return i;
  }

  get(index: number): Iface | undefined {
    return this.byIndex.get(index);
  }

  find(name: string): Iface | undefined {
    return this.byName.get(name);
  }

  /** The index of a named interface; an unknown name is ENODEV listing them all. */
  index(name: string): number {
    const i = this.byName.get(name);
    if (!i) throw new DpfwdError('ENODEV', `unknown port ${name}; ports are: ${this.names().join(', ')}`);
    return i.index;
  }

  name(index: number): string {
    return this.byIndex.get(index)?.name ?? `#${index}`;
  }

  /** Every interface in index order: the ports' untagged ones, then the sub-interfaces. */
  list(): Iface[] {
    return [...this.byIndex.values()].sort((a, b) => a.index - b.index);
  }

  names(): string[] {
    return this.list().map((i) => i.name);
  }

  /** The ports' untagged interfaces (index = port index), in order. */
  ports(): Iface[] {
    return this.list().filter((i) => i.vlan === 0);
  }

  /**
   * Creates VLAN sub-interface `name` of a port in the dataplane and here: the lowest free
   * index, the port's MAC, an MTU no larger than the port's. Errors name the cause and fix.
   */
  addSubif(dp: SubifWriter, space: SubifSpace, o: { name?: string; port: string; vlan: number; mtu?: number }): Iface {
    const parent = this.byName.get(o.port);
    if (!parent || parent.vlan !== 0)
      throw new DpfwdError(
        'ENODEV',
        `unknown port ${o.port}; ports are: ${this.ports()
          .map((p) => p.name)
          .join(', ')}`,
      );
    if (!Number.isInteger(o.vlan) || o.vlan < 1 || o.vlan > 4094)
      throw new DpfwdError('EINVAL', `VLAN ${o.vlan} is not a VLAN id (1-4094; 0 is a priority tag, 4095 reserved)`);
    const name = o.name ?? `${o.port}.${o.vlan}`;
    if (!IFACE_NAME_RE.test(name)) {
      throw new DpfwdError(
        'EINVAL',
        `${JSON.stringify(name)} is not a valid interface name: use a port name, optionally followed by .<number> (like west.100)`,
      );
    }
    if (this.byName.has(name)) throw new DpfwdError('EEXIST', `interface ${name} exists`);
    const same = this.subifsOf(parent.port).find((i) => i.vlan === o.vlan);
    if (same) throw new DpfwdError('EEXIST', `port ${o.port} already has VLAN ${o.vlan} (interface ${same.name})`);
    const mtu = o.mtu ?? parent.mtu;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > parent.mtu)
      throw new DpfwdError('EINVAL', `MTU ${mtu} of ${name}: a sub-interface's MTU is 68 to its port's (${parent.mtu})`);
    let index = space.maxPorts;
    while (this.byIndex.has(index)) index++;
    if (index >= space.maxPorts + space.maxSubifs) {
      throw new DpfwdError('ENOSPC', `all ${space.maxSubifs} sub-interfaces are in use (DP_MAX_SUBIFS); delete one first`);
    }
    dp.ifaceSet(index, { port: parent.port, vlan: o.vlan, mtu });
    const i: Iface = { index, name, port: parent.port, vlan: o.vlan, mac: parent.mac, mtu };
    this.add(i);
    return i;
  }

  /** Removes a sub-interface from the dataplane and here (the caller has emptied it). */
  delSubif(dp: SubifWriter, name: string): Iface {
    const i = this.byName.get(name);
    if (!i) throw new DpfwdError('ENODEV', `unknown interface ${name}; interfaces are: ${this.names().join(', ')}`);
    if (i.vlan === 0) throw new DpfwdError('EINVAL', `${name} is a port's untagged interface, not a sub-interface; ports are set in the config`);
    dp.ifaceDel(i.index);
    return this.delete(name);
  }

  /** The VLAN sub-interfaces of a port. */
  subifsOf(port: number): Iface[] {
    return this.list().filter((i) => i.port === port && i.vlan !== 0);
  }
}
