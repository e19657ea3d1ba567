// The `requests:` block (scenarios/emitter/README.md): N simulated requests, one per loop
// iteration, each adding a listener to a long-lived emitter whose closure retains a real
// payload, then ending, and cleaning up according to the strategy:
//
//   leak          server.on(event, fn)                      never removed
//   off           server.on(event, fn) ... server.off(event, fn) at the end
//   once          server.once(event, fn)                    removed when the event next fires
//   abort-signal  server.on(event, fn) + an AbortController whose 'abort' listener (added with
//                 events.addAbortListener) removes fn; the request aborts it when it ends
//
// The long-lived emitter emits `event` every `emit_every` requests (what makes `once` clean up)
// and the block logs the listener count every `sample_every` requests. The block runs after
// the main script, as a setImmediate chain: the loop goes round between two requests.

#include <fmt/format.h>

#include "emitter/world.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"

namespace nodelab::emitter {

namespace {

enum class Strategy : std::uint8_t { leak, off, once, abort_signal };
constexpr std::string_view kStrategies[] = {"leak", "off", "once", "abort-signal"};

struct Config {
  std::int64_t count = 0;
  std::int64_t payload_bytes = 1024;
  Strategy strategy = Strategy::leak;
  std::string emitter = "server";
  std::string event = "change";
  std::int64_t emit_every = 1000;
  std::int64_t sample_every = 1000;
  std::optional<std::int64_t> max_retained_bytes;
};

// An AbortController and its signal's 'abort' listeners, as events.addAbortListener uses them:
// abort() runs them synchronously, once.
struct AbortController {
  bool aborted = false;
  std::vector<std::function<void()>> on_abort;
  void abort() {
    if (aborted) return;
    aborted = true;
    for (auto& f : on_abort)
      f();
  }
};

struct Run : std::enable_shared_from_this<Run> {
  Config cfg;
  World* world = nullptr;
  runtime::Site site = 0;
  std::int64_t i = 0;

  void start() {
    world->stats.ran = true;
    world->stats.planned = static_cast<std::uint64_t>(cfg.count);
    world->stats.payload_bytes = static_cast<std::uint64_t>(cfg.payload_bytes);
    schedule();
  }
  void schedule() {
    auto self = shared_from_this();
    world->rt().set_immediate([self] { self->request(); }, site);
  }

  void request() {
    runtime::Runtime& rt = world->rt();
    RequestStats& st = world->stats;
    EventEmitter& e = world->get(cfg.emitter);
    ++i;
    const auto payload = static_cast<std::uint64_t>(cfg.payload_bytes);
    if (cfg.max_retained_bytes &&
        (st.live + 1) * payload > static_cast<std::uint64_t>(*cfg.max_retained_bytes)) {
      st.stopped_at = static_cast<std::uint64_t>(i);
      rt.log(
          fmt::format("ceiling: {} requests retain {} bytes; request {} would pass "
                      "max_retained_bytes ({}): no more requests",
                      i - 1, st.live * payload, i, *cfg.max_retained_bytes));
      return;
    }
    world->current_request = static_cast<std::uint64_t>(i);

    // The request's listener: a closure that keeps its payload alive (really allocated and
    // touched, so it is resident memory).
    auto fn = std::make_shared<Function>();
    fn->retained.assign(static_cast<std::size_t>(cfg.payload_bytes), 1);
    auto self = shared_from_this();
    if (cfg.strategy == Strategy::once) fn->call = [self] { --self->world->stats.live; };
    ++st.live;
    st.peak_live = std::max(st.peak_live, st.live);
    if (cfg.strategy == Strategy::once) {
      e.once(cfg.event, fn);
    } else {
      e.on(cfg.event, fn);
    }
    AbortController ac;
    if (cfg.strategy == Strategy::abort_signal) {
      ac.on_abort.push_back([&e, fn, this] {
        e.remove_listener(cfg.event, fn);
        --world->stats.live;
      });
    }

    // ... the request's work would be here; then it ends:
    if (cfg.strategy == Strategy::off) {
      e.remove_listener(cfg.event, fn);
      --st.live;
    } else if (cfg.strategy == Strategy::abort_signal) {
      ac.abort();
    }

    if (cfg.emit_every > 0 && i % cfg.emit_every == 0) {
      const std::size_t listeners = e.listener_count(cfg.event);
      const runtime::Nanos t0 = runtime::hrtime();
      e.emit(cfg.event);
      const runtime::Nanos dt = runtime::hrtime() - t0;
      ++st.emits;
      st.max_emit_ms = std::max(st.max_emit_ms, runtime::to_ms(dt));
      if (listeners > 0) {
        st.emit_ns_per_listener.record(static_cast<std::uint64_t>(dt.count()) / listeners);
      }
    }
    if (i % cfg.sample_every == 0) {
      rt.log(fmt::format("after {} requests: {} listeners", i, e.listener_count(cfg.event)));
    }
    rt.sample("listenerCount", static_cast<double>(e.listener_count(cfg.event)));
    rt.sample("retainedBytes", static_cast<double>(st.live * payload));
    st.requests = static_cast<std::uint64_t>(i);
    world->current_request = 0;
    if (i < cfg.count) {
      schedule();
    } else {
      rt.log(fmt::format("requests done: {} requests, {} listeners still attached", i, st.live));
    }
  }
};

class RequestsOp final : public script::Op {
 public:
  explicit RequestsOp(Config cfg) : cfg_(std::move(cfg)) {}
  std::string_view name() const override { return "requests"; }
  script::Flow run(const script::Exec& ex) const override {
    script::start_block_run<Run, World>(ex, cfg_, site);
    return {};
  }
  std::string describe() const override {
    return fmt::format("requests x{} ({})", cfg_.count,
                       kStrategies[static_cast<int>(cfg_.strategy)]);
  }
  void emit_twin(script::TwinWriter& w) const override {
    use_emitter(w, cfg_.emitter);
    const std::string em = emitter_js(cfg_.emitter);
    const std::string ev = script::js_string(cfg_.event);
    const auto strategy = cfg_.strategy;
    w.line(fmt::format(
        "// requests: {} requests, strategy {}: each adds a listener to {} {} whose "
        "closure retains {} bytes",
        cfg_.count, kStrategies[static_cast<int>(strategy)], em, ev, cfg_.payload_bytes));
    w.open("{");
    w.line(fmt::format("const count = {}, payloadBytes = {}, emitEvery = {}, sampleEvery = {};",
                       cfg_.count, cfg_.payload_bytes, cfg_.emit_every, cfg_.sample_every));
    w.line(fmt::format("const maxRetained = {};", cfg_.max_retained_bytes
                                                      ? std::to_string(*cfg_.max_retained_bytes)
                                                      : std::string("Infinity")));
    w.line("let i = 0, live = 0;");
    w.open("const request = () => {");
    w.line("i++;");
    w.open("if ((live + 1) * payloadBytes > maxRetained) {");
    w.line(
        "console.log(`ceiling: ${i - 1} requests retain ${live * payloadBytes} bytes; request "
        "${i} would pass max_retained_bytes (${maxRetained}): no more requests`);");
    w.line("return;");
    w.close("}");
    w.line("const payload = Buffer.alloc(payloadBytes, 1);");
    w.line(strategy == Strategy::once ? "const listener = () => { payload[0]; live--; };"
                                      : "const listener = () => { payload[0]; };");
    w.line("live++;");
    w.line(fmt::format("{}.{}({}, listener);", em, strategy == Strategy::once ? "once" : "on", ev));
    if (strategy == Strategy::abort_signal) {
      w.line("const ac = new AbortController();");
      w.line(
          fmt::format("require('events').addAbortListener(ac.signal, () => {{ {}.off({}, "
                      "listener); live--; }});",
                      em, ev));
    }
    if (strategy == Strategy::off) w.line(fmt::format("{}.off({}, listener); live--;", em, ev));
    if (strategy == Strategy::abort_signal) w.line("ac.abort();");
    w.line(fmt::format("if (emitEvery > 0 && i % emitEvery === 0) {}.emit({});", em, ev));
    w.line(
        fmt::format("if (i % sampleEvery === 0) console.log(`after ${{i}} requests: "
                    "${{{}.listenerCount({})}} listeners`);",
                    em, ev));
    w.line("if (i < count) setImmediate(request);");
    w.line("else console.log(`requests done: ${i} requests, ${live} listeners still attached`);");
    w.close("};");
    w.line("setImmediate(request);");
    w.close("}");
  }

 private:
  Config cfg_;
};

}  // namespace

void add_request_block(script::OpRegistry& r) {
  r.add_block("requests", [](script::Parser& p, const YAML::Node& v, script::Scenario&) {
    script::Fields f = p.fields(v, "requests",
                                {"count", "payload_bytes", "strategy", "emitter", "event",
                                 "emit_every", "sample_every", "max_retained_bytes"});
    Config cfg;
    cfg.count = f.integer("count", 1, p.limits().max_times);
    cfg.payload_bytes = f.integer("payload_bytes", 0, 1 << 20, 1024);
    const std::string strategy = f.string("strategy", std::string("leak"));
    const auto* it = std::find(std::begin(kStrategies), std::end(kStrategies), strategy);
    if (it == std::end(kStrategies)) {
      p.fail(f.get("strategy"), fmt::format("`strategy` of `requests` must be leak, off, once or "
                                            "abort-signal; got '{}'",
                                            strategy));
    }
    cfg.strategy = static_cast<Strategy>(it - std::begin(kStrategies));
    if (f.has("emitter")) cfg.emitter = f.identifier("emitter");
    if (f.has("event")) cfg.event = f.string("event");
    cfg.emit_every = f.integer("emit_every", 0, cfg.count, std::min<std::int64_t>(1000, cfg.count));
    cfg.sample_every =
        f.integer("sample_every", 1, cfg.count, std::min<std::int64_t>(1000, cfg.count));
    if (f.has("max_retained_bytes")) {
      cfg.max_retained_bytes = f.integer("max_retained_bytes", 0, std::int64_t{1} << 40);
    }
    p.add_expanded(static_cast<double>(cfg.count), v);
    // The requests start once the main script has run: the block is its last op.
    p.append_block_op(std::make_unique<RequestsOp>(std::move(cfg)), v);
  });
}

}  // namespace nodelab::emitter
