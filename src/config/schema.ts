/**
 * A JSON Schema of the configuration for editors (YAML language servers read it), generated from
 * the key table (src/config/keys.ts): every section and key, its default and whether it changes
 * live, with additionalProperties false where the validator refuses unknown keys. Types come from
 * the defaults; keys without one (or with more than one form) are typed below. Ranges and
 * cross-key rules stay the validator's (src/config/validate.ts); `dpfwd config check` applies them.
 * Published as docs/dpfwd.schema.json (`npm run schema`; test/config-check.test.ts keeps it current).
 */
import { LEVELS, LOG_FORMATS } from '../log';
import { CONFIG_KEYS, IDLE_MODES, LINUX_SYNC_KEYS, LOG_LEVELS, TopLevelKey } from './keys';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const bool: Schema = { type: 'boolean' };
const strOrList: Schema = { anyOf: [str, { type: 'array', items: str }] };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});

/** Types of the keys whose default does not tell it (none, or several forms). */
const TYPES: { [S in TopLevelKey]?: Record<string, Schema> } = {
  eal: {
    lcores: { anyOf: [str, int], description: 'an lcore list like "0-3", or "auto" (the CPUs this process may run on)' },
    filePrefix: str,
    args: { type: 'array', items: { anyOf: [str, { type: 'number' }] } },
    logLevel: { anyOf: [{ enum: [...LOG_LEVELS] }, { type: 'integer', minimum: 1, maximum: 8 }] },
    hugepagesMiB: int,
  },
  ports: { name: str, device: str, address: strOrList, mac: str },
  interfaces: { name: str, port: str, vlan: int, address: strOrList, mtu: int },
  workers: { lcore: int, rx: { type: 'array', items: obj({ port: str, queue: int }) }, idle: { enum: [...IDLE_MODES] } },
  idle: { mode: { enum: [...IDLE_MODES] } },
  fib: { tbl8Groups: int },
  routes: { prefix: str, via: str, port: str, nexthops: { type: 'array', items: obj({ via: str, port: str, weight: int }) } },
  neighbors: { address: str, mac: str, port: str },
  metrics: { listen: { anyOf: [str, { const: false }], description: 'host:port, or false: no metrics listener' } },
  control: { mode: { anyOf: [str, int], description: 'an octal file mode like "0660"' } },
  log: { level: { enum: [...LEVELS] }, format: { enum: [...LOG_FORMATS] } },
  linux: {
    netns: str,
    mirror: { anyOf: [bool, { type: 'object', additionalProperties: { anyOf: [bool, str] } }] },
    sync: obj({
      enabled: bool,
      table: { anyOf: [str, int] },
      protocols: { anyOf: [{ const: 'all' }, { type: 'array', items: { anyOf: [str, int] } }] },
      socketBuffer: { type: 'integer', default: LINUX_SYNC_KEYS.socketBuffer },
      maxRoutes: { type: 'integer', default: LINUX_SYNC_KEYS.maxRoutes },
    }),
  },
};

/** Sections that are lists of entries; the rest are mappings. */
const LISTS: readonly TopLevelKey[] = ['ports', 'interfaces', 'workers', 'routes', 'neighbors'];
/** Keys an entry must have. */
const REQUIRED: { [S in TopLevelKey]?: string[] } = {
  ports: ['name', 'device'],
  routes: ['prefix'],
  neighbors: ['address', 'mac', 'port'],
  interfaces: ['port', 'vlan'],
};

function typeOfDefault(def: unknown): Schema {
  if (typeof def === 'boolean') return bool;
  if (typeof def === 'number') return int;
  if (typeof def === 'string') return str;
  if (Array.isArray(def)) return { type: 'array', items: str };
  return {};
}

/** The schema, from the key table. */
export function configSchema(): Schema {
  const properties: Record<string, Schema> = {};
  for (const [section, { keys }] of Object.entries(CONFIG_KEYS) as [TopLevelKey, { keys: Record<string, { def: unknown; change: string }> }][]) {
    const props: Record<string, Schema> = {};
    for (const [k, row] of Object.entries(keys)) {
      const t = TYPES[section]?.[k] ?? typeOfDefault(row.def);
      props[k] = {
        ...t,
        ...(row.def !== undefined ? { default: row.def } : {}),
        $comment: row.change === 'live' ? 'changes live (dpfwd reload)' : 'needs a restart',
      };
    }
    const entry = obj(props, REQUIRED[section]);
    let s: Schema = LISTS.includes(section) ? { type: 'array', items: entry } : entry;
    if (section === 'workers') s = { anyOf: [{ const: 'auto' }, s] };
    if (section === 'metrics') s = { anyOf: [s, { const: false, description: 'no metrics listener' }] };
    properties[section] = { ...s, description: `the ${section} section: docs/config.md` };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'dpfwd configuration',
    description:
      'Generated from src/config/keys.ts (npm run schema); every key is explained in docs/config.md, and `dpfwd config check FILE` finds every error dpfwd run would.',
    type: 'object',
    additionalProperties: false,
    required: ['ports'],
    properties,
  };
}

/** The schema as published in docs/dpfwd.schema.json. */
export function configSchemaText(): string {
  return `${JSON.stringify(configSchema(), null, 2)}\n`;
}
