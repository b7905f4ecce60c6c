/**
 * The router's interfaces: each port's untagged interface (index = port index) and its VLAN
 * sub-interfaces (`west.100`, indices from the dataplane's MAX_PORTS up). One record per
 * interface, shared by the RIB (names ↔ indices, egress of next hops), the control plane (MAC,
 * MTU, addresses for ARP and ICMP), the API and metrics. The interface index is the one the
 * dataplane's next-hop words, punts and inject use.
 */
import { DpfwdError } from '../errors';
import type { Mac } from '../net/mac';

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

/** A sub-interface name: `<port>.<vlan>`. */
export const SUBIF_NAME_RE = /^([a-z][a-z0-9_-]{0,14})\.([1-9][0-9]{0,3})$/;

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

  /** The VLAN sub-interfaces of a port. */
  subifsOf(port: number): Iface[] {
    return this.list().filter((i) => i.port === port && i.vlan !== 0);
  }
}
