/** A FIB writer that takes every write and keeps nothing: for control-plane unit tests over a real RIB. */
import { FibWriter } from '../../src/routing/rib';

export class NullFib implements FibWriter {
  fibAdd(): void {}
  fibDel(): void {}
  fibAddBulk(addrs: Uint32Array): number {
    return addrs.length;
  }
  nexthopSet(): void {}
  nexthopActionWithPort(): void {}
  groupSet(): void {}
  groupDel(): void {}
}
