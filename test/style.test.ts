/**
 * The house habits, checked: ESLint (eslint.config.mjs) passes on every TypeScript file, the
 * TypeScript and C sources are as Prettier (.prettierrc.json) and clang-format (.clang-format)
 * write them — the same commands as `npm run lint` and `npm run format:check`; `npm run format`
 * fixes the second — and every test file says whether it needs the machine (test/suites.ts).
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SYSTEM, UNIT } from './suites';

const ROOT = path.resolve(__dirname, '..', '..');

function npmRun(script: string) {
  const r = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, `npm run ${script} failed:\n${out.slice(0, 4000)}`);
}

describe('style: linter, formatters and the test lists', function () {
  this.timeout(180000);

  it('npm run lint: ESLint finds nothing', () => npmRun('lint'));

  it('npm run format:check: sources are formatted (npm run format writes them)', () => npmRun('format:check'));

  it('every test file is in test/suites.ts, UNIT or SYSTEM, once', () => {
    const files = fs
      .readdirSync(path.join(ROOT, 'test'))
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => f.slice(0, -'.test.ts'.length));
    for (const f of files)
      assert.equal(
        UNIT.includes(f) || SYSTEM.includes(f),
        true,
        `test/${f}.test.ts is in neither list of test/suites.ts: UNIT if it needs no root, hugepages or namespaces, else SYSTEM`,
      );
    for (const f of [...UNIT, ...SYSTEM]) assert.ok(files.includes(f), `test/suites.ts lists ${f}, which is no test file`);
    assert.deepEqual(
      UNIT.filter((f) => SYSTEM.includes(f)),
      [],
    );
  });
});
