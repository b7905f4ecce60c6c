/**
 * Which test files need nothing of the machine: `npm run test:unit` (.mocharc.unit.cjs) runs
 * UNIT as a plain user, with no hugepages and no network namespaces, in under a minute; `npm
 * test` runs every file. A file goes in UNIT when none of its tests starts DPDK, makes a
 * namespace or needs root; test/style.test.ts checks that every test file is in one list.
 */
export const UNIT = [
  'alerts', 'bind', 'config', 'control-server', 'controlplane', 'deploy', 'doctor', 'drop-table', 'eal', 'ecmp', 'ecmp-rib', 'layers', 'log',
  'mirrors-unit', 'neighbors', 'packet', 'pcap', 'prefix', 'reload-diff', 'rib', 'route-roundtrip', 'sriov', 'sriov-podenv', 'style',
];

/** Files with at least one test that needs root, hugepages, namespaces or a long run (fuzzing, 1M routes). */
export const SYSTEM = [
  'api-doc', 'capture', 'cli', 'config-check', 'config-save-privileges', 'control-stalls', 'differential', 'ecmp-dataplane', 'ecmp-hosts',
  'fib', 'forwarding', 'fragmentation', 'frr', 'frr-doc', 'fuzz', 'hostile-clients', 'hostile-input', 'idle', 'image', 'interfaces',
  'iproute2-cli', 'kernel-ports', 'lcores-auto', 'lifecycle', 'log-flood', 'man', 'metrics', 'mirror', 'neighbor-flood', 'pod',
  'punt-wedge', 'readme-cli', 'reload', 'route-churn', 'route-save', 'route-sync', 'router', 'source-rules', 'systemd', 'top',
  'validation', 'vlan', 'vlan-hosts',
];
