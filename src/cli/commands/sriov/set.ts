import type { CommandModule } from 'yargs';
import { sriovSet, SetOptions } from '../../../sriov/set';
import { RootArgs, withSysfsRoot } from './common';

type Args = RootArgs & Omit<SetOptions, 'root' | 'runner'>;

export const setCommand: CommandModule<object, Args> = {
  command: 'set <pf> <vf>',
  describe: "set a VF's MAC, port VLAN, trust and spoof check through its PF (ip link set PF vf N …)",
  builder: (y) =>
    withSysfsRoot(y)
      .positional('pf', { type: 'string', demandOption: true, describe: 'PF PCI address or netdev name' })
      .positional('vf', { type: 'number', demandOption: true, describe: 'VF index (dpfwd sriov show)' })
      .option('mac', { type: 'string', describe: 'administrative MAC of the VF' })
      .option('vlan', { type: 'number', describe: 'port VLAN 1–4095 tagged by the NIC (0 removes it)' })
      .option('qos', { type: 'number', describe: 'VLAN priority 0–7 (with --vlan)' })
      .option('trust', { choices: ['on', 'off'] as const, describe: 'trusted VF: may set promiscuous/allmulti and change its MAC' })
      .option('spoofchk', { choices: ['on', 'off'] as const, describe: 'drop frames whose source MAC is not the VF’s' }),
  // option rules live in checkSetArgs, applied by sriovSet (DpfwdError EINVAL)
  handler: (argv) => {
    const r = sriovSet({
      root: argv['sysfs-root'],
      pf: argv.pf,
      vf: argv.vf,
      mac: argv.mac,
      vlan: argv.vlan,
      qos: argv.qos,
      trust: argv.trust,
      spoofchk: argv.spoofchk,
    });
    process.stdout.write(`${r.argv.join(' ')}\n`);
  },
};
