// `npm run test:unit`: the tests that need no root, no hugepages and no namespaces (test/suites.ts lists them).
const { UNIT } = require('./dist/test/suites');

module.exports = {
  spec: UNIT.map((name) => `dist/test/${name}.test.js`),
  timeout: 60000,
  reporter: 'spec',
  exit: true,
};
