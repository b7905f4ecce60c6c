/** The machine a result was measured on. */
import * as fs from 'fs';
import * as os from 'os';
import { capture } from './proc';

export interface Machine {
  cpu: string;
  cores: number;
  threadsPerCore: number | null;
  kernel: string;
  dpdk: string;
  node: string;
  memoryGiB: number;
  hostname: string;
  hugepages2M: number;
}

export function machine(): Machine {
  const l = capture('lscpu', []);
  const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(l)?.[1].trim();
  const hp = (() => {
    try {
      return Number(fs.readFileSync('/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages', 'utf8'));
    } catch {
      return 0;
    }
  })();
  return {
    cpu: field('Model name') ?? os.cpus()[0]?.model ?? 'unknown',
    cores: Number(field('CPU\\(s\\)') ?? os.cpus().length),
    threadsPerCore: field('Thread\\(s\\) per core') ? Number(field('Thread\\(s\\) per core')) : null,
    kernel: `${os.type()} ${os.release()}`,
    dpdk: capture('pkg-config', ['--modversion', 'libdpdk']).trim() || 'unknown',
    node: process.version,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    hostname: os.hostname(),
    hugepages2M: hp,
  };
}
