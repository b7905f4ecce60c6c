#!/usr/bin/env node
// dpfwd(1) from the CLI's own help: `dpfwd --help` and every `dpfwd COMMAND --help`, as yargs
// prints them (one source: the command modules' describe and options), wrapped in man(7) roff.
// `node scripts/man.js` writes docs/man/dpfwd.1; `--print` writes it to stdout (the test compares).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DPFWD = path.join(ROOT, 'bin', 'dpfwd');
const help = (args) => {
  const r = spawnSync(process.execPath, [DPFWD, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });
  if (r.status !== 0) throw new Error(`dpfwd ${args.join(' ')} --help: ${r.stderr}`);
  return r.stdout.replace(/\s+$/, '');
};
/** roff-safe text: backslashes, and lines starting with . or ' */
const esc = (s) => s.replace(/\\/g, '\\e').split('\n').map((l) => (/^[.']/.test(l) ? `\\&${l}` : l)).join('\n');

const top = help([]);
const commands = [...top.matchAll(/^ {2}dpfwd (\S+)/gm)].map((m) => m[1]).filter((c) => c !== 'completion');
const version = require(path.join(ROOT, 'package.json')).version;
const out = [
  `.TH DPFWD 1 "" "dpfwd ${version}" "dpfwd manual"`,
  '.SH NAME',
  'dpfwd \\- userspace IPv4 router on DPDK: run it, and operate it through its control socket',
  '.SH SYNOPSIS',
  '.B dpfwd',
  '.I command',
  '[\\fIoptions\\fR]',
  '.SH DESCRIPTION',
  'Generated from the CLI\'s own help (scripts/man.js; do not edit). The README and docs/*.md explain the design, the configuration (docs/config.md) and the control socket (docs/api.md).',
  '.PP',
  '.nf',
  esc(top),
  '.fi',
  '.SH COMMANDS',
];
for (const c of commands) {
  out.push(`.SS dpfwd ${c}`, '.nf', esc(help([c])), '.fi');
}
out.push('.SH FILES', '.TP', '/etc/dpfwd/dpfwd.yaml', 'the configuration of the systemd unit (deploy/systemd/dpfwd.service)', '.TP', '/run/dpfwd/dpfwd.sock', 'the control socket (control.socket)');
out.push('.SH SEE ALSO', '.BR ip (8),', '.BR ip-route (8),', '.BR ip-neighbour (8),', '.BR tcpdump (8)', '');
const text = out.join('\n');
if (process.argv.includes('--print')) process.stdout.write(text);
else fs.writeFileSync(path.join(ROOT, 'docs', 'man', 'dpfwd.1'), text);
