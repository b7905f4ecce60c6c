/**
 * `dpfwd config check FILE` and `dpfwd run --dry-run`: every problem `run` would refuse the file
 * for, found without touching hardware (no EAL init, no port opened): the configuration's errors
 * (src/config), then the checks `run` makes before EAL init (src/forwarder: devices, hugepages
 * for this config's real need). `dpfwd doctor --config` takes its hugepage need from the same place.
 */
import { Config, ConfigError, parseConfig } from '../config';
import { DpfwdError } from '../errors';
import { hugepageNeed, hugepagesFree, preflight } from '.';

export interface CheckReport {
  file: string;
  /** one line each: `path: problem` */
  errors: string[];
  warnings: string[];
  /** present when the file is a valid configuration */
  summary?: { ports: number; workers: number; routes: number };
  hugepages?: { needMiB: number; freeMiB?: number; reservedMiB?: number; parts: { what: string; MiB: number }[] };
}

const MiB = (n: number) => Math.ceil(n / 1048576);

/** Checks a config's text as `run` would, short of touching hardware. */
export function checkConfig(text: string, file: string, opts: { env?: Record<string, string | undefined>; sysRoot?: string } = {}): CheckReport {
  let config: Config;
  try {
    config = parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return { file, errors: e.errors, warnings: [] };
    throw e;
  }
  const { devices, problems } = preflight(config, opts.env ?? process.env, opts.sysRoot ?? '/');
  const need = hugepageNeed(config, devices);
  const have = hugepagesFree(config, opts.sysRoot ?? '/');
  return {
    file,
    errors: problems.flatMap((p) => p.text.split('\n')),
    warnings: config.warnings,
    summary: { ports: config.ports.length, workers: config.workers.length, routes: config.routes.length },
    hugepages: {
      needMiB: MiB(need.bytes),
      ...(typeof have === 'string' ? {} : { freeMiB: Math.floor(have.freeBytes / 1048576), reservedMiB: Math.floor(have.totalBytes / 1048576) }),
      parts: need.parts.map((p) => ({ what: p.what, MiB: Math.round((p.bytes / 1048576) * 10) / 10 })),
    },
  };
}

/** The report as text: the need by part, then warnings; errors are the caller's to raise (checkError). */
export function formatCheck(r: CheckReport): string {
  const out: string[] = [];
  if (r.summary && r.hugepages) {
    const h = r.hugepages;
    out.push(
      `${r.file}: ${r.errors.length ? `${r.errors.length} problem${r.errors.length === 1 ? '' : 's'}` : 'OK'}: ${r.summary.ports} ports, ${r.summary.workers} workers, ${r.summary.routes} routes; ` +
        `hugepages: needs ${h.needMiB} MiB${h.freeMiB !== undefined ? `, ${h.freeMiB} MiB free of ${h.reservedMiB} MiB reserved` : ''}`,
    );
    for (const p of h.parts) out.push(`  ${String(p.MiB).padStart(8)} MiB  ${p.what}`);
  }
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

/** The refusal `run` would print, every problem on its own line; undefined when there is none. */
export function checkError(r: CheckReport): DpfwdError | undefined {
  const n = r.errors.length;
  if (!n) return undefined;
  return new DpfwdError('ECONFIG', `${r.file}: ${n} error${n === 1 ? '' : 's'} (dpfwd run would refuse this file):\n${r.errors.join('\n')}`);
}
