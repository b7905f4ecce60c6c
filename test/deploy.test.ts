import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { parseDoctorConfig } from '../src/sriov/doctor';
import { resolveDeviceRefs } from '../src/sriov/podenv';
import { parseConfig } from '../src/config';

// dist/test/deploy.test.js → repository root
const ROOT = path.resolve(__dirname, '..', '..');
const K8S = path.join(ROOT, 'deploy', 'k8s');
const RESOURCE = 'intel.com/sriov_netdevice';
const RESOURCE_ENV = 'PCIDEVICE_INTEL_COM_SRIOV_NETDEVICE';

type Obj = any;
function load(file: string): Obj[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(K8S, file), 'utf8'));
  for (const d of docs as Obj[]) assert.deepEqual(d.errors, [], `${file}: ${d.errors}`);
  return (docs as Obj[]).map((d) => d.toJS());
}
const mib = (q: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  assert.ok(m, `quantity ${q}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};

const nads = () => load('network-attachment.yaml');
const config = () => {
  const cm = load('configmap.yaml')[0];
  return { cm, text: cm.data['dpfwd.yaml'] as string };
};
const podSpecs = (): [string, Obj, Obj][] => {
  const pod = load('pod.yaml')[0];
  const ds = load('daemonset.yaml')[0];
  return [
    ['pod.yaml', pod.metadata, pod.spec],
    ['daemonset.yaml', ds.spec.template.metadata, ds.spec.template.spec],
  ];
};

describe('deploy/k8s', () => {
  it('NetworkAttachmentDefinitions use SR-IOV CNI with the device plugin resource', () => {
    const n = nads();
    assert.ok(n.length >= 2);
    for (const d of n) {
      assert.equal(d.apiVersion, 'k8s.cni.cncf.io/v1');
      assert.equal(d.kind, 'NetworkAttachmentDefinition');
      assert.equal(d.metadata.annotations['k8s.v1.cni.cncf.io/resourceName'], RESOURCE);
      const cni = JSON.parse(d.spec.config);
      assert.equal(cni.type, 'sriov');
      assert.equal(cni.name, d.metadata.name);
    }
  });

  for (const [file, meta, spec] of podSpecs()) {
    describe(file, () => {
      const c = spec.containers[0];

      it('requests one VF per attached network, and the networks exist', () => {
        const nets = String(meta.annotations['k8s.v1.cni.cncf.io/networks'])
          .split(',')
          .map((s) => s.trim());
        const names = nads().map((d) => d.metadata.name);
        for (const n of nets) assert.ok(names.includes(n), `network ${n} is defined`);
        assert.equal(Number(c.resources.requests[RESOURCE]), nets.length);
        assert.equal(c.resources.limits[RESOURCE], c.resources.requests[RESOURCE]);
      });

      it('hugepages-2Mi request = limit, covering eal.hugepagesMiB; a memory request; Guaranteed QoS', () => {
        const { requests, limits } = c.resources;
        assert.ok(requests['hugepages-2Mi']);
        assert.equal(requests['hugepages-2Mi'], limits['hugepages-2Mi']);
        assert.ok(requests.memory, 'memory request');
        assert.equal(requests.memory, limits.memory);
        assert.equal(requests.cpu, limits.cpu);
        assert.ok(mib(limits['hugepages-2Mi']) >= parseDoctorConfig(config().text).hugepagesMiB);
      });

      it('adds only IPC_LOCK (vfio-pci) and documents the extra capabilities per port kind', () => {
        const sc = c.securityContext;
        assert.deepEqual(sc.capabilities.add, ['IPC_LOCK']);
        assert.deepEqual(sc.capabilities.drop, ['ALL']);
        assert.notEqual(sc.privileged, true);
        const text = fs.readFileSync(path.join(K8S, file), 'utf8');
        assert.match(text, /#\s+net_tap\s+NET_ADMIN/);
        assert.match(text, /#\s+net_af_packet\s+NET_RAW/);
        assert.match(text, /#\s+net_af_xdp\s+NET_RAW, NET_ADMIN, SYS_ADMIN/);
      });

      it('mounts /dev/hugepages from a HugePages emptyDir and the annotations through the downward API', () => {
        const vol = (name: string) => spec.volumes.find((v: Obj) => v.name === name);
        const mount = (p: string) => c.volumeMounts.find((m: Obj) => m.mountPath === p);
        const hp = mount('/dev/hugepages');
        assert.ok(hp);
        assert.equal(vol(hp.name).emptyDir.medium, 'HugePages');
        const info = vol(mount('/etc/podinfo').name);
        assert.deepEqual(info.downwardAPI.items, [{ path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } }]);
        assert.equal(vol(mount('/etc/dpfwd').name).configMap.name, config().cm.metadata.name);
      });

      it('runs the locally built image and never pulls it; the guide says how it gets to the nodes', () => {
        // `podman build -t dpfwd:latest` (the guide's build line) names it localhost/dpfwd:latest;
        // Kubernetes reads a bare dpfwd:latest as docker.io/library/dpfwd:latest and, for :latest, pulls Always
        const guide = fs.readFileSync(path.join(ROOT, 'deploy', 'GUIDE.md'), 'utf8');
        const built = /^podman build -t (\S+) -f deploy\/Containerfile \./m.exec(guide);
        assert.ok(built, 'the guide builds the image');
        assert.equal(c.image, `localhost/${built[1]}`);
        assert.equal(c.imagePullPolicy, 'Never');
        for (const step of [
          `podman save --format oci-archive -o dpfwd.tar ${c.image}`,
          'ctr -n k8s.io images import dpfwd.tar',
          'podman load -i dpfwd.tar',
          'kind load image-archive dpfwd.tar',
        ]) {
          assert.ok(guide.includes(step), `the guide says: ${step}`);
        }
        assert.match(fs.readFileSync(path.join(ROOT, 'docs', 'deploy.md'), 'utf8'), /imagePullPolicy: Never/);
      });

      it('exposes metrics on 9450 with a readiness probe on /healthz', () => {
        assert.ok(c.ports.some((p: Obj) => p.containerPort === 9450));
        assert.deepEqual(c.readinessProbe.httpGet, { path: '/healthz', port: 9450 });
        assert.deepEqual(c.args, ['run', '--config', '/etc/dpfwd/dpfwd.yaml']);
      });
    });
  }

  it('the DaemonSet restarts a pod whose /healthz fails (liveness), after a start-up probe', () => {
    const c = load('daemonset.yaml')[0].spec.template.spec.containers[0];
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 9450 });
    assert.ok(c.livenessProbe.failureThreshold >= 2, 'not on one missed probe');
    assert.deepEqual(c.startupProbe.httpGet, { path: '/healthz', port: 9450 });
    assert.ok(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 30, 'EAL init and link wait fit in the start-up probe');
  });

  it('nothing node-specific in the shared dpfwd.yaml: lcores auto, addresses from network-status, cluster-wide IPAM', () => {
    const text = config().text;
    const cfg = parseConfig(text, 'configmap.yaml');
    assert.equal(parseAllDocuments(text)[0].toJS().eal.lcores, 'auto', 'no CPU numbers: the CPU manager chooses them');
    assert.ok(cfg.eal.lcoreList.length >= 2);
    assert.doesNotMatch(text, /^\s*lcores:\s*"?[\d,-]+"?\s*$/m);
    for (const p of cfg.ports) assert.equal(p.networkStatusLen, 24, `port ${p.name} takes its address from network-status`);
    for (const d of nads()) {
      const ipam = JSON.parse(d.spec.config).ipam;
      assert.equal(ipam.type, 'whereabouts', `${d.metadata.name}: cluster-wide IPAM (host-local repeats addresses across nodes)`);
      const last = (a: string) => Number(a.split('.')[3]);
      assert.ok(last(ipam.range_end) - last(ipam.range_start) >= 16, `${d.metadata.name}: a range for many nodes`);
    }
  });

  it('the DaemonSet selects its own pods', () => {
    const ds = load('daemonset.yaml')[0];
    assert.equal(ds.kind, 'DaemonSet');
    assert.deepEqual(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels);
  });

  it('dpfwd.yaml takes its VFs from the device plugin variable and serves metrics beyond localhost', () => {
    const text = config().text;
    const cfg = parseDoctorConfig(text);
    const env = { [RESOURCE_ENV]: '0000:3b:02.1,0000:3b:02.3' };
    assert.deepEqual(
      resolveDeviceRefs(
        cfg.ports.map((p) => p.device),
        env,
      ),
      ['0000:3b:02.1', '0000:3b:02.3'],
    );
    assert.match(text, /listen: 0\.0\.0\.0:9450/);
  });
});

describe('deploy/Containerfile', () => {
  const text = fs.readFileSync(path.join(ROOT, 'deploy', 'Containerfile'), 'utf8');
  it('is Debian 12 with DPDK from Debian and Node 20 (base an ARG), builds with npm ci, exposes 9450', () => {
    const base = /^ARG BASE=(\S+)$/m.exec(text);
    assert.ok(base, 'ARG BASE=<image>');
    assert.match(base[1], /^docker\.io\/library\/node:20-bookworm/);
    const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(froms.length >= 1);
    for (const f of froms) assert.equal(f, '${BASE}');
    assert.match(text, /apt-get install[^\n]*\\\n[^\n]*libdpdk-dev/);
    assert.doesNotMatch(text, /deb\.nodesource|setup_20\.x/);
    assert.match(text, /npm ci/);
    assert.match(text, /EXPOSE 9450/);
  });

  it('the runtime stage installs the DPDK libraries and drivers by name, not the dpdk package (scripts only, the rest Recommends)', () => {
    const runtime = text.slice(text.lastIndexOf('FROM '));
    const install = /apt-get install -y --no-install-recommends((?:[^\n]*\\\n)+[^\n]*)/.exec(runtime);
    assert.ok(install, runtime);
    const pkgs = install[1]
      .replace(/\\\n/g, ' ')
      .split(/\s+/)
      .filter((w) => /^[a-z0-9][a-z0-9.+-]+$/.test(w));
    assert.ok(!pkgs.includes('dpdk'), 'no dpdk meta package');
    for (const p of [
      'librte-lpm23',
      'librte-mempool-ring23',
      'librte-bus-pci23',
      'librte-bus-vdev23',
      'librte-net-iavf23',
      'librte-net-ice23',
      'librte-net-i40e23',
      'librte-net-ixgbe23',
      'librte-net-mlx5-23',
      'librte-net-af-packet23',
      'librte-net-af-xdp23',
      'librte-net-memif23',
      'librte-net-null23',
      'librte-net-pcap23',
      'librte-net-tap23',
    ])
      assert.ok(pkgs.includes(p), `${p} installed`);
  });
});

describe('deploy/grafana/dpfwd.json', () => {
  const d = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'grafana', 'dpfwd.json'), 'utf8'));
  it('has job and instance variables from Prometheus (instance within the chosen job)', () => {
    const v = Object.fromEntries(d.templating.list.map((x: Obj) => [x.name, x]));
    assert.equal(v.job.type, 'query');
    assert.match(v.job.query.query, /^label_values\(dpfwd_\w+, job\)$/);
    assert.equal(v.instance.type, 'query');
    assert.match(v.instance.query.query, /^label_values\(dpfwd_\w+\{job="\$job"\}, instance\)$/);
  });
  it('filters every metric of every panel query by $job and $instance (a fleet is not summed into one line)', () => {
    const exprs: string[] = [];
    const walk = (ps: Obj[]) => {
      for (const p of ps ?? []) {
        for (const t of p.targets ?? []) exprs.push(t.expr);
        walk(p.panels);
      }
    };
    walk(d.panels);
    assert.ok(exprs.length >= 20);
    for (const e of exprs) {
      const sels = [...e.matchAll(/\b(dpfwd_[a-z0-9_]+)(\{[^}]*\})?/g)];
      assert.ok(sels.length > 0, e);
      for (const s of sels) assert.match(s[2] ?? '', /job="\$job".*instance="\$instance"/, `${s[1]} in ${e}`);
    }
  });
});

describe('package.json', () => {
  it('names only files that exist (bin; main only if there is a library entry point)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const f of Object.values(pkg.bin as Record<string, string>)) assert.ok(fs.existsSync(path.join(ROOT, f)), `bin ${f}`);
    if (pkg.main !== undefined) assert.ok(fs.existsSync(path.join(ROOT, pkg.main)), `main ${pkg.main} exists`);
    assert.equal(pkg.private, true, 'a CLI, not published as a library');
  });
});

describe('deploy/seccomp-dpfwd.json', () => {
  const ours = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy', 'seccomp-dpfwd.json'), 'utf8'));
  const names = (p: any, action: string, withCaps: boolean) =>
    new Set(
      p.syscalls
        .filter((s: any) => s.action === action && Object.keys(s.includes?.caps ?? {}).length > 0 === withCaps && !s.args?.length)
        .flatMap((s: any) => s.names as string[]),
    );

  it('allows bpf() whatever the capabilities; no rule refuses it', () => {
    const allowed = names(ours, 'SCMP_ACT_ALLOW', false);
    assert.ok(allowed.has('bpf'));
    assert.ok(!ours.syscalls.some((s: any) => s.action !== 'SCMP_ACT_ALLOW' && s.names.includes('bpf')), 'no rule refuses bpf');
    assert.equal(ours.defaultAction, 'SCMP_ACT_ERRNO');
  });

  it("is podman's default profile (containers-common) plus bpf, when that profile is installed", function () {
    const file = '/usr/share/containers/seccomp.json';
    if (!fs.existsSync(file)) this.skip();
    const theirs = JSON.parse(fs.readFileSync(file, 'utf8'));
    const strip = (p: any) =>
      JSON.stringify({
        ...p,
        syscalls: p.syscalls.map((s: any) => ({ ...s, names: s.names.filter((n: string) => n !== 'bpf') })).filter((s: any) => s.names.length),
      });
    assert.equal(strip(ours), strip(theirs), "differs from podman's default beyond bpf: regenerate it (docs/deploy.md)");
  });
});
