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
import type { Conn, Ctx } from './actions';
import { replaceRefusal } from './peer-access';

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
 * that file. The forwarder runs as root; a client that is not root (a member of the socket's
 * group) may only replace a file it could replace itself (src/api/peer-access.ts: write on the
 * directory and on the file), so the socket gives it no write it did not have. The file keeps its
 * owner, group and mode; a new one is the client's, mode 0640.
 */
export function configSave(ctx: Ctx, a: Record<string, unknown>, conn?: Conn) {
  const o = ops(ctx);
  const given = a.file;
  if (given !== undefined && (typeof given !== 'string' || !path.isAbsolute(given))) {
    throw new DpfwdError('EINVAL', `file must be an absolute path, got ${JSON.stringify(given)}`);
  }
  const own = path.resolve(o.config.source);
  const file = path.resolve((given as string | undefined) ?? own);
  // only next to its own config file, never where a client could point it (/etc/cron.d, a profile script, …)
  if (path.dirname(file) !== path.dirname(own)) {
    throw new DpfwdError(
      'EINVAL',
      `config save writes only into ${path.dirname(own)} (the directory of the config file dpfwd runs); got ${file}. Use dpfwd config show > FILE to write elsewhere`,
    );
  }
  // a request over the socket (conn) is checked against its sender; in-process callers are dpfwd itself
  const peer = conn ? (conn.peer ?? null) : { pid: process.pid, uid: 0, gid: 0 };
  if (!peer)
    throw new DpfwdError(
      'EACCES',
      `config save: cannot tell which user asked (no SO_PEERCRED on this connection), so it writes nothing; use dpfwd config show > ${file}`,
    );
  const dir = path.dirname(file);
  let refusal: string | null;
  try {
    refusal = replaceRefusal(peer, file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DpfwdError(err.code ?? 'EIO', `cannot write ${file}: ${err.code === 'ENOENT' ? `directory ${dir} does not exist` : err.message}`);
  }
  if (refusal) {
    throw new DpfwdError(
      'EACCES',
      `config save: ${refusal}; dpfwd writes for a client only what the client could write itself (run it as root, or give uid ${peer.uid} write permission)`,
    );
  }
  const text = o.runningConfig();
  parseConfig(text, `running configuration for ${file}`); // what is saved must start a forwarder
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  // the old file's mode and owners, else the client's with 0640
  let mode = 0o640;
  let owner = { uid: peer.uid, gid: peer.gid };
  try {
    const st = fs.lstatSync(file);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    /* a new file */
  }
  try {
    fs.unlinkSync(tmp);
  } catch {
    /* none left by a crash */
  }
  try {
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      fs.fchownSync(fd, owner.uid, owner.gid);
      fs.fchmodSync(fd, mode);
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
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* not made */
    }
    const err = e as NodeJS.ErrnoException;
    throw new DpfwdError(
      err.code ?? 'EIO',
      `cannot write ${file}: ${err.code === 'ENOENT' ? `directory ${dir} does not exist` : err.code === 'EACCES' ? 'permission denied' : err.code === 'EEXIST' ? `${tmp} exists (another save running?)` : err.message}`,
    );
  }
  return { file, bytes: Buffer.byteLength(text) };
}

/** `reload` (and SIGHUP): the file's changes applied live, all or nothing. */
export function configReload(ctx: Ctx) {
  return ops(ctx).reload();
}

/** The config's operations (typed by src/api/ops.ts). */
export const CONFIG_ACTIONS = {
  'config.show': configShow,
  'config.diff': configDiff,
  'config.save': configSave,
  'config.reload': configReload,
};
