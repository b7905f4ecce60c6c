/**
 * What a UNIX socket path may be, in one place for the config (control.socket), `dpfwd run
 * --socket`, the CLI's --socket / DPFWD_SOCKET and the server: not empty, and at most 107 bytes
 * (sun_path holds 108 with the NUL; a longer path would be cut and a socket file left under the
 * cut name).
 */
export const SOCKET_PATH_MAX = 107;

/** Why `p` cannot be a socket path (null: it can). */
export function socketPathProblem(p: string): string | null {
  if (p === '') return 'the control socket path is empty: give a path like /run/dpfwd/dpfwd.sock (--socket PATH, or unset DPFWD_SOCKET for the default)';
  const n = Buffer.byteLength(p);
  if (n > SOCKET_PATH_MAX)
    return `control socket path ${p.slice(0, 40)}… is ${n} bytes; a UNIX socket path holds at most ${SOCKET_PATH_MAX}: choose a shorter path`;
  return null;
}
