/**
 * The module graph of src/: every import (`import … from`, `export … from`, `import type`,
 * `require()`) of every src/**\/*.ts is read, and the test fails on an import cycle between
 * modules and on an import from a lower layer into a higher one. Layers, lowest first; a
 * directory may import its own layer's other directories, but never one above.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

export const LAYERS: string[][] = [
  ['errors', 'log'], // DpfwdError; the logger
  ['net', 'host'], // addresses, prefixes, MACs, device strings, CPU lists: parsed once, at the edge
  ['packet', 'dataplane', 'sriov'], // frames; the addon wrapper; sysfs
  ['routing'], // route parser, rules, the RIB and its next-hop/neighbour records
  ['config'], // YAML → Config
  ['icmp', 'neighbors'], // ICMP and the ARP state machine over the RIB's records
  ['controlplane'], // punt dispatcher: gets punt/inject, the RIB, the interfaces, the config
  ['forwarder'], // owns and wires all of the above
  ['metrics'], // Prometheus registry, /healthz, refusal counters
  ['api'], // control socket actions and server
  ['cli'], // yargs front end
];

const SRC = path.resolve(__dirname, '../../src');
const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s(?:type\s)?[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The src-relative module a relative specifier names (file.ts or dir/index.ts), or undefined. */
function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(c)) return path.relative(SRC, c);
  throw new Error(`${path.relative(SRC, from)}: cannot resolve ${spec}`);
}

function layerOf(mod: string): number {
  const top = mod.split(path.sep)[0].replace(/\.ts$/, '');
  const i = LAYERS.findIndex((l) => l.includes(top));
  if (i < 0) throw new Error(`src/${mod}: its directory ${top} is in no layer of test/layers.test.ts; add it`);
  return i;
}

/** Module → the modules it imports. */
export function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of walk(SRC)) {
    const text = fs
      .readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT_RE)) {
      const r = resolve(f, m[1] ?? m[2] ?? m[3]);
      if (r) deps.add(r);
    }
    g.set(path.relative(SRC, f), [...deps]);
  }
  return g;
}

/** Every cycle's modules (one path per strongly connected component with more than one module or a self-import). */
export function findCycles(g: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('layers: the import graph of src/', () => {
  const g = importGraph();

  it('reads the imports it should (a sanity check of the parser)', () => {
    assert.ok(g.size > 50, `only ${g.size} modules found`);
    assert.ok(g.get(path.join('routing', 'rib.ts'))!.includes(path.join('net', 'ipv4.ts')));
    assert.ok(g.get(path.join('cli', 'commands', 'run.ts'))!.includes(path.join('forwarder', 'index.ts')));
  });

  it('has no import cycle', () => {
    assert.deepEqual(findCycles(g), []);
  });

  it('finds a cycle when there is one (the checker itself)', () => {
    const fake = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(findCycles(fake), [['a.ts', 'b.ts', 'c.ts']]);
  });

  it('imports only from its own layer or below', () => {
    const upward: string[] = [];
    for (const [mod, deps] of g) {
      for (const d of deps) {
        if (layerOf(d) > layerOf(mod))
          upward.push(`src/${mod} imports src/${d} (layer ${LAYERS[layerOf(d)].join('/')} is above ${LAYERS[layerOf(mod)].join('/')})`);
      }
    }
    assert.deepEqual(upward, []);
  });

  // The address-family seam (issue 19 item 3): IPv4-only modules and who may import them, by
  // name. The family-neutral parts (next-hop records, the route table's interface, the resolver
  // interface, the tagged Addr/Prefix) import none of them; the IPv4 route table is the RIB's
  // alone, the ARP resolver the control plane's alone. net/ipv4.ts's list is today's and should
  // shrink as layers move to Addr/Prefix: a new importer is a new place IPv6 would have to fork.
  // (src/packet/index.ts re-exports the packet modules: its importers are not tracked here.)
  const IPV4_ONLY: Record<string, string[]> = {
    'net/ipv4.ts': [
      'api/actions.ts',
      'config/validate.ts',
      'controlplane/index.ts',
      'controlplane/mirrors.ts',
      'forwarder/capture.ts',
      'forwarder/index.ts',
      'forwarder/reload.ts',
      'neighbors/arp.ts',
      'neighbors/index.ts',
      'net/addr.ts',
      'net/ipv6.ts',
      'packet/arp.ts',
      'packet/flows.ts',
      'packet/icmp.ts',
      'packet/ipv4.ts',
      'routing/rib.ts',
      'routing/route.ts',
      'routing/routes.ts',
      'routing/rules.ts',
      'routing/sync.ts',
      'routing/table4.ts',
    ],
    'packet/ipv4.ts': ['packet/arp.ts', 'packet/frame.ts', 'packet/icmp.ts', 'packet/index.ts', 'packet/ipv4-reassembly.ts', 'packet/udp.ts'],
    'packet/arp.ts': ['neighbors/arp.ts', 'packet/frame.ts', 'packet/index.ts'],
    'routing/table4.ts': ['routing/rib.ts'],
    'neighbors/arp.ts': ['controlplane/index.ts'],
  };
  const FAMILY_NEUTRAL = ['net/addr.ts', 'routing/nexthop.ts', 'routing/table.ts', 'neighbors/resolver.ts'];
  const native = (p: string) => p.split('/').join(path.sep);

  it('family-specific code sits behind the seam: IPv4-only modules have only their listed importers', () => {
    for (const [mod, allowed] of Object.entries(IPV4_ONLY)) {
      assert.ok(g.has(native(mod)), `src/${mod} is gone: update the list`);
      const importers = [...g]
        .filter(([, deps]) => deps.includes(native(mod)))
        .map(([m]) => m.split(path.sep).join('/'))
        .sort();
      assert.deepEqual(importers, allowed, `importers of IPv4-only src/${mod}`);
    }
  });

  it('the family-neutral parts import no IPv4-only module (net/addr.ts only through its parse/format)', () => {
    for (const mod of FAMILY_NEUTRAL) {
      const deps = g.get(native(mod));
      assert.ok(deps, `src/${mod} is gone: update the list`);
      const v4 = deps.map((d) => d.split(path.sep).join('/')).filter((d) => d in IPV4_ONLY && !(mod === 'net/addr.ts' && d === 'net/ipv4.ts'));
      assert.deepEqual(v4, [], `src/${mod}`);
    }
  });

  it('the lowest layers import nothing of dpfwd above them: src/net only src/errors', () => {
    for (const [mod, deps] of g) {
      if (!mod.startsWith(`net${path.sep}`)) continue;
      for (const d of deps) assert.ok(d === 'errors.ts' || d.startsWith(`net${path.sep}`), `src/${mod} imports src/${d}`);
    }
  });
});
