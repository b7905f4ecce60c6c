import type { CommandModule } from 'yargs';
import { DpfwdError } from '../../errors';
import { formatDoctor, loadDoctorConfig, runDoctor } from '../../sriov/doctor';
import { RootArgs, withSysfsRoot } from './sriov/common';

interface Args extends RootArgs {
  config?: string;
  json: boolean;
}

export const doctorCommand: CommandModule<object, Args> = {
  command: 'doctor',
  describe: 'check IOMMU, vfio-pci, hugepages, memlock, Secure Boot and the configured devices; print OK/WARN/FAIL with fixes',
  builder: (y) =>
    withSysfsRoot(y)
      .option('config', { alias: 'c', type: 'string', describe: 'dpfwd config file whose ports and hugepage need to check' })
      .option('json', { alias: 'j', type: 'boolean', default: false, describe: 'print JSON' }),
  handler: (argv) => {
    const config = argv.config ? loadDoctorConfig(argv.config) : undefined;
    const report = runDoctor({ root: argv['sysfs-root'], config });
    process.stdout.write(argv.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctor(report));
    if (report.summary.fail > 0) {
      throw new DpfwdError('EDOCTOR', `${report.summary.fail} check${report.summary.fail === 1 ? '' : 's'} failed; apply the fixes above and run 'dpfwd doctor' again.`);
    }
  },
};
