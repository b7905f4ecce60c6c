// node-addon-api binding of the dpfwd dataplane. It only checks types, converts values and maps
// errors: every native failure becomes an Error with a string `code` (errno name) and `errno`;
// src/dataplane/index.ts (the addon's typed wrapper) turns those into DpfwdError with the fix for the user.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <unistd.h>
#include <string>
#include <vector>
#include <sys/socket.h>

extern "C" {
#include "dataplane.h"
}

void InitNetlink(Napi::Env env, Napi::Object exports);  // netlink.cc: route sync

namespace {

const char *ErrnoName(int e) {
  switch (e) {
    case ENODEV: return "ENODEV";
    case ENOSPC: return "ENOSPC";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EALREADY: return "EALREADY";
    case ENOTSUP: return "ENOTSUP";
    case EBUSY: return "EBUSY";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EAGAIN: return "EAGAIN";
    case EPROTO: return "EPROTO";
    case EFAULT: return "EFAULT";
    case ENOEXEC: return "ENOEXEC";
    case EIO: return "EIO";
    case EBADFD: return "EBADFD";
    default: return "EDPDK";
  }
}

Napi::Value Throw(Napi::Env env, int rc, const std::string &msg) {
  int e = rc < 0 ? -rc : rc;
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, ErrnoName(e)));
  err.Set("errno", Napi::Number::New(env, e));
  err.Set("dpdkLog", Napi::String::New(env, dp_log_tail()));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value TypeErr(Napi::Env env, const char *msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

bool IsUint(const Napi::Value &v) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= 4294967295.0 && d == static_cast<double>(static_cast<uint64_t>(d));
}

uint32_t U32(const Napi::Object &o, const char *key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  return v.As<Napi::Number>().Uint32Value();
}

// ---- EAL ----

/** A MAC as src/net/mac.ts's Mac: 48 bits in a double, first byte most significant (exact). */
double MacNumber(const uint8_t *m) {
  uint64_t v = 0;
  for (int i = 0; i < 6; i++) v = (v << 8) | m[i];
  return static_cast<double>(v);
}

/** The bytes of a Mac (a number 0..2^48-1, an integer); false if it is not one. */
bool MacFromNumber(const Napi::Value &v, uint8_t *m) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 281474976710655.0) || d != static_cast<double>(static_cast<uint64_t>(d))) return false;
  uint64_t x = static_cast<uint64_t>(d);
  for (int i = 5; i >= 0; i--, x >>= 8) m[i] = static_cast<uint8_t>(x & 0xff);
  return true;
}

Napi::Value EalInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) return TypeErr(env, "ealInit(args: string[])");
  Napi::Array a = info[0].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsString()) return TypeErr(env, "ealInit: every argument must be a string");
    args.push_back(v.As<Napi::String>().Utf8Value());
  }
  // rte_eal_init keeps pointers into argv: the strings must outlive it.
  static std::vector<std::string> keep;
  static std::vector<char *> argv;
  keep = args;
  argv.clear();
  for (auto &s : keep) argv.push_back(const_cast<char *>(s.c_str()));
  argv.push_back(nullptr);
  char err[DP_ERRLEN] = {0};
  int rc = dp_eal_init(static_cast<int>(keep.size()), argv.data(), err, sizeof(err));
  if (rc != 0) return Throw(env, rc, err);
  return env.Undefined();
}

// ---- start / stop ----

Napi::Value Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return TypeErr(env, "start(conf: object)");
  Napi::Object o = info[0].As<Napi::Object>();
  static dp_conf c;
  std::memset(&c, 0, sizeof(c));
  Napi::Value pv = o.Get("ports"), wv = o.Get("workers");
  if (!pv.IsArray() || !wv.IsArray()) return TypeErr(env, "start: conf.ports and conf.workers must be arrays");
  Napi::Array ports = pv.As<Napi::Array>(), workers = wv.As<Napi::Array>();
  if (ports.Length() > DP_MAX_PORTS) return TypeErr(env, "start: too many ports");
  if (workers.Length() > DP_MAX_WORKERS) return TypeErr(env, "start: too many workers");
  c.n_ports = static_cast<uint16_t>(ports.Length());
  for (uint32_t i = 0; i < ports.Length(); i++) {
    Napi::Object p = ports.Get(i).As<Napi::Object>();
    dp_port_conf &pc = c.ports[i];
    if (!p.Get("name").IsString() || !p.Get("devname").IsString()) return TypeErr(env, "start: ports[i].name and .devname must be strings");
    std::snprintf(pc.name, sizeof(pc.name), "%s", p.Get("name").As<Napi::String>().Utf8Value().c_str());
    std::snprintf(pc.devname, sizeof(pc.devname), "%s", p.Get("devname").As<Napi::String>().Utf8Value().c_str());
    pc.rx_queues = static_cast<uint16_t>(U32(p, "rxQueues", 1));
    pc.rx_desc = static_cast<uint16_t>(U32(p, "rxDescriptors", 1024));
    pc.tx_desc = static_cast<uint16_t>(U32(p, "txDescriptors", 1024));
    pc.mtu = static_cast<uint16_t>(U32(p, "mtu", 1500));
    pc.rx_cut_len = U32(p, "rxCutLen", 0);
    Napi::Value mac = p.Get("mac");
    if (!mac.IsUndefined()) {
      if (!MacFromNumber(mac, pc.mac)) return TypeErr(env, "start: ports[i].mac must be a MAC as a 48-bit number (src/net/mac.ts)");
      pc.has_mac = 1;
    }
  }
  c.n_workers = static_cast<uint16_t>(workers.Length());
  for (uint32_t i = 0; i < workers.Length(); i++) {
    Napi::Object w = workers.Get(i).As<Napi::Object>();
    dp_worker_conf &wc = c.workers[i];
    wc.lcore = U32(w, "lcore", 0);
    wc.idle_sleep_us = U32(w, "idleSleepUs", 0);
    Napi::Value rv = w.Get("rx");
    if (!rv.IsArray()) return TypeErr(env, "start: workers[i].rx must be an array");
    Napi::Array rx = rv.As<Napi::Array>();
    if (rx.Length() > DP_MAX_RXQ_PER_WORKER) return TypeErr(env, "start: too many RX queues on one worker");
    wc.n_rx = static_cast<uint16_t>(rx.Length());
    for (uint32_t q = 0; q < rx.Length(); q++) {
      Napi::Object r = rx.Get(q).As<Napi::Object>();
      wc.rx[q].port = static_cast<uint16_t>(U32(r, "port", 0));
      wc.rx[q].queue = static_cast<uint16_t>(U32(r, "queue", 0));
    }
  }
  c.max_routes = U32(o, "maxRoutes", 1 << 20);
  c.tbl8_groups = U32(o, "tbl8Groups", 1 << 16);
  c.max_nexthops = U32(o, "maxNexthops", 1 << 16);
  c.max_groups = U32(o, "maxGroups", 1024);
  c.mbufs = U32(o, "mbufs", 8191);
  c.mbuf_cache = U32(o, "mbufCache", 256);
  c.punt_rate = U32(o, "puntRate", 10000);
  c.punt_burst = U32(o, "puntBurst", 256);
  c.punt_ring_size = U32(o, "puntRingSize", 1024);
  char err[DP_ERRLEN] = {0};
  int rc = dp_start(&c, err, sizeof(err));
  if (rc != 0) return Throw(env, rc, err);
  return env.Undefined();
}

uv_poll_t *g_poll = nullptr;
Napi::FunctionReference g_punt_cb;
Napi::AsyncContext *g_punt_ctx = nullptr;
napi_env g_env = nullptr;

void PuntClose() {
  if (g_poll) {
    uv_poll_stop(g_poll);
    uv_close(reinterpret_cast<uv_handle_t *>(g_poll), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
    g_poll = nullptr;
  }
  if (!g_punt_cb.IsEmpty()) g_punt_cb.Reset();
  delete g_punt_ctx;
  g_punt_ctx = nullptr;
}

Napi::Value Launch(const Napi::CallbackInfo &info) {
  char err[DP_ERRLEN] = {0};
  int rc = dp_launch(err, sizeof(err));
  if (rc != 0) return Throw(info.Env(), rc, err);
  return info.Env().Undefined();
}

Napi::Value Stop(const Napi::CallbackInfo &info) {
  PuntClose();
  dp_stop();
  return info.Env().Undefined();
}

Napi::Value Cleanup(const Napi::CallbackInfo &info) {
  PuntClose();
  dp_eal_cleanup();
  return info.Env().Undefined();
}

Napi::Value Running(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), dp_running() != 0);
}

Napi::Value WorkersAlive(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), dp_workers_alive());
}

// ---- ports, pools, FIB ----

Napi::Value PortInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0])) return TypeErr(env, "portInfo(index: number)");
  struct dp_port_info pi;
  int rc = dp_port_info(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()), &pi);
  if (rc != 0) return Throw(env, rc, "no such port index");
  Napi::Object o = Napi::Object::New(env);
  o.Set("portId", pi.port_id);
  o.Set("mac", MacNumber(pi.mac));
  o.Set("driver", std::string(pi.driver));
  o.Set("mtu", pi.mtu);
  o.Set("linkUp", Napi::Boolean::New(env, pi.link_up != 0));
  o.Set("speedMbps", pi.speed_mbps);
  o.Set("rxQueues", pi.rx_queues);
  o.Set("txQueues", pi.tx_queues);
  o.Set("numaNode", pi.numa_node);
  return o;
}

Napi::Value PortStats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0])) return TypeErr(env, "portStats(index: number)");
  struct dp_port_stats s;
  int rc = dp_port_stats(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()), &s);
  if (rc != 0) return Throw(env, rc, "cannot read port statistics");
  Napi::Object o = Napi::Object::New(env);
  o.Set("ipackets", static_cast<double>(s.ipackets));
  o.Set("opackets", static_cast<double>(s.opackets));
  o.Set("ibytes", static_cast<double>(s.ibytes));
  o.Set("obytes", static_cast<double>(s.obytes));
  o.Set("ierrors", static_cast<double>(s.ierrors));
  o.Set("oerrors", static_cast<double>(s.oerrors));
  o.Set("imissed", static_cast<double>(s.imissed));
  o.Set("rxNombuf", static_cast<double>(s.rx_nombuf));
  return o;
}

Napi::Value MempoolInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct dp_mempool_info m;
  int rc = dp_mempool_info(&m);
  if (rc != 0) return Throw(env, rc, "the dataplane is not running");
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", m.size);
  o.Set("available", m.available);
  o.Set("inUse", m.in_use);
  o.Set("dataRoom", m.data_room);
  return o;
}

Napi::Value FibInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct dp_fib_info f;
  int rc = dp_fib_info(&f);
  if (rc != 0) return Throw(env, rc, "the dataplane is not running");
  Napi::Object o = Napi::Object::New(env);
  o.Set("maxRoutes", f.max_routes);
  o.Set("tbl8Groups", f.tbl8_groups);
  o.Set("tbl8Used", f.tbl8_used);
  o.Set("maxNexthops", f.max_nexthops);
  o.Set("routes", f.routes);
  o.Set("maxGroups", f.max_groups);
  o.Set("groups", f.groups);
  o.Set("lookupStaged", Napi::Boolean::New(env, f.lookup_staged != 0));
  return o;
}

Napi::Value FibAdd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !IsUint(info[1]) || !IsUint(info[2])) return TypeErr(env, "fibAdd(ip: uint32, depth: number, nexthop: number)");
  int rc = dp_route_add(info[0].As<Napi::Number>().Uint32Value(), static_cast<uint8_t>(info[1].As<Napi::Number>().Uint32Value()),
                        info[2].As<Napi::Number>().Uint32Value());
  if (rc != 0) return Throw(env, rc, rc == -ENOSPC ? "the FIB is full" : "FIB add failed");
  return env.Undefined();
}

Napi::Value FibDel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !IsUint(info[1])) return TypeErr(env, "fibDel(ip: uint32, depth: number)");
  int rc = dp_route_del(info[0].As<Napi::Number>().Uint32Value(), static_cast<uint8_t>(info[1].As<Napi::Number>().Uint32Value()));
  if (rc != 0) return Throw(env, rc, "FIB delete failed");
  return env.Undefined();
}

Napi::Value FibAddBulk(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray())
    return TypeErr(env, "fibAddBulk(ips: Uint32Array, depths: Uint8Array, nexthops: Uint32Array)");
  auto ips = info[0].As<Napi::TypedArrayOf<uint32_t>>();
  auto depths = info[1].As<Napi::TypedArrayOf<uint8_t>>();
  auto nhs = info[2].As<Napi::TypedArrayOf<uint32_t>>();
  if (ips.TypedArrayType() != napi_uint32_array || depths.TypedArrayType() != napi_uint8_array || nhs.TypedArrayType() != napi_uint32_array)
    return TypeErr(env, "fibAddBulk(ips: Uint32Array, depths: Uint8Array, nexthops: Uint32Array)");
  size_t n = ips.ElementLength();
  if (depths.ElementLength() != n || nhs.ElementLength() != n) return TypeErr(env, "fibAddBulk: the three arrays must have the same length");
  int rc = dp_route_add_bulk(ips.Data(), depths.Data(), nhs.Data(), static_cast<uint32_t>(n));
  if (rc < 0) return Throw(env, rc, rc == -ENOSPC ? "the FIB is full" : "FIB bulk add failed");
  return Napi::Number::New(env, rc);
}

// ECMP groups: members (next-hop ids), weights and liveness as typed arrays of one length.
Napi::Value GroupSet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage = "groupSet(gid: number, nexthops: Uint32Array, weights: Uint16Array, live: Uint8Array)";
  if (info.Length() < 4 || !IsUint(info[0]) || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsTypedArray()) return TypeErr(env, usage);
  auto nhs = info[1].As<Napi::TypedArrayOf<uint32_t>>();
  auto weights = info[2].As<Napi::TypedArrayOf<uint16_t>>();
  auto live = info[3].As<Napi::TypedArrayOf<uint8_t>>();
  if (nhs.TypedArrayType() != napi_uint32_array || weights.TypedArrayType() != napi_uint16_array || live.TypedArrayType() != napi_uint8_array ||
      weights.ElementLength() != nhs.ElementLength() || live.ElementLength() != nhs.ElementLength())
    return TypeErr(env, usage);
  int rc = dp_group_set(info[0].As<Napi::Number>().Uint32Value(), nhs.Data(), weights.Data(), live.Data(), static_cast<uint32_t>(nhs.ElementLength()));
  if (rc != 0) return Throw(env, rc, "next-hop group update failed (group index, member count, weight or a member given twice)");
  return env.Undefined();
}

Napi::Value GroupDel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0])) return TypeErr(env, "groupDel(gid: number)");
  int rc = dp_group_del(info[0].As<Napi::Number>().Uint32Value());
  if (rc != 0) return Throw(env, rc, "next-hop group delete failed");
  return env.Undefined();
}

Napi::Value GroupBuckets(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0])) return TypeErr(env, "groupBuckets(gid: number)");
  Napi::Uint32Array out = Napi::Uint32Array::New(env, DP_GROUP_BUCKETS);
  int rc = dp_group_buckets(info[0].As<Napi::Number>().Uint32Value(), out.Data());
  if (rc != 0) return Throw(env, rc, "no such next-hop group");
  return out;
}

// The router's own addresses (kind 1), subnet broadcasts (2) and network addresses (3).
Napi::Value AddrFilterSet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *usage = "addrFilterSet(addrs: Uint32Array, kinds: Uint8Array)";
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) return TypeErr(env, usage);
  auto addrs = info[0].As<Napi::TypedArrayOf<uint32_t>>();
  auto kinds = info[1].As<Napi::TypedArrayOf<uint8_t>>();
  if (addrs.TypedArrayType() != napi_uint32_array || kinds.TypedArrayType() != napi_uint8_array || addrs.ElementLength() != kinds.ElementLength())
    return TypeErr(env, usage);
  int rc = dp_addr_filter_set(addrs.Data(), kinds.Data(), static_cast<uint32_t>(addrs.ElementLength()));
  if (rc == -ENOSPC) return Throw(env, rc, "more than 1024 router addresses and subnet broadcasts");
  if (rc != 0) return Throw(env, rc, "cannot set the router's addresses in the dataplane");
  return env.Undefined();
}

Napi::Value NexthopSet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !IsUint(info[1]) || !info[2].IsNumber()) return TypeErr(env, "nexthopSet(id: number, portOrAction: number, mac48: number)");
  double mac = info[2].As<Napi::Number>().DoubleValue();
  uint32_t pa = info[1].As<Napi::Number>().Uint32Value();
  if (mac < 0 || mac > 281474976710655.0 || pa > 0xffff) return TypeErr(env, "nexthopSet: value out of range");
  uint64_t word = (static_cast<uint64_t>(pa) << 48) | static_cast<uint64_t>(mac);
  int rc = dp_nexthop_set(info[0].As<Napi::Number>().Uint32Value(), word);
  if (rc != 0) return Throw(env, rc, "next-hop update failed");
  return env.Undefined();
}

// ---- VLAN sub-interfaces ----

Napi::Value IfaceSet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !IsUint(info[1]) || !IsUint(info[2]) || !IsUint(info[3]))
    return TypeErr(env, "ifaceSet(iface: number, port: number, vlan: number, mtu: number)");
  uint32_t iface = info[0].As<Napi::Number>().Uint32Value(), port = info[1].As<Napi::Number>().Uint32Value();
  uint32_t vlan = info[2].As<Napi::Number>().Uint32Value(), mtu = info[3].As<Napi::Number>().Uint32Value();
  if (iface > 0xffff || port > 0xffff || vlan > 0xffff || mtu > 0xffff) return TypeErr(env, "ifaceSet: value out of range");
  int rc = dp_iface_set(static_cast<uint16_t>(iface), static_cast<uint16_t>(port), static_cast<uint16_t>(vlan), static_cast<uint16_t>(mtu));
  if (rc == -EEXIST) return Throw(env, rc, "another sub-interface has this port and VLAN");
  if (rc == -ENODEV) return Throw(env, rc, "no such port (or the dataplane is not running)");
  if (rc == -EINVAL) return Throw(env, rc, "interface index, VLAN (1-4094) or MTU (68 up to the port's MTU) out of range");
  if (rc != 0) return Throw(env, rc, "cannot set the sub-interface");
  return env.Undefined();
}

Napi::Value IfaceDel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || info[0].As<Napi::Number>().Uint32Value() > 0xffff) return TypeErr(env, "ifaceDel(iface: number)");
  int rc = dp_iface_del(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()));
  if (rc == -ENOENT) return Throw(env, rc, "no such sub-interface");
  if (rc != 0) return Throw(env, rc, "cannot delete the sub-interface");
  return env.Undefined();
}

// ---- counters and names ----

Napi::Array Names(Napi::Env env, const char *(*fn)(unsigned)) {
  Napi::Array a = Napi::Array::New(env);
  for (unsigned i = 0;; i++) {
    const char *n = fn(i);
    if (!n) break;
    a.Set(i, n);
  }
  return a;
}

Napi::Value GetNames(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("drops", Names(env, dp_drop_reason_name));
  o.Set("dropHelp", Names(env, dp_drop_reason_help));
  o.Set("punts", Names(env, dp_punt_kind_name));
  o.Set("worker", Names(env, dp_worker_counter_name));
  o.Set("port", Names(env, dp_port_counter_name));
  o.Set("portHelp", Names(env, dp_port_counter_help));
  return o;
}

Napi::Array NamedList(Napi::Env env, const char *(*name)(unsigned), const char *(*help)(unsigned)) {
  Napi::Array a = Napi::Array::New(env);
  for (unsigned i = 0;; i++) {
    const char *n = name(i);
    if (!n) break;
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", n);
    o.Set("help", help(i));
    a.Set(i, o);
  }
  return a;
}

// The C side's constants, so TypeScript keeps no copies: sizes, next-hop actions, address
// kinds, and the named lists with their help text (drop reasons, punt kinds, counters).
Napi::Value Constants(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("burst", DP_BURST);
  o.Set("maxPorts", DP_MAX_PORTS);
  o.Set("maxSubifs", DP_MAX_SUBIFS);
  o.Set("idleMaxSleepUs", DP_IDLE_MAX_US);
  o.Set("maxWorkers", DP_MAX_WORKERS);
  Napi::Object nh = Napi::Object::New(env);
  nh.Set("unresolved", DP_NH_UNRESOLVED);
  nh.Set("glean", DP_NH_GLEAN);
  nh.Set("local", DP_NH_LOCAL);
  nh.Set("drop", DP_NH_DROP);
  nh.Set("actionMin", DP_NH_ACTION_MIN);
  nh.Set("group", DP_NH_GROUP);
  o.Set("nh", nh);
  Napi::Object ak = Napi::Object::New(env);
  ak.Set("own", static_cast<uint32_t>(DP_ADDR_OWN));
  ak.Set("broadcast", static_cast<uint32_t>(DP_ADDR_BROADCAST));
  ak.Set("network", static_cast<uint32_t>(DP_ADDR_NETWORK));
  o.Set("addrKinds", ak);
  o.Set("addrSetMax", DP_ADDR_SET_MAX);
  Napi::Object cap = Napi::Object::New(env);
  cap.Set("rx", DP_CAP_RX);
  cap.Set("tx", DP_CAP_TX);
  cap.Set("drop", DP_CAP_DROP);
  cap.Set("anyReason", DP_CAP_ANY_REASON);
  cap.Set("snaplenMax", DP_CAP_SNAPLEN_MAX);
  cap.Set("ringMax", DP_CAP_RING_MAX);
  cap.Set("filterMax", DP_FILTER_MAX);
  cap.Set("traceMax", DP_TRACE_MAX);
  cap.Set("traceSnap", DP_TRACE_SNAP);
  cap.Set("traceForwarded", DP_TRACE_FORWARDED);
  cap.Set("traceDropped", DP_TRACE_DROPPED);
  cap.Set("tracePunted", DP_TRACE_PUNTED);
  o.Set("capture", cap);
  Napi::Object grp = Napi::Object::New(env);
  grp.Set("buckets", DP_GROUP_BUCKETS);
  grp.Set("maxMembers", DP_GROUP_MAX_MEMBERS);
  grp.Set("maxWeight", DP_GROUP_MAX_WEIGHT);
  grp.Set("maxGroups", DP_MAX_GROUPS);
  o.Set("groups", grp);
  o.Set("drops", NamedList(env, dp_drop_reason_name, dp_drop_reason_help));
  o.Set("punts", NamedList(env, dp_punt_kind_name, dp_punt_kind_help));
  o.Set("workerCounters", NamedList(env, dp_worker_counter_name, dp_worker_counter_help));
  o.Set("portCounters", NamedList(env, dp_port_counter_name, dp_port_counter_help));
  return o;
}

Napi::Value Counters(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  size_t bytes = 0;
  dp_counter_layout l;
  uint64_t *p = dp_counters(&bytes, &l);
  if (!p) return Throw(env, ENODEV, "the dataplane is not running");
  Napi::Object o = Napi::Object::New(env);
  // External: no copy. Valid until stop(); src/dataplane drops its views on stop.
  o.Set("buffer", Napi::ArrayBuffer::New(env, p, bytes));
  Napi::Object lo = Napi::Object::New(env);
  lo.Set("nWorkers", l.n_workers);
  lo.Set("nPorts", l.n_ports);
  lo.Set("workerStride", l.worker_stride);
  lo.Set("workerFields", l.worker_fields);
  lo.Set("portBase", l.port_base);
  lo.Set("portStride", l.port_stride);
  lo.Set("subifBase", l.subif_base);
  lo.Set("nSubifs", l.n_subifs);
  lo.Set("puntBase", l.punt_base);
  lo.Set("nDropReasons", l.n_drop_reasons);
  lo.Set("nPuntKinds", l.n_punt_kinds);
  lo.Set("nPortCounters", l.n_port_counters);
  o.Set("layout", lo);
  return o;
}

Napi::Value TscHz(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(dp_tsc_hz()));
}

Napi::Value LogTail(const Napi::CallbackInfo &info) {
  return Napi::String::New(info.Env(), dp_log_tail());
}

Napi::Value LogForward(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsBoolean()) return TypeErr(info.Env(), "logForward(on: boolean)");
  dp_log_forward(info[0].As<Napi::Boolean>().Value() ? 1 : 0);
  return info.Env().Undefined();
}

/* { text, dropped }: the pending DPDK log (see dp_log_take) */
Napi::Value LogTake(const Napi::CallbackInfo &info) {
  static char buf[DP_LOG_PENDING + 1];
  uint64_t dropped = 0;
  size_t n = dp_log_take(buf, sizeof(buf), &dropped);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("text", Napi::String::New(info.Env(), buf, n));
  o.Set("dropped", Napi::Number::New(info.Env(), static_cast<double>(dropped)));
  return o;
}

/* { pid, uid, gid } of the peer of a UNIX socket (SO_PEERCRED), or null when unavailable */
Napi::Value PeerCred(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsNumber()) return TypeErr(info.Env(), "peerCred(fd: number)");
  struct ucred cr;
  socklen_t len = sizeof(cr);
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("pid", cr.pid);
  o.Set("uid", cr.uid);
  o.Set("gid", cr.gid);
  return o;
}

/* 0 when bpf() reaches the kernel, else the errno seccomp or an LSM answered (dp_bpf_probe) */
Napi::Value BpfProbe(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), dp_bpf_probe());
}

/* the kernel driver of an interface ("" when unknown) */
Napi::Value IfaceDriver(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsString()) return TypeErr(info.Env(), "ifaceDriver(name: string)");
  char out[64];
  dp_iface_driver(info[0].As<Napi::String>().Utf8Value().c_str(), out, sizeof(out));
  return Napi::String::New(info.Env(), out);
}

// ---- punt / inject ----

void OnPunt(uv_poll_t *, int status, int) {
  if (status < 0 || g_punt_cb.IsEmpty()) return;
  Napi::Env env(g_env);
  Napi::HandleScope scope(env);
  dp_punt_ack();
  dp_punted batch[64];
  // At most kPuntBudget frames per wake-up, so a punt flood cannot hold the event loop:
  // if more are waiting, re-arm the eventfd and let libuv run everything else first.
  // Otherwise sleep only through dp_punt_sleep, which re-checks every ring after arming the
  // workers' wake-up (the argument is at punt_wake in native/dataplane/worker.c).
  constexpr unsigned kPuntBudget = 256;
  unsigned handled = 0;
  for (;;) {
    if (handled >= kPuntBudget) {
      dp_punt_kick();
      break;
    }
    unsigned n = dp_punt_drain(batch, 64);
    if (n == 0) {
      if (dp_punt_sleep()) break;
      continue;
    }
    handled += n;
    Napi::Array arr = Napi::Array::New(env, n);
    for (unsigned i = 0; i < n; i++) {
      Napi::Object f = Napi::Object::New(env);
      f.Set("port", batch[i].port);
      f.Set("iface", batch[i].iface);
      f.Set("kind", batch[i].kind);
      f.Set("data", Napi::Buffer<uint8_t>::Copy(env, batch[i].data, batch[i].len));
      dp_punt_release(&batch[i]);
      arr.Set(i, f);
    }
    g_punt_cb.MakeCallback(env.Global(), {arr}, *g_punt_ctx);
    if (g_punt_cb.IsEmpty()) break;
    if (env.IsExceptionPending()) {
      dp_punt_kick();  // come back for the rest: the workers will not wake a consumer that is awake
      break;
    }
  }
}

Napi::Value PuntListen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) return TypeErr(env, "puntListen(cb: (frames) => void)");
  int fd = dp_punt_fd();
  if (fd < 0) return Throw(env, ENODEV, "the dataplane is not running");
  PuntClose();
  g_env = env;
  g_punt_cb = Napi::Persistent(info[0].As<Napi::Function>());
  g_punt_ctx = new Napi::AsyncContext(env, "dpfwd.punt");
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  g_poll = new uv_poll_t;
  uv_poll_init(loop, g_poll, fd);
  uv_poll_start(g_poll, UV_READABLE, OnPunt);
  return env.Undefined();
}

// [{ waiting, capacity, sinceDrainMs }] per worker: the punt path's liveness, read on request.
Napi::Value PuntStatus(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array arr = Napi::Array::New(env);
  for (unsigned i = 0;; i++) {
    struct dp_punt_status st;
    int rc = dp_punt_status(i, &st);
    if (rc == -EINVAL) break;
    if (rc != 0) return Throw(env, rc, "the dataplane is not running");
    Napi::Object o = Napi::Object::New(env);
    o.Set("waiting", st.waiting);
    o.Set("capacity", st.capacity);
    o.Set("sinceDrainMs", static_cast<double>(st.since_drain_us) / 1000.0);
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value Inject(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !info[1].IsBuffer()) return TypeErr(env, "inject(iface: number, frame: Buffer)");
  uint32_t iface = info[0].As<Napi::Number>().Uint32Value();
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  int rc = iface > 0xffff ? -EINVAL : dp_inject(static_cast<uint16_t>(iface), b.Data(), static_cast<uint32_t>(b.Length()));
  if (rc == 0) return env.Undefined();
  if (rc == -ENOBUFS) return Throw(env, rc, "the inject ring or the mbuf pool is full");
  if (rc == -EMSGSIZE) return Throw(env, rc, "the frame is shorter than an Ethernet header or longer than the interface's MTU");
  if (rc == -EINVAL) return Throw(env, rc, "no such interface");
  return Throw(env, rc, "the dataplane is not running");
}

// ---- Linux mirror interfaces (TAP) ----

struct MirrorPoll {
  uv_poll_t poll;
  int fd;
  Napi::FunctionReference cb;
  Napi::AsyncContext *ctx;
};
std::map<int, MirrorPoll *> g_mirrors;

void MirrorStop(MirrorPoll *mp) {
  uv_poll_stop(&mp->poll);
  mp->cb.Reset();
  delete mp->ctx;
  mp->ctx = nullptr;
  uv_close(reinterpret_cast<uv_handle_t *>(&mp->poll), [](uv_handle_t *h) { delete static_cast<MirrorPoll *>(h->data); });
}

void OnMirror(uv_poll_t *h, int status, int) {
  auto *mp = static_cast<MirrorPoll *>(h->data);
  if (mp->cb.IsEmpty()) return;
  Napi::Env env(g_env);
  Napi::HandleScope scope(env);
  // At most kMirrorBudget frames per wake-up: the poll is level-triggered, so libuv comes back
  // for the rest after everything else had its turn; the TAP's own queue bounds what waits.
  constexpr unsigned kMirrorBudget = 64;
  static uint8_t buf[65536];
  Napi::Array arr = Napi::Array::New(env);
  unsigned n = 0;
  std::string error;
  if (status < 0) error = uv_strerror(status);
  while (error.empty() && n < kMirrorBudget) {
    int len = dp_mirror_read(mp->fd, buf, sizeof(buf));
    if (len == -EAGAIN || len == -EINTR) break;
    if (len < 0) {
      error = strerror(-len);
      break;
    }
    arr.Set(n++, Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(len)));
  }
  Napi::FunctionReference *cb = &mp->cb;
  if (!error.empty()) {
    // a broken fd stays readable: stop polling it (the callback hears why) instead of spinning
    uv_poll_stop(&mp->poll);
  }
  if (n || !error.empty()) {
    std::vector<napi_value> args = {arr};
    if (!error.empty()) args.push_back(Napi::String::New(env, error));
    cb->MakeCallback(env.Global(), args, *mp->ctx);
  }
}

// mirrorOpen(name, netnsPath | null) -> fd
Napi::Value MirrorOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !(info[1].IsString() || info[1].IsNull() || info[1].IsUndefined()))
    return TypeErr(env, "mirrorOpen(name: string, netnsPath: string | null)");
  std::string name = info[0].As<Napi::String>();
  std::string ns = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string();
  char err[DP_ERRLEN] = {0};
  int fd = dp_mirror_open(name.c_str(), info[1].IsString() ? ns.c_str() : nullptr, err, sizeof(err));
  if (fd < 0) return Throw(env, fd, err);
  return Napi::Number::New(env, fd);
}

Napi::Value MirrorCarrier(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !info[1].IsBoolean()) return TypeErr(env, "mirrorCarrier(fd: number, up: boolean)");
  int rc = dp_mirror_carrier(static_cast<int>(info[0].As<Napi::Number>().Uint32Value()), info[1].As<Napi::Boolean>().Value());
  if (rc != 0) return Throw(env, rc, std::string("TUNSETCARRIER: ") + strerror(-rc));
  return env.Undefined();
}

// mirrorWrite(fd, frame) -> 0 or the negative errno (EAGAIN/ENOBUFS: the TAP's queue is full)
Napi::Value MirrorWrite(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !info[1].IsBuffer()) return TypeErr(env, "mirrorWrite(fd: number, frame: Buffer)");
  Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
  int rc = dp_mirror_write(static_cast<int>(info[0].As<Napi::Number>().Uint32Value()), b.Data(), static_cast<uint32_t>(b.Length()));
  return Napi::Number::New(env, rc);
}

// mirrorListen(fd, cb(frames: Buffer[], error?: string))
Napi::Value MirrorListen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !info[1].IsFunction()) return TypeErr(env, "mirrorListen(fd: number, cb: (frames, error?) => void)");
  int fd = static_cast<int>(info[0].As<Napi::Number>().Uint32Value());
  if (g_mirrors.count(fd)) return Throw(env, EEXIST, "the mirror is already polled");
  g_env = env;
  auto *mp = new MirrorPoll();
  mp->fd = fd;
  mp->cb = Napi::Persistent(info[1].As<Napi::Function>());
  mp->ctx = new Napi::AsyncContext(env, "dpfwd.mirror");
  mp->poll.data = mp;
  uv_loop_t *loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &mp->poll, fd);
  if (rc != 0) {
    mp->cb.Reset();
    delete mp->ctx;
    delete mp;
    return Throw(env, EINVAL, std::string("cannot poll the mirror: ") + uv_strerror(rc));
  }
  uv_poll_start(&mp->poll, UV_READABLE, OnMirror);
  g_mirrors[fd] = mp;
  return env.Undefined();
}

// mirrorClose(fd): stops polling and closes the fd (the TAP interface goes away with it)
Napi::Value MirrorClose(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0])) return TypeErr(env, "mirrorClose(fd: number)");
  int fd = static_cast<int>(info[0].As<Napi::Number>().Uint32Value());
  auto it = g_mirrors.find(fd);
  if (it != g_mirrors.end()) {
    MirrorStop(it->second);
    g_mirrors.erase(it);
  }
  close(fd);
  return env.Undefined();
}

// mirrorCtlOpen(netnsPath | null) -> fd of a datagram socket in that namespace (close: mirrorClose)
Napi::Value MirrorCtlOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!(info[0].IsString() || info[0].IsNull() || info[0].IsUndefined())) return TypeErr(env, "mirrorCtlOpen(netnsPath: string | null)");
  std::string ns = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  char err[DP_ERRLEN] = {0};
  int fd = dp_mirror_ctl_open(info[0].IsString() ? ns.c_str() : nullptr, err, sizeof(err));
  if (fd < 0) return Throw(env, fd, err);
  return Napi::Number::New(env, fd);
}

static double MacToNumber(const uint8_t m[6]) {
  double v = 0;
  for (int i = 0; i < 6; i++) v = v * 256 + m[i];
  return v;
}

// mirrorState(tapFd, ctlFd) -> {name, mac (48-bit number), mtu, up}; throws with the errno (EBADFD: deleted)
Napi::Value MirrorState(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !IsUint(info[1])) return TypeErr(env, "mirrorState(tapFd: number, ctlFd: number)");
  struct dp_mirror_state st;
  int rc = dp_mirror_state(static_cast<int>(info[0].As<Napi::Number>().Uint32Value()), static_cast<int>(info[1].As<Napi::Number>().Uint32Value()), &st);
  if (rc != 0) return Throw(env, rc, strerror(-rc));
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", std::string(st.name));
  o.Set("mac", MacToNumber(st.mac));
  o.Set("mtu", st.mtu);
  o.Set("up", st.up != 0);
  return o;
}

// mirrorRestore(tapFd, ctlFd, mac (48-bit number), mtu): MAC, MTU and IFF_UP back to these
Napi::Value MirrorRestore(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || !IsUint(info[1]) || !info[2].IsNumber() || !IsUint(info[3]))
    return TypeErr(env, "mirrorRestore(tapFd: number, ctlFd: number, mac: number, mtu: number)");
  double v = info[2].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v < 281474976710656.0)) return TypeErr(env, "mirrorRestore: mac must be a 48-bit number");
  uint64_t m = static_cast<uint64_t>(v);
  uint8_t mac[6];
  for (int i = 5; i >= 0; i--, m >>= 8) mac[i] = static_cast<uint8_t>(m & 0xff);
  int rc = dp_mirror_restore(static_cast<int>(info[0].As<Napi::Number>().Uint32Value()), static_cast<int>(info[1].As<Napi::Number>().Uint32Value()), mac,
                             info[3].As<Napi::Number>().Uint32Value());
  if (rc != 0) return Throw(env, rc, strerror(-rc));
  return env.Undefined();
}

Napi::Value LinkMulticast(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) return TypeErr(env, "linkMulticast(on: boolean)");
  dp_link_multicast_set(info[0].As<Napi::Boolean>().Value());
  return env.Undefined();
}

// ---- capture and trace (native/dataplane/capture.c) ----

// captureStart({ ports, where, reason, snaplen, ringSize, mbufs, filter })
Napi::Value CaptureStart(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) return TypeErr(env, "captureStart(conf: object)");
  Napi::Object o = info[0].As<Napi::Object>();
  const char *keys[] = {"ports", "where", "reason", "snaplen", "ringSize", "mbufs"};
  for (const char *k : keys)
    if (!IsUint(o.Get(k))) return TypeErr(env, "captureStart: ports, where, reason, snaplen, ringSize, mbufs must be unsigned integers");
  struct dp_capture_conf c;
  memset(&c, 0, sizeof(c));
  c.ports = U32(o, "ports", 0);
  c.where = U32(o, "where", 0);
  c.reason = U32(o, "reason", DP_CAP_ANY_REASON);
  c.snaplen = U32(o, "snaplen", 0);
  c.ring_size = U32(o, "ringSize", 0);
  c.mbufs = U32(o, "mbufs", 0);
  std::string filter;
  Napi::Value f = o.Get("filter");
  if (!f.IsUndefined() && !f.IsNull()) {
    if (!f.IsString()) return TypeErr(env, "captureStart: filter must be a string");
    filter = f.As<Napi::String>().Utf8Value();
  }
  c.filter = filter.c_str();
  char err[DP_ERRLEN] = "";
  int rc = dp_capture_start(&c, err, sizeof(err));
  if (rc != 0) return Throw(env, rc, err);
  return env.Undefined();
}

Napi::Value CaptureStop(const Napi::CallbackInfo &info) {
  dp_capture_stop();
  return info.Env().Undefined();
}

Napi::Value CaptureActive(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), dp_capture_active() != 0);
}

// captureDrain(maxBytes) → one Buffer of dp_captured records, each followed by its bytes padded
// to 8 (src/dataplane/index.ts parses it: one allocation per drain, not one object per packet)
static_assert(sizeof(struct dp_captured) == 24, "src/dataplane/index.ts reads dp_captured as 24 bytes");
Napi::Value CaptureDrain(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0])) return TypeErr(env, "captureDrain(maxBytes: number)");
  size_t cap = info[0].As<Napi::Number>().Uint32Value();
  std::vector<uint8_t> buf(cap);
  unsigned n = 0;
  size_t used = dp_capture_drain(buf.data(), cap, &n);
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), used);
}

Napi::Value TraceStart(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!IsUint(info[0]) || (info.Length() > 1 && !info[1].IsString() && !info[1].IsUndefined()))
    return TypeErr(env, "traceStart(count: number, filter?: string)");
  std::string filter = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  char err[DP_ERRLEN] = "";
  int rc = dp_trace_start(info[0].As<Napi::Number>().Uint32Value(), filter.c_str(), err, sizeof(err));
  if (rc != 0) return Throw(env, rc, err);
  return env.Undefined();
}

Napi::Value TraceStop(const Napi::CallbackInfo &info) {
  dp_trace_stop();
  return info.Env().Undefined();
}

Napi::Value TraceLeft(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), dp_trace_left());
}

Napi::Value TraceActive(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), dp_trace_active() != 0);
}

// traceRead() → the finished records, in worker order
Napi::Value TraceRead(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::vector<struct dp_trace_rec> recs(DP_TRACE_MAX);
  unsigned n = dp_trace_read(recs.data(), DP_TRACE_MAX);
  Napi::Array arr = Napi::Array::New(env, n);
  for (unsigned i = 0; i < n; i++) {
    const struct dp_trace_rec &t = recs[i];
    Napi::Object r = Napi::Object::New(env);
    r.Set("sec", static_cast<double>(t.ts_ns / 1000000000ull));
    r.Set("nsec", static_cast<double>(t.ts_ns % 1000000000ull));
    r.Set("worker", t.worker);
    r.Set("port", t.port);
    r.Set("queue", t.queue);
    r.Set("iface", t.iface);
    r.Set("len", t.len);
    r.Set("fastOk", Napi::Boolean::New(env, t.fast_ok != 0));
    r.Set("check", t.check);
    r.Set("lpm", t.lpm);
    r.Set("result", t.result);
    r.Set("nexthop", t.nh);
    r.Set("nhIface", static_cast<uint32_t>(t.word >> 48));
    r.Set("nhMac", static_cast<double>(t.word & 0xffffffffffffull));
    r.Set("out", t.out);
    r.Set("reason", t.reason);
    r.Set("punt", t.punt);
    r.Set("puntTaken", Napi::Boolean::New(env, t.punt_taken != 0));
    r.Set("data", Napi::Buffer<uint8_t>::Copy(env, t.data, t.snap));
    arr.Set(i, r);
  }
  return arr;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitNetlink(env, exports);
  exports.Set("ealInit", Napi::Function::New(env, EalInit));
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("launch", Napi::Function::New(env, Launch));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("cleanup", Napi::Function::New(env, Cleanup));
  exports.Set("running", Napi::Function::New(env, Running));
  exports.Set("workersAlive", Napi::Function::New(env, WorkersAlive));
  exports.Set("portInfo", Napi::Function::New(env, PortInfo));
  exports.Set("portStats", Napi::Function::New(env, PortStats));
  exports.Set("mempoolInfo", Napi::Function::New(env, MempoolInfo));
  exports.Set("fibInfo", Napi::Function::New(env, FibInfo));
  exports.Set("fibAdd", Napi::Function::New(env, FibAdd));
  exports.Set("fibDel", Napi::Function::New(env, FibDel));
  exports.Set("fibAddBulk", Napi::Function::New(env, FibAddBulk));
  exports.Set("nexthopSet", Napi::Function::New(env, NexthopSet));
  exports.Set("groupSet", Napi::Function::New(env, GroupSet));
  exports.Set("groupDel", Napi::Function::New(env, GroupDel));
  exports.Set("groupBuckets", Napi::Function::New(env, GroupBuckets));
  exports.Set("ifaceSet", Napi::Function::New(env, IfaceSet));
  exports.Set("ifaceDel", Napi::Function::New(env, IfaceDel));
  exports.Set("constants", Napi::Function::New(env, Constants));
  exports.Set("names", Napi::Function::New(env, GetNames));
  exports.Set("counters", Napi::Function::New(env, Counters));
  exports.Set("tscHz", Napi::Function::New(env, TscHz));
  exports.Set("logTail", Napi::Function::New(env, LogTail));
  exports.Set("logForward", Napi::Function::New(env, LogForward));
  exports.Set("logTake", Napi::Function::New(env, LogTake));
  exports.Set("peerCred", Napi::Function::New(env, PeerCred));
  exports.Set("bpfProbe", Napi::Function::New(env, BpfProbe));
  exports.Set("ifaceDriver", Napi::Function::New(env, IfaceDriver));
  exports.Set("puntListen", Napi::Function::New(env, PuntListen));
  exports.Set("inject", Napi::Function::New(env, Inject));
  exports.Set("puntStatus", Napi::Function::New(env, PuntStatus));
  exports.Set("addrFilterSet", Napi::Function::New(env, AddrFilterSet));
  exports.Set("mirrorOpen", Napi::Function::New(env, MirrorOpen));
  exports.Set("mirrorCarrier", Napi::Function::New(env, MirrorCarrier));
  exports.Set("mirrorWrite", Napi::Function::New(env, MirrorWrite));
  exports.Set("mirrorListen", Napi::Function::New(env, MirrorListen));
  exports.Set("mirrorClose", Napi::Function::New(env, MirrorClose));
  exports.Set("mirrorCtlOpen", Napi::Function::New(env, MirrorCtlOpen));
  exports.Set("mirrorState", Napi::Function::New(env, MirrorState));
  exports.Set("mirrorRestore", Napi::Function::New(env, MirrorRestore));
  exports.Set("linkMulticast", Napi::Function::New(env, LinkMulticast));
  exports.Set("captureStart", Napi::Function::New(env, CaptureStart));
  exports.Set("captureStop", Napi::Function::New(env, CaptureStop));
  exports.Set("captureActive", Napi::Function::New(env, CaptureActive));
  exports.Set("captureDrain", Napi::Function::New(env, CaptureDrain));
  exports.Set("traceStart", Napi::Function::New(env, TraceStart));
  exports.Set("traceStop", Napi::Function::New(env, TraceStop));
  exports.Set("traceLeft", Napi::Function::New(env, TraceLeft));
  exports.Set("traceActive", Napi::Function::New(env, TraceActive));
  exports.Set("traceRead", Napi::Function::New(env, TraceRead));
  return exports;
}

}  // namespace

NODE_API_MODULE(dpfwd, Init)
