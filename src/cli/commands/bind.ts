import type { CommandModule } from 'yargs';
import { DpfwdError } from '../../errors';
import { bindDevice, BindTarget, PersistMode } from '../../sriov/bind';
import { RootArgs, withSysfsRoot } from './sriov/common';

interface Args extends RootArgs {
  device: string;
  driver: BindTarget;
  force: boolean;
  persist?: string;
}

export const bindCommand: CommandModule<object, Args> = {
  command: 'bind <device> <driver>',
  describe: 'bind a PCI function to vfio-pci, or back to its kernel driver (driver_override, unbind, drivers_probe)',
  builder: (y) =>
    withSysfsRoot(y)
      .positional('device', { type: 'string', demandOption: true, describe: 'PCI address or netdev name' })
      .positional('driver', { choices: ['vfio-pci', 'kernel'] as const, demandOption: true })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'unbind even if the host uses the device (default route, addresses) or it is a PF with VFs',
      })
      .option('persist', {
        type: 'string',
        describe: "keep the binding across reboots with driverctl: '--persist' prints the command, '--persist apply' runs it",
        coerce: (v: string) => (v === '' || v === 'print' ? 'print' : v),
      }),
  handler: (argv) => {
    if (argv.persist !== undefined && argv.persist !== 'print' && argv.persist !== 'apply') {
      throw new DpfwdError('EINVAL', `--persist takes nothing (print the driverctl command) or 'apply' (run it), not '${argv.persist}'.`);
    }
    const r = bindDevice({
      root: argv['sysfs-root'],
      device: argv.device,
      target: argv.driver,
      force: argv.force,
      persist: argv.persist as PersistMode | undefined,
    });
    if (r.writes.length === 0) process.stdout.write(`${r.bdf} is already on ${r.after}\n`);
    else process.stdout.write(`${r.bdf}: ${r.before ?? 'no driver'} → ${r.after}\n`);
    for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
    if (r.persist && !r.persist.applied) process.stdout.write(`to keep it across reboots: ${r.persist.argv.join(' ')}\n`);
    if (r.persist?.applied) process.stdout.write(`persisted: ${r.persist.argv.join(' ')}\n`);
  },
};
