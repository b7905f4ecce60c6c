/**
 * EAL argv from the config: a pure function so every flag is unit-tested without DPDK.
 */
import { DpfwdError } from '../errors';
import type { Config } from './types';
import { parseDevice } from '../net/device';

/**
 * Builds rte_eal_init's argv. `devices` are the resolved device strings (env:/auto already
 * replaced by a PCI address or vdev string), one per port in config.ports order. DPDK assigns
 * port ids in its own probe order (PCI bus order, then vdevs), not in argv order: map each port
 * to its id by device name (rte_eth_dev_get_port_by_name with the BDF or the vdev name).
 *
 * Order: dpfwd -l <lcores> --main-lcore <first> (--in-memory | --file-prefix X)
 *        --log-level=<lvl> [--socket-limit=MiB] (-a BDF … | --no-pci) [--vdev S …]
 *        [--no-telemetry] <eal.args…>
 *
 * DPDK's telemetry socket (/run/dpdk/<prefix>/dpdk_telemetry.v2, a second control channel that
 * anyone who can open it may query) is off unless eal.telemetry is true.
 */
export function buildEalArgs(config: Pick<Config, 'eal' | 'ports'>, devices: string[]): string[] {
  const e = config.eal;
  if (devices.length !== config.ports.length) {
    throw new DpfwdError(
      'EINVAL',
      `buildEalArgs: ${devices.length} devices for ${config.ports.length} ports; pass one resolved device per port, in port order`,
    );
  }
  const argv = ['dpfwd', '-l', e.lcores, '--main-lcore', String(e.mainLcore)];
  if (e.inMemory) argv.push('--in-memory');
  else argv.push('--file-prefix', e.filePrefix ?? 'dpfwd');
  argv.push(`--log-level=${e.logLevel}`);
  // -m only preallocates in DPDK's dynamic memory mode; --socket-limit is the cap
  if (e.hugepagesMiB !== undefined) argv.push(`--socket-limit=${e.hugepagesMiB}`);
  const pci: string[] = [];
  const vdev: string[] = [];
  devices.forEach((d, i) => {
    const r = parseDevice(d);
    if (typeof r === 'string') {
      throw new DpfwdError('EINVAL', `port ${config.ports[i].name}: ${r}`);
    }
    if (r.kind === 'pci') pci.push(r.device);
    else if (r.kind === 'vdev') vdev.push(r.device);
    else {
      throw new DpfwdError('EINVAL', `port ${config.ports[i].name}: device ${d} must be resolved to a PCI address or virtual device before EAL init`);
    }
  });
  if (pci.length === 0) argv.push('--no-pci');
  for (const p of pci) argv.push('-a', p);
  for (const v of vdev) argv.push('--vdev', v);
  if (!e.telemetry) argv.push('--no-telemetry');
  argv.push(...e.args);
  return argv;
}
