// The emitter lab's ops (docs/scenario-format.md, "Ops of the emitter lab") and their twins.

#include <fmt/format.h>

#include <map>
#include <set>

#include "emitter/world.hpp"
#include "runtime/js_number.hpp"
#include "script/parser.hpp"
#include "script/shared_ops.hpp"
#include "script/twin.hpp"

namespace nodelab::emitter {

namespace {

using script::Body;
using script::BodyKind;
using script::Exec;
using script::Fields;
using script::Flow;
using script::Parser;
using script::TwinWriter;

// Listener ids across the file: the twin names a listener `L.<id>`, or `L['<emitter>.<id>']`
// when the same id is used on more than one emitter (ids hold no '.', so no two meet;
// docs/scenario-format.md).
struct ListenerIds {
  std::map<std::string, std::set<std::string>> emitters_of;  // id -> emitters adding it
  struct OffUse {
    std::string emitter, id;
    script::SourceLoc loc;
  };
  std::vector<OffUse> offs;
  std::string key(const std::string& emitter, const std::string& id) const {
    const auto it = emitters_of.find(id);
    if (it != emitters_of.end() && it->second.size() > 1) {
      return "L[" + script::js_string(emitter + "." + id) + "]";
    }
    return "L." + id;
  }
};

std::shared_ptr<ListenerIds> ids_of(Parser& p) {
  auto& slot = p.scenario().blocks["emitter.ids"];
  if (!slot.has_value()) slot = std::make_shared<ListenerIds>();
  return std::any_cast<std::shared_ptr<ListenerIds>>(slot);
}

std::string event_js(const std::string& event) {
  return script::js_string(event);
}

// ---- on / once / prependListener / prependOnceListener ----

enum class AddKind : std::uint8_t { on, once, prepend, prepend_once };
constexpr std::string_view kAddNames[] = {"on", "once", "prependListener", "prependOnceListener"};

class AddListenerOp final : public script::Op {
 public:
  AddListenerOp(AddKind kind, std::string emitter, std::string event, std::string id, Body then,
                std::shared_ptr<ListenerIds> ids)
      : kind_(kind),
        emitter_(std::move(emitter)),
        event_(std::move(event)),
        id_(std::move(id)),
        then_(std::move(then)),
        ids_(std::move(ids)) {}
  std::string_view name() const override { return kAddNames[static_cast<int>(kind_)]; }
  Flow run(const Exec& ex) const override {
    World& w = ex.interp.extension<World>();
    EventEmitter& e = w.get(emitter_);
    // `bus.on('data', L.a = function () {...})`: L.a is assigned before on() runs (and before
    // any 'newListener' listener sees the addition).
    auto fn = std::make_shared<Function>(Function{id_, ex.callback(then_), {}});
    w.latest(emitter_, id_) = fn;
    switch (kind_) {
      case AddKind::on:
        e.on(event_, fn);
        break;
      case AddKind::once:
        e.once(event_, fn);
        break;
      case AddKind::prepend:
        e.prepend_listener(event_, fn);
        break;
      case AddKind::prepend_once:
        e.prepend_once_listener(event_, fn);
        break;
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    w.function(fmt::format("{}.{}({}, {} = function () {{", emitter_js(emitter_), name(),
                           event_js(event_), ids_->key(emitter_, id_)),
               then_, ");");
  }
  std::string describe() const override {
    return fmt::format("{}.{}('{}', {})", emitter_, name(), event_, id_);
  }

 private:
  AddKind kind_;
  std::string emitter_, event_, id_;
  Body then_;
  std::shared_ptr<ListenerIds> ids_;
};

// ---- off ----

class OffOp final : public script::Op {
 public:
  OffOp(std::string emitter, std::string event, std::string id, std::shared_ptr<ListenerIds> ids)
      : emitter_(std::move(emitter)),
        event_(std::move(event)),
        id_(std::move(id)),
        ids_(std::move(ids)) {}
  std::string_view name() const override { return "off"; }
  Flow run(const Exec& ex) const override {
    World& w = ex.interp.extension<World>();
    const FunctionRef fn = w.latest(emitter_, id_);
    if (!fn) {
      // L.<id> is still undefined: checkListener throws.
      throw runtime::JsThrow(runtime::JsError{
          "TypeError", "ERR_INVALID_ARG_TYPE",
          "The \"listener\" argument must be of type function. Received undefined"});
    }
    w.get(emitter_).remove_listener(event_, fn);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    w.line(fmt::format("{}.off({}, {});", emitter_js(emitter_), event_js(event_),
                       ids_->key(emitter_, id_)));
  }
  std::string describe() const override {
    return fmt::format("{}.off('{}', {})", emitter_, event_, id_);
  }

 private:
  std::string emitter_, event_, id_;
  std::shared_ptr<ListenerIds> ids_;
};

// ---- removeAllListeners / setMaxListeners / emit / listenerCount ----

class RemoveAllOp final : public script::Op {
 public:
  RemoveAllOp(std::string emitter, std::optional<std::string> event)
      : emitter_(std::move(emitter)), event_(std::move(event)) {}
  std::string_view name() const override { return "removeAllListeners"; }
  Flow run(const Exec& ex) const override {
    EventEmitter& e = ex.interp.extension<World>().get(emitter_);
    if (event_) {
      e.remove_all_listeners(*event_);
    } else {
      e.remove_all_listeners();
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    w.line(fmt::format("{}.removeAllListeners({});", emitter_js(emitter_),
                       event_ ? event_js(*event_) : ""));
  }

 private:
  std::string emitter_;
  std::optional<std::string> event_;
};

class SetMaxOp final : public script::Op {
 public:
  SetMaxOp(std::string emitter, double n) : emitter_(std::move(emitter)), n_(n) {}
  std::string_view name() const override { return "setMaxListeners"; }
  Flow run(const Exec& ex) const override {
    ex.interp.extension<World>().get(emitter_).set_max_listeners(n_);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    w.line(fmt::format("{}.setMaxListeners({});", emitter_js(emitter_),
                       runtime::js_number_to_string(n_)));
  }
  std::string describe() const override {
    return fmt::format("{}.setMaxListeners({})", emitter_, runtime::js_number_to_string(n_));
  }

 private:
  std::string emitter_;
  double n_;
};

class EmitOp final : public script::Op {
 public:
  EmitOp(std::string emitter, std::string event, EmitArg arg)
      : emitter_(std::move(emitter)), event_(std::move(event)), arg_(std::move(arg)) {}
  std::string_view name() const override { return "emit"; }
  Flow run(const Exec& ex) const override {
    ex.interp.extension<World>().get(emitter_).emit(event_, arg_);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    std::string args = event_js(event_);
    if (arg_.kind == EmitArg::Kind::string) args += ", " + script::js_string(arg_.text);
    if (arg_.kind == EmitArg::Kind::error) {
      args += ", new Error(" + script::js_string(arg_.text) + ")";
    }
    w.line(fmt::format("{}.emit({});", emitter_js(emitter_), args));
  }
  std::string describe() const override { return fmt::format("{}.emit('{}')", emitter_, event_); }

 private:
  std::string emitter_, event_;
  EmitArg arg_;
};

class ListenerCountOp final : public script::Op {
 public:
  ListenerCountOp(std::string emitter, std::string event)
      : emitter_(std::move(emitter)), event_(std::move(event)) {}
  std::string_view name() const override { return "listenerCount"; }
  Flow run(const Exec& ex) const override {
    const auto n = ex.interp.extension<World>().get(emitter_).listener_count(event_);
    ex.rt.log(fmt::format("listenerCount({}, {}) = {}", emitter_, event_, n));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_emitter(w, emitter_);
    w.line(fmt::format("console.log({} + {}.listenerCount({}));",
                       script::js_string(fmt::format("listenerCount({}, {}) = ", emitter_, event_)),
                       emitter_js(emitter_), event_js(event_)));
  }

 private:
  std::string emitter_, event_;
};

std::string event_field(Parser& p, Fields& f) {
  std::string event = f.string("event");
  if (event.empty()) p.fail(f.get("event"), "`event` must not be empty");
  return event;
}

}  // namespace

void add_request_block(script::OpRegistry& r);  // requests.cpp

void use_emitter(script::TwinWriter& w, const std::string& name) {
  w.require("events", "const { EventEmitter } = require('events');");
  // Tables without a prototype: `L.__proto__` or `E.constructor` is an own property like any.
  w.declare("(listeners)", "const L = Object.create(null);");
  w.declare("(emitters)", "const E = Object.create(null);");
  w.declare("emitter " + name, emitter_js(name) + " = new EventEmitter();");
}

std::string emitter_js(const std::string& name) {
  return "E." + name;
}

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("emitter");
  r.add_metrics(World::metric_table());

  for (int k = 0; k < 4; ++k) {
    const auto kind = static_cast<AddKind>(k);
    const std::string name(kAddNames[k]);
    r.add(
        name,
        [kind, name](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
          Fields f = p.fields(v, name, {"emitter", "event", "id", "then"});
          std::string emitter = f.identifier("emitter");
          std::string event = event_field(p, f);
          std::string id = f.identifier("id");
          auto ids = ids_of(p);
          ids->emitters_of[id].insert(emitter);
          return std::make_unique<AddListenerOp>(kind, std::move(emitter), std::move(event),
                                                 std::move(id), f.body("then", BodyKind::callback),
                                                 ids);
        },
        fmt::format("bus.{}(event, L.id = function () {{then}})", name));
  }
  r.add(
      "off",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "off", {"emitter", "event", "id"});
        std::string emitter = f.identifier("emitter");
        std::string event = event_field(p, f);
        std::string id = f.identifier("id");
        auto ids = ids_of(p);
        ids->offs.push_back({emitter, id, p.loc(f.get("id"))});
        return std::make_unique<OffOp>(std::move(emitter), std::move(event), std::move(id), ids);
      },
      "bus.off(event, L.id): the newest function with that id");
  r.add(
      "removeAllListeners",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "removeAllListeners", {"emitter", "event"});
        std::string emitter = f.identifier("emitter");
        std::optional<std::string> event;
        if (f.has("event")) event = event_field(p, f);
        return std::make_unique<RemoveAllOp>(std::move(emitter), std::move(event));
      },
      "bus.removeAllListeners([event])");
  r.add(
      "setMaxListeners",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "setMaxListeners", {"emitter", "n"});
        std::string emitter = f.identifier("emitter");
        // validateNumber(n, 'setMaxListeners', 0): Node throws ERR_OUT_OF_RANGE below 0 or
        // for NaN; Infinity is allowed (no limit, like 0).
        const double n = f.number_in("n", 0, std::numeric_limits<double>::infinity());
        return std::make_unique<SetMaxOp>(std::move(emitter), n);
      },
      "bus.setMaxListeners(n): n >= 0; 0 (or .inf) means no limit");
  r.add(
      "emit",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "emit", {"emitter", "event", "arg", "error"});
        std::string emitter = f.identifier("emitter");
        std::string event = event_field(p, f);
        EmitArg arg;
        if (f.has("arg") && f.has("error")) {
          p.fail(f.get("error"), "`emit` takes `arg` or `error`, not both");
        }
        if (f.has("arg")) arg = {EmitArg::Kind::string, f.string("arg")};
        if (f.has("error")) arg = {EmitArg::Kind::error, f.string("error")};
        return std::make_unique<EmitOp>(std::move(emitter), std::move(event), std::move(arg));
      },
      "bus.emit(event[, arg | new Error(error)])");
  r.add(
      "listenerCount",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "listenerCount", {"emitter", "event"});
        std::string emitter = f.identifier("emitter");
        return std::make_unique<ListenerCountOp>(std::move(emitter), event_field(p, f));
      },
      "logs `listenerCount(bus, event) = N`");

  // An `off` must name an id that some op adds on that emitter (else L.<id> is always
  // undefined and Node throws a TypeError).
  r.add_check([](script::Scenario& s) {
    const auto it = s.blocks.find("emitter.ids");
    if (it == s.blocks.end()) return;
    const auto ids = std::any_cast<std::shared_ptr<ListenerIds>>(it->second);
    for (const auto& off : ids->offs) {
      const auto used = ids->emitters_of.find(off.id);
      if (used == ids->emitters_of.end() || used->second.count(off.emitter) == 0) {
        throw script::ScenarioError(
            off.loc,
            fmt::format("no op adds a listener with id '{}' to emitter '{}'", off.id, off.emitter));
      }
    }
  });
  add_request_block(r);
  return r;
}

}  // namespace nodelab::emitter
