import type { CommandModule } from 'yargs';
import { DpfwdError } from '../../errors';
import { createCommand } from './sriov/create';
import { setCommand } from './sriov/set';
import { showCommand } from './sriov/show';

export const sriovCommand: CommandModule<object, { command: string }> = {
  command: 'sriov <command>',
  describe: 'show SR-IOV PFs and VFs, create VFs, set VF MAC/VLAN/trust/spoofchk',
  builder: (y) => y.command(showCommand).command(createCommand).command(setCommand) as never,
  // reached only when no subcommand matched
  handler: (argv) => {
    throw new DpfwdError(
      'EINVAL',
      `'sriov ${argv.command}' is not a command: use 'dpfwd sriov show', 'dpfwd sriov create PF N' or 'dpfwd sriov set PF VF …' (see 'dpfwd sriov --help').`,
    );
  },
};
