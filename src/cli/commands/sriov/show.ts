import type { CommandModule } from 'yargs';
import { formatShow, sriovShow } from '../../../sriov/show';
import { spawnRunner } from '../../../sriov/io';
import { RootArgs, withSysfsRoot } from './common';

interface Args extends RootArgs {
  json: boolean;
}

export const showCommand: CommandModule<object, Args> = {
  command: 'show',
  describe: 'list Ethernet PFs and their VFs: address, ID, driver, netdev, NUMA node, IOMMU group, VF settings',
  builder: (y) => withSysfsRoot(y).option('json', { alias: 'j', type: 'boolean', default: false, describe: 'print JSON' }),
  handler: (argv) => {
    const root = argv['sysfs-root'];
    // VF MAC/VLAN/trust come from this host's `ip`; a fake tree has no such host
    const res = sriovShow({ root, runner: root === '/' ? spawnRunner : undefined });
    process.stdout.write(argv.json ? JSON.stringify(res, null, 2) + '\n' : formatShow(res, root));
  },
};
