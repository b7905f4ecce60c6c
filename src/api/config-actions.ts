/**
 * The control socket's config operations: config.show, config.diff, config.save, config.reload.
 * The forwarder does the work (src/forwarder/reload.ts); these check arguments and shape replies.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { parseConfig } from '../config';
import { DpfwdError } from '../errors';
import type { ReloadPlan, ReloadReport } from '../forwarder';
import type { Ctx } from './actions';

/** What a forwarder offers for its configuration (the Forwarder has all of it). */
export interface ConfigOps {
  config: { source: string };
  runningConfig(): string;
  planReload(): ReloadPlan;
  reload(): ReloadReport;
}

function ops(ctx: Ctx): ConfigOps {
  const f = ctx.fwd as unknown as Partial<ConfigOps>;
  if (!f.runningConfig || !f.planReload || !f.reload) throw new DpfwdError('ENOSYS', 'this server has no configuration to show or reload');
  return f as ConfigOps;
}

/** `config show`: the running configuration, as YAML text and as the same data. */
export function configShow(ctx: Ctx) {
  const yaml = ops(ctx).runningConfig();
  return { file: ops(ctx).config.source, yaml, config: parse(yaml) };
}

/** `config diff`: what a reload would do, running → file: `-` lines go, `+` lines come. */
export function configDiff(ctx: Ctx) {
  const p = ops(ctx).planReload();
  return { file: p.file, restart: p.restart, settings: p.settings, lines: p.lines };
}

/**
 * `config save [FILE]`: writes the running configuration, validated first, atomically (a temp
 * file in the same directory, fsync, rename, fsync of the directory), by default over the file
 * dpfwd was started with. FILE must be an absolute path (the CLI resolves it) in the directory of
 * that file: the forwarder runs as root, and the socket's clients must not make it write elsewhere.
 */
export function configSave(ctx: Ctx, a: Record<string, unknown>) {
  const o = ops(ctx);
  const given = a.file;
  if (given !== undefined && (typeof given !== 'string' || !path.isAbsolute(given))) {
    throw new DpfwdError('EINVAL', `file must be an absolute path, got ${JSON.stringify(given)}`);
  }
  const own = path.resolve(o.config.source);
  const file = (given as string | undefined) ?? own;
  // the forwarder writes as itself (root): only next to its own config file, never where a
  // client of the socket could not write itself (/etc/cron.d, a profile script, …)
  if (path.dirname(path.resolve(file)) !== path.dirname(own)) {
    throw new DpfwdError('EINVAL', `config save writes only into ${path.dirname(own)} (the directory of the config file dpfwd runs); got ${file}. Use dpfwd config show > FILE to write elsewhere`);
  }
  const text = o.runningConfig();
  parseConfig(text, `running configuration for ${file}`); // what is saved must start a forwarder
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  let mode = 0o640;
  try {
    mode = fs.statSync(file).mode & 0o7777;
  } catch { /* a new file */ }
  try {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch (e) {
    try { fs.unlinkSync(tmp); } catch { /* not made */ }
    const err = e as NodeJS.ErrnoException;
    throw new DpfwdError(err.code ?? 'EIO', `cannot write ${file}: ${err.code === 'ENOENT' ? `directory ${dir} does not exist` : err.code === 'EACCES' ? 'permission denied' : err.message}`);
  }
  return { file, bytes: Buffer.byteLength(text) };
}

/** `reload` (and SIGHUP): the file's changes applied live, all or nothing. */
export function configReload(ctx: Ctx) {
  return ops(ctx).reload();
}

export const CONFIG_ACTIONS = {
  'config.show': configShow,
  'config.diff': configDiff,
  'config.save': configSave,
  'config.reload': configReload,
};
