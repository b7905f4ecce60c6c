import type { Argv } from 'yargs';

export interface RootArgs {
  'sysfs-root': string;
}

/** --sysfs-root: every SR-IOV/VFIO command reads and writes under it (tests point it at a fake tree). */
export function withSysfsRoot<T>(y: Argv<T>): Argv<T & RootArgs> {
  return y.option('sysfs-root', {
    type: 'string',
    default: '/',
    describe: 'filesystem root holding sys/, proc/ and dev/ (for tests and chroots)',
  }) as Argv<T & RootArgs>;
}
