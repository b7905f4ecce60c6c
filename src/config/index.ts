/**
 * Configuration: YAML → validated, defaulted Config. Entry file of src/config.
 *
 *   const config = loadConfigFile('dpfwd.yaml');   // throws ConfigError (a DpfwdError, code ECONFIG)
 *   const argv = buildEalArgs(config, resolvedDevices);
 */
import * as fs from 'fs';
import { parseDocument, isScalar, LineCounter } from 'yaml';
import { DpfwdError } from '../errors';
import type { Config } from './types';
import { validateConfig } from './validate';

export * from './types';
export { buildEalArgs } from './eal';
export { CONFIG_KEYS, DEFAULTS, KEY_CHANGE, keyChange, LIVE_KEYS, RESTART_KEYS, PORT_LIVE_KEYS, VALID_KEYS, type ChangeMode } from './keys';
export { parseLcoreList, MAX_LCORE } from './validate';
export { LOG_LEVELS } from './keys';
export { suggestKey } from './kit';
export { mempoolSize, BURST_SIZE, MEMPOOL_FLOOR } from './mempool';
export { parseDevice, KNOWN_VDEV_DRIVERS } from '../net/device';

/**
 * Every problem of one configuration. `message` is a header line naming the source and the
 * count, then one line per problem (`path: problem`); `errors` holds those lines alone.
 */
export class ConfigError extends DpfwdError {
  readonly errors: string[];
  readonly source: string;
  constructor(source: string, errors: string[]) {
    const n = errors.length;
    super('ECONFIG', `${source}: ${n} configuration error${n === 1 ? '' : 's'}:\n${errors.join('\n')}`);
    this.name = 'ConfigError';
    this.errors = errors;
    this.source = source;
  }
}

/** Alias expansions allowed in one config (the yaml package's default): a billion-laughs file stops here. */
export const MAX_ALIAS_COUNT = 100;

/** Parses YAML text into a Config; `sourceName` (a path or a label) prefixes every message. */
export function parseConfig(text: string, sourceName: string): Config {
  const lineCounter = new LineCounter();
  // Parser abuse (alias bombs, nesting deep enough to overflow the stack) is a config error too
  const abuse = (e: unknown): ConfigError => {
    const m = (e as Error)?.message ?? String(e);
    const why = /alias/i.test(m)
      ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}); write the values out or use fewer aliases (*name)`
      : e instanceof RangeError
        ? 'nested too deeply to parse'
        : m.split('\n')[0];
    return new ConfigError(sourceName, [`${sourceName}: YAML: ${why}`]);
  };
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { keepSourceTokens: true, prettyErrors: false, uniqueKeys: true, lineCounter });
  } catch (e) {
    throw abuse(e);
  }
  // a stack overflow inside the parser may surface as one or several syntax errors, by stack depth
  const overflow = doc.errors.find((e) => /Maximum call stack size exceeded/.test(e.message));
  if (overflow) throw abuse(new RangeError(overflow.message));
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      const where = pos ? `${sourceName}:${pos.line}:${pos.col}` : sourceName;
      const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return `${where}: YAML syntax error: ${msg}`;
    });
    throw new ConfigError(sourceName, errors);
  }
  const sourceOf = (path: (string | number)[]): string | undefined => {
    const node = doc.getIn(path, true);
    if (isScalar(node) && node.srcToken && 'source' in node.srcToken) return String(node.srcToken.source);
    return undefined;
  };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw abuse(e);
  }
  const { config, errors } = validateConfig(raw, sourceName, sourceOf);
  if (!config) throw new ConfigError(sourceName, errors);
  return config;
}

/** Reads and parses a config file. A missing file gets a message saying how to start one. */
export function loadConfigFile(path: string): Config {
  return parseConfig(readConfigText(path), path);
}

/** A config file's text; a missing or unreadable file is an ECONFIG error saying what to do. */
export function readConfigText(path: string): string {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      throw new DpfwdError(
        'ECONFIG',
        `config file ${path} does not exist; copy examples/demo.yaml (two af_packet ports) or examples/pcap.yaml to ${path} and edit it, or pass --config PATH`,
      );
    }
    if (err.code === 'EACCES') throw new DpfwdError('ECONFIG', `cannot read config file ${path}: permission denied`);
    if (err.code === 'EISDIR') throw new DpfwdError('ECONFIG', `config file ${path} is a directory; pass the path of a YAML file`);
    throw new DpfwdError('ECONFIG', `cannot read config file ${path}: ${err.message}`);
  }
  return text;
}
