/**
 * The one error class of dpfwd. `code` is a stable string (ECONFIG, ENODEV, EAL_INIT, ENOSPC, …)
 * that tests and scripts match on; `message` is one paragraph naming the cause and the fix.
 * Native failures reach TypeScript as plain Errors carrying an errno name as `code` (built by
 * native/binding); src/dataplane/index.ts, the addon's typed wrapper, turns them into these with the fix.
 */
export class DpfwdError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DpfwdError';
    this.code = code;
  }
}

export function isDpfwdError(e: unknown): e is DpfwdError {
  return e instanceof DpfwdError;
}
