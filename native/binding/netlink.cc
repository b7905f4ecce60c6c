// Binding glue of native/netlink/route_sync.c: a NetlinkRoute object owns the socket and a uv_poll
// on its descriptor; each wake-up reads up to one batch (kBatchRecords records) and makes ONE
// JS call with it (records as a Uint32Array, multipath paths as a Uint32Array, link names), so a
// dump of a million routes costs a few dozen calls and the event loop runs between batches.
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "route_sync.h"
}

namespace {

constexpr uint32_t kBatchRecords = 32768;
constexpr uint32_t kBatchPaths = 131072;
constexpr uint64_t kCoalesceMs = 2;

class NetlinkRoute : public Napi::ObjectWrap<NetlinkRoute> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkRoute",
                       {InstanceMethod("dump", &NetlinkRoute::Dump), InstanceMethod("close", &NetlinkRoute::Close), InstanceMethod("fd", &NetlinkRoute::Fd)});
  }

  // new NetlinkRoute(netnsPath: string, rcvbuf: number, cb(records, paths, names))
  explicit NetlinkRoute(const Napi::CallbackInfo &info) : Napi::ObjectWrap<NetlinkRoute>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "new NetlinkRoute(netnsPath: string, rcvbuf: number, cb)").ThrowAsJavaScriptException();
      return;
    }
    std::string ns = info[0].As<Napi::String>();
    int rcvbuf = info[1].As<Napi::Number>().Int32Value();
    char err[600] = {0};
    int rc = rs_open(&sock_, ns.c_str(), rcvbuf, err, sizeof(err));
    if (rc < 0) {
      Napi::Error e = Napi::Error::New(env, err);
      e.Set("code", Napi::String::New(env, rc == -EPERM ? "EPERM" : rc == -ENOENT ? "ENOENT" : "ENETLINK"));
      e.Set("errno", Napi::Number::New(env, -rc));
      e.ThrowAsJavaScriptException();
      sock_ = nullptr;
      return;
    }
    recs_.resize(static_cast<size_t>(kBatchRecords) * RS_WORDS);
    paths_.resize(static_cast<size_t>(kBatchPaths) * 3);
    names_.resize(static_cast<size_t>(kBatchRecords) * IF_NAMESIZE);
    cb_ = Napi::Persistent(info[2].As<Napi::Function>());
    ctx_ = new Napi::AsyncContext(env, "dpfwd.netlink");
    env_ = env;
    uv_loop_t *loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    uv_poll_init(loop, poll_, rs_fd(sock_));
    uv_poll_start(poll_, UV_READABLE, OnReadable);
    timer_ = new uv_timer_t;
    timer_->data = this;
    uv_timer_init(loop, timer_);
    Ref();  // alive while the poll is: close() lets it go
  }

  ~NetlinkRoute() override { Shut(); }

 private:
  // Changes are coalesced while they arrive: the first readable wake-up of a quiet socket waits
  // kCoalesceMs (the poll stopped) and then reads what came meanwhile as one batch, so a routing
  // daemon adding routes one message at a time costs one JS call per few thousand routes, not
  // per route. A dump's reply is read at once (it is one batch after another anyway).
  static void OnReadable(uv_poll_t *h, int status, int) {
    auto *self = static_cast<NetlinkRoute *>(h->data);
    if (!self || !self->sock_) return;
    if (status < 0 || rs_dump_running(self->sock_)) {
      self->Deliver(status);
      return;
    }
    uv_poll_stop(self->poll_);
    uv_timer_start(self->timer_, OnCoalesced, kCoalesceMs, 0);
  }

  static void OnCoalesced(uv_timer_t *t) {
    auto *self = static_cast<NetlinkRoute *>(t->data);
    if (!self || !self->sock_) return;
    uv_poll_start(self->poll_, UV_READABLE, OnReadable);
    self->Deliver(0);
  }

  void Deliver(int status) {
    if (!sock_) return;
    Napi::Env env(env_);
    Napi::HandleScope scope(env);
    rs_batch b{};
    b.recs = recs_.data();
    b.cap_recs = kBatchRecords;
    b.paths = paths_.data();
    b.cap_paths = kBatchPaths;
    b.names = reinterpret_cast<char(*)[IF_NAMESIZE]>(names_.data());
    // libuv reports a socket error (EPOLLERR: the kernel set ENOBUFS on overflow) as a failed
    // poll and stops the handle; the read below takes the error (an overflow record) and the
    // poll starts again. Only an error that a read does not clear, wake-up after wake-up, is fatal.
    int err = 0;
    int rc = rs_read(sock_, &b);
    if (rc < 0)
      err = -rc;
    else if (status < 0) {
      if (rc == 0 && ++error_wakeups_ > 100)
        err = EIO;
      else
        uv_poll_start(poll_, UV_READABLE, OnReadable);
    }
    if (rc > 0) error_wakeups_ = 0;
    if (err) {
      // the socket is broken: report it once and stop polling (the control plane shows it)
      uint32_t *r = &b.recs[static_cast<size_t>(b.n_recs++) * RS_WORDS];
      std::memset(r, 0, RS_WORDS * sizeof(uint32_t));
      r[0] = RS_ERROR;
      r[1] = static_cast<uint32_t>(err);
      uv_poll_stop(poll_);
    }
    if (b.n_recs == 0) return;
    Napi::ArrayBuffer rb = Napi::ArrayBuffer::New(env, static_cast<size_t>(b.n_recs) * RS_WORDS * 4);
    std::memcpy(rb.Data(), b.recs, rb.ByteLength());
    Napi::ArrayBuffer pb = Napi::ArrayBuffer::New(env, static_cast<size_t>(b.n_paths) * 3 * 4);
    if (b.n_paths) std::memcpy(pb.Data(), b.paths, pb.ByteLength());
    Napi::Array names = Napi::Array::New(env, b.n_names);
    for (uint32_t i = 0; i < b.n_names; i++) names.Set(i, Napi::String::New(env, b.names[i]));
    cb_.MakeCallback(env.Global(),
                     {Napi::Uint32Array::New(env, static_cast<size_t>(b.n_recs) * RS_WORDS, rb, 0),
                      Napi::Uint32Array::New(env, static_cast<size_t>(b.n_paths) * 3, pb, 0), names},
                     *ctx_);
  }

  Napi::Value Dump(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) {
      Napi::TypeError::New(env, "dump(what: number)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (!sock_) return Napi::Number::New(env, -EBADF);
    return Napi::Number::New(env, rs_dump(sock_, info[0].As<Napi::Number>().Int32Value()));
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), sock_ ? rs_fd(sock_) : -1); }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    if (sock_) {
      Shut();
      Unref();
    }
    return info.Env().Undefined();
  }

  void Shut() {
    if (timer_) {
      uv_timer_stop(timer_);
      timer_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t *>(timer_), [](uv_handle_t *h) { delete reinterpret_cast<uv_timer_t *>(h); });
      timer_ = nullptr;
    }
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
      poll_ = nullptr;
    }
    if (sock_) {
      rs_close(sock_);
      sock_ = nullptr;
    }
    if (!cb_.IsEmpty()) cb_.Reset();
    delete ctx_;
    ctx_ = nullptr;
  }

  rs_sock *sock_ = nullptr;
  unsigned error_wakeups_ = 0;
  uv_poll_t *poll_ = nullptr;
  uv_timer_t *timer_ = nullptr;
  napi_env env_ = nullptr;
  Napi::FunctionReference cb_;
  Napi::AsyncContext *ctx_ = nullptr;
  std::vector<uint32_t> recs_, paths_;
  std::vector<char> names_;  // kBatchRecords names of IF_NAMESIZE bytes
};

}  // namespace

// The route-sync constants (route_sync.h) and the class; called from binding.cc's Init.
void InitNetlink(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkRoute", NetlinkRoute::Define(env));
  Napi::Object c = Napi::Object::New(env);
  c.Set("words", RS_WORDS);
  c.Set("newRoute", static_cast<int>(RS_NEWROUTE));
  c.Set("delRoute", static_cast<int>(RS_DELROUTE));
  c.Set("newLink", static_cast<int>(RS_NEWLINK));
  c.Set("delLink", static_cast<int>(RS_DELLINK));
  c.Set("done", static_cast<int>(RS_DONE));
  c.Set("overflow", static_cast<int>(RS_OVERFLOW));
  c.Set("error", static_cast<int>(RS_ERROR));
  c.Set("fromDump", static_cast<int>(RS_F_DUMP));
  c.Set("interrupted", static_cast<int>(RS_F_INTR));
  c.Set("replaced", static_cast<int>(RS_F_REPLACE));
  c.Set("dumpLinks", static_cast<int>(RS_DUMP_LINKS));
  c.Set("dumpRoutes", static_cast<int>(RS_DUMP_ROUTES));
  exports.Set("netlinkConstants", c);
}
