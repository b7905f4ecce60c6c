import { DpfwdError } from '../errors';
import { CommandRunner, spawnRunner } from './io';
import { resolvePciRef, SysRoot } from './sysfs';
import { isMulticastMac, Mac, parseMac } from '../net/mac';

export interface SetOptions {
  root?: string;
  pf: string;
  vf: number;
  mac?: string;
  vlan?: number;
  qos?: number;
  trust?: 'on' | 'off';
  spoofchk?: 'on' | 'off';
  runner?: CommandRunner;
}

/** Cross-option rules of `sriov set`, pure so they have their own tests. Returns an error message or true. */
export function checkSetArgs(a: Pick<SetOptions, 'vf' | 'mac' | 'vlan' | 'qos' | 'trust' | 'spoofchk'>): true | string {
  if (!Number.isInteger(a.vf) || a.vf < 0) return `the VF index must be a whole number ≥ 0, not ${a.vf}`;
  if (a.mac === undefined && a.vlan === undefined && a.trust === undefined && a.spoofchk === undefined) {
    return 'name at least one of --mac, --vlan, --trust, --spoofchk';
  }
  if (a.mac !== undefined) {
    let m: Mac;
    try {
      m = parseMac(a.mac);
    } catch {
      return `--mac ${a.mac} is not a MAC address like 02:00:00:00:01:01`;
    }
    if (isMulticastMac(m)) return `--mac ${a.mac} is a multicast address; a VF needs a unicast one (first octet even, e.g. 02:…)`;
  }
  if (a.vlan !== undefined && (!Number.isInteger(a.vlan) || a.vlan < 0 || a.vlan > 4095)) {
    return `--vlan ${a.vlan} is outside 0–4095 (0 removes the port VLAN)`;
  }
  if (a.qos !== undefined && (a.vlan === undefined || !Number.isInteger(a.qos) || a.qos < 0 || a.qos > 7)) {
    return '--qos needs --vlan and a priority 0–7';
  }
  return true;
}

/** The `ip link set` command line for these settings (one command, settings in the order given). */
export function setArgv(pfNetdev: string, a: Omit<SetOptions, 'pf' | 'root' | 'runner'>): string[] {
  const argv = ['ip', 'link', 'set', 'dev', pfNetdev, 'vf', String(a.vf)];
  if (a.mac !== undefined) argv.push('mac', a.mac.toLowerCase());
  if (a.vlan !== undefined) argv.push('vlan', String(a.vlan), ...(a.qos !== undefined ? ['qos', String(a.qos)] : []));
  if (a.spoofchk !== undefined) argv.push('spoofchk', a.spoofchk);
  if (a.trust !== undefined) argv.push('trust', a.trust);
  return argv;
}

/**
 * `dpfwd sriov set PF VF …`: VF MAC, port VLAN, spoof check and trust through the PF
 * (`ip link set PF vf N …`). Works whatever driver the VF is bound to, vfio-pci included.
 */
export function sriovSet(opts: SetOptions): { argv: string[] } {
  const ok = checkSetArgs(opts);
  if (ok !== true) throw new DpfwdError('EINVAL', `${ok}.`);
  const sys = new SysRoot(opts.root);
  const pf = resolvePciRef(sys, opts.pf);
  if (pf.physfn) {
    throw new DpfwdError(
      'EINVAL',
      `${pf.bdf} is a VF; VF settings are made through its PF: 'dpfwd sriov set ${pf.physfn} <index> …' ('dpfwd sriov show' lists each VF's index).`,
    );
  }
  if (pf.netdevs.length === 0) {
    throw new DpfwdError(
      'ENODEV',
      `PF ${pf.bdf} has no network interface (driver: ${pf.driver ?? 'none'}), and VF settings go through the PF's netdev. Keep the PF on its kernel driver ('dpfwd bind ${pf.bdf} kernel').`,
    );
  }
  const numVfs = pf.numVfs ?? 0;
  if (opts.vf >= numVfs) {
    throw new DpfwdError(
      'ERANGE',
      `PF ${pf.bdf} (${pf.netdevs[0]}) has ${numVfs} VFs, so VF ${opts.vf} does not exist; VF indexes run from 0 to ${numVfs - 1}${numVfs === 0 ? " (create VFs first: 'dpfwd sriov create " + pf.bdf + " N')" : ''}.`,
    );
  }
  const argv = setArgv(pf.netdevs[0], opts);
  const r = (opts.runner ?? spawnRunner)(argv);
  if (r.status === 127) {
    throw new DpfwdError('ENOENT', `'ip' (iproute2) is not installed; install it ('apt-get install iproute2') and retry.`);
  }
  if (r.status !== 0) {
    const err = r.stderr.trim() || r.stdout.trim();
    let hint = 'Check the PF driver supports this setting (dmesg | tail shows its reason).';
    if (/not permitted/i.test(err))
      hint = 'Run as root (CAP_NET_ADMIN); some PF drivers also refuse a MAC change while the VF is up in a guest — stop the VF user first.';
    else if (/not supported/i.test(err)) hint = `The PF driver (${pf.driver}) does not support this VF setting; leave it out or update the driver.`;
    else if (/invalid argument/i.test(err)) hint = 'The PF driver rejected the value (e.g. a MAC already used by another VF, or VLAN/QoS out of its range).';
    throw new DpfwdError('EVFSET', `'${argv.join(' ')}' failed: ${err || `exit status ${r.status}`}. ${hint}`);
  }
  return { argv };
}
