#include "event-loop/ops.hpp"

#include "script/interpreter.hpp"
#include "script/parser.hpp"
#include "script/shared_ops.hpp"
#include "script/twin.hpp"

namespace nodelab::event_loop {

namespace {

// net.Socket#destroy() on a socket that never connected: the one op that schedules a callback
// in libuv's close phase (uv_close's callback), so scenarios can show `close` after `check`.
class DestroySocketOp final : public script::Op {
 public:
  explicit DestroySocketOp(script::Body then) : then_(std::move(then)) {}
  std::string_view name() const override { return "destroySocket"; }
  script::Flow run(const script::Exec& ex) const override {
    ex.rt.close_handle(ex.callback(then_), site);
    return {};
  }
  void emit_twin(script::TwinWriter& w) const override {
    w.require("net", "const net = require('net');");
    // destroy() before any connection attempt: the TCP handle is closed with uv_close and
    // 'close' is emitted from its close callback (lib/net.js), in the close phase.
    w.open("{ const socket = net.connect({ port: 9, host: '127.0.0.1' });");
    w.function("socket.on('close', () => {", then_, ");");
    w.line("socket.destroy();");
    w.close("}");
  }

 private:
  script::Body then_;
};

}  // namespace

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("event-loop");
  r.add(
      "destroySocket",
      [](script::Parser& p, const YAML::Node& v) {
        script::Fields f = p.fields(v, "destroySocket", {"then"});
        (void)p;
        return std::make_unique<DestroySocketOp>(f.body("then", script::BodyKind::callback));
      },
      "net.Socket#destroy(): its 'close' listener {then} runs in the close phase");
  return r;
}

}  // namespace nodelab::event_loop
