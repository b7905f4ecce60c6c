import type { CommandModule } from 'yargs';
import { sriovCreate } from '../../../sriov/create';
import { RootArgs, withSysfsRoot } from './common';

interface Args extends RootArgs {
  pf: string;
  count: number;
}

export const createCommand: CommandModule<object, Args> = {
  command: 'create <pf> <count>',
  describe: 'set the number of VFs of a PF through sriov_numvfs (0 removes them)',
  builder: (y) =>
    withSysfsRoot(y)
      .positional('pf', { type: 'string', demandOption: true, describe: 'PF PCI address or netdev name' })
      .positional('count', { type: 'number', demandOption: true, describe: 'number of VFs' }),
  handler: (argv) => {
    const r = sriovCreate({ root: argv['sysfs-root'], pf: argv.pf, count: argv.count });
    if (r.writes.length === 0) process.stdout.write(`${r.pf} already has ${r.after} VFs; nothing to do\n`);
    else process.stdout.write(`${r.pf}: ${r.before} → ${r.after} VFs (${r.writes.join(', ')})\n`);
    for (const v of r.vfs) process.stdout.write(`  vf ${v.index}  ${v.bdf}\n`);
  },
};
