/**
 * Preload (node --require) for lifecycle.test: when `dpfwd run` writes its readiness line
 * ("control socket PATH") to stderr, appends how many listeners SIGTERM, SIGINT and SIGHUP have
 * at that moment. Nothing else changes. The log writes each line with fs.writeSync(2, ...).
 */
import fs from 'fs'; // the module object itself (log.ts reads writeSync from it), not a namespace copy

const writeSync = fs.writeSync;
(fs as { writeSync: unknown }).writeSync = (fd: number, data: unknown, ...rest: unknown[]) => {
  const n = (writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  if (fd === 2 && String(data).includes('control socket ')) {
    const c = (s: NodeJS.Signals) => process.listenerCount(s);
    writeSync(2, `signal listeners at readiness: SIGTERM=${c('SIGTERM')} SIGINT=${c('SIGINT')} SIGHUP=${c('SIGHUP')}\n`);
  }
  return n;
};
