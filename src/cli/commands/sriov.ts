import type { CommandModule } from 'yargs';
import { createCommand } from './sriov/create';
import { setCommand } from './sriov/set';
import { showCommand } from './sriov/show';

export const sriovCommand: CommandModule = {
  command: 'sriov <command>',
  describe: 'show SR-IOV PFs and VFs, create VFs, set VF MAC/VLAN/trust/spoofchk',
  builder: (y) => y.command(showCommand).command(createCommand).command(setCommand).demandCommand(1),
  handler: () => {},
};
