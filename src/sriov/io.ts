import * as fs from 'fs';
import { spawnSync } from 'child_process';

/**
 * The one way dpfwd writes sysfs. Tests inject a writer that throws the errno the kernel would
 * (`Object.assign(new Error(), { code: 'ENOMEM' })`) or that simulates the kernel's reaction.
 * `path` is absolute (already joined with the sysfs root).
 */
export interface SysfsWriter {
  write(path: string, value: string): void;
}

/** One write(2) per value, as sysfs attributes expect. */
export const fsWriter: SysfsWriter = {
  write(path: string, value: string): void {
    fs.writeFileSync(path, value);
  },
};

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs argv without a shell. Status 127 when the program does not exist (like a shell). */
export type CommandRunner = (argv: string[]) => CommandResult;

export const spawnRunner: CommandRunner = (argv) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { status: code === 'ENOENT' ? 127 : 126, stdout: '', stderr: r.error.message };
  }
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};

/** errno name of a thrown fs/sysfs error, e.g. 'ENOMEM'; undefined for anything else. */
export function errnoOf(e: unknown): string | undefined {
  const c = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** Is `prog` on PATH? Used to decide whether `--persist apply` can run driverctl. */
export function onPath(prog: string, pathEnv = process.env.PATH ?? ''): boolean {
  for (const dir of pathEnv.split(':')) {
    if (!dir) continue;
    try {
      fs.accessSync(`${dir}/${prog}`, fs.constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}
