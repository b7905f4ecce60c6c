import { strict as assert } from 'assert';
import { DpfwdError } from '../../src/errors';

/** Runs fn, which must throw a DpfwdError with `code` whose message matches every pattern. */
export function throwsCode(fn: () => unknown, code: string, ...res: RegExp[]): DpfwdError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DpfwdError, `expected DpfwdError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const re of res) assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected DpfwdError ${code}`);
}
