import type { CommandModule } from 'yargs';
import { DpfwdError } from '../../errors';
import { DoctorCheck, formatDoctor, loadDoctorConfig, runDoctor } from '../../sriov/doctor';
import { readConfigText } from '../../config';
import { checkConfig } from '../../forwarder/check';
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
    const extra: DoctorCheck[] = [];
    if (argv.config && config) {
      // the config as `run` reads it (dpfwd config check): its errors, and its real hugepage need
      const c = checkConfig(readConfigText(argv.config), argv.config, { sysRoot: argv['sysfs-root'] ? `${argv['sysfs-root'].replace(/\/$/, '')}/` : '/' });
      if (!c.summary) {
        for (const e of c.errors)
          extra.push({ name: 'config', status: 'FAIL', message: e, fix: `Fix the file; 'dpfwd config check ${argv.config}' lists every error.` });
      } else if (c.hugepages) {
        config.hugepagesMiB = c.hugepages.needMiB;
        config.hugepagesFrom = `by this config: ${c.hugepages.parts
          .filter((p) => p.MiB >= 1)
          .map((p) => `${p.what} ${p.MiB} MiB`)
          .join(', ')}`;
      }
    }
    const report = runDoctor({ root: argv['sysfs-root'], config, extra });
    process.stdout.write(argv.json ? JSON.stringify(report, null, 2) + '\n' : formatDoctor(report));
    if (report.summary.fail > 0) {
      throw new DpfwdError(
        'EDOCTOR',
        `${report.summary.fail} check${report.summary.fail === 1 ? '' : 's'} failed; apply the fixes above and run 'dpfwd doctor' again.`,
      );
    }
  },
};
