// The process events of promise rejections (lib/internal/process/promises.js):
// process.on('unhandledRejection', (reason, promise) => ...) and
// process.on('rejectionHandled', (promise) => ...). The runtime decides when each is emitted
// (processPromiseRejections, after a full drain, as the --unhandled-rejections mode says:
// docs/node-semantics.md "Unhandled rejections"); these ops only add listeners.
//
// 'uncaughtException' is not among them: the runtime has no hook for it (an uncaught
// exception ends the run, as it ends a Node process without such a listener).

#include <fmt/format.h>

#include "async/ops.hpp"
#include "script/interpreter.hpp"
#include "script/parser.hpp"
#include "script/twin.hpp"

namespace nodelab::async {

namespace {

enum class ProcessEvent : std::uint8_t { unhandled_rejection, rejection_handled };
constexpr std::string_view kProcessEvents[] = {"unhandledRejection", "rejectionHandled"};

class ProcessOnOp final : public script::Op {
 public:
  ProcessOnOp(ProcessEvent event, script::Body then) : event_(event), then_(std::move(then)) {}
  std::string_view name() const override { return "processOn"; }
  script::Flow run(const script::Exec& ex) const override {
    script::Interpreter& interp = ex.interp;
    if (event_ == ProcessEvent::unhandled_rejection) {
      // (reason, promise): `{error}` is reason.message, undefined for a reason that is not
      // an Error (a primitive has no `message`).
      ex.rt.on_unhandled_rejection(
          [&interp, this](const runtime::JsError& reason, runtime::PromiseId) {
            interp.run_body(then_, std::make_shared<const std::string>(
                                       reason.is_error ? reason.message : "undefined"));
          },
          site);
    } else {
      ex.rt.on_rejection_handled(
          [&interp, this, error = ex.error](runtime::PromiseId) { interp.run_body(then_, error); },
          site);
    }
    return {};
  }
  void emit_twin(script::TwinWriter& w) const override {
    if (event_ == ProcessEvent::unhandled_rejection) {
      w.function("process.on('unhandledRejection', (e, promise) => {", then_, ");");
    } else {
      w.function("process.on('rejectionHandled', (promise) => {", then_, ");");
    }
  }
  std::string describe() const override {
    return fmt::format("process.on {}", kProcessEvents[static_cast<int>(event_)]);
  }

 private:
  ProcessEvent event_;
  script::Body then_;
};

std::unique_ptr<script::Op> parse_process_on(script::Parser& p, const YAML::Node& v) {
  script::Fields f = p.fields(v, "processOn", {"event", "then"});
  const std::string event = f.string("event");
  const auto* it = std::find(std::begin(kProcessEvents), std::end(kProcessEvents), event);
  if (it == std::end(kProcessEvents)) {
    p.fail(f.get("event"),
           fmt::format("`event` of `processOn` must be unhandledRejection or rejectionHandled; "
                       "got '{}'{}",
                       event,
                       event == "uncaughtException"
                           ? " (an uncaught exception ends the run: no listener is modelled)"
                           : ""));
  }
  const auto e = static_cast<ProcessEvent>(it - std::begin(kProcessEvents));
  // The 'unhandledRejection' listener's first argument is the reason: `{error}` stands for its
  // message there, as inside a catch body.
  return std::make_unique<ProcessOnOp>(
      e, f.body("then", e == ProcessEvent::unhandled_rejection ? script::BodyKind::error_callback
                                                               : script::BodyKind::callback));
}

}  // namespace

void add_process_ops(script::OpRegistry& r) {
  r.add("processOn", parse_process_on,
        "process.on(event, listener): unhandledRejection ({error} is the reason's message) or "
        "rejectionHandled");
  r.add_metrics({
      {"rejections.raised", "", "promises rejected with no handler (the rejection ids given)"},
      {"rejections.handledInDrain", "",
       "of those, given a handler before the check: nothing emitted"},
      {"rejections.unhandled", "", "still unhandled at a check (processPromiseRejections)"},
      {"rejections.events", "", "'unhandledRejection' emits that had a listener"},
      {"rejections.handledLate", "", "handlers attached after the check (rejectionHandled)"},
      {"rejections.rejectionHandledEvents", "", "'rejectionHandled' emits that had a listener"},
      {"rejections.warnings", "", "process warnings the rejection machinery emitted"},
      {"process.exitCode", "",
       "the exit code: 1 after an uncaught exception or a fatal rejection, else process.exitCode"},
  });
}

void collect_process_metrics(script::Interpreter& interp, metrics::MetricSet& out) {
  const runtime::Runtime& rt = interp.rt();
  const runtime::RejectionStats& s = rt.rejection_stats();
  out.set("process.exitCode", static_cast<double>(rt.process_exit_code()));
  if (s.raised == 0) return;  // no promise rejected unhandled: nothing to report
  out.set("rejections.raised", static_cast<double>(s.raised));
  out.set("rejections.handledInDrain", static_cast<double>(s.handled_in_drain));
  out.set("rejections.unhandled", static_cast<double>(s.unhandled));
  out.set("rejections.events", static_cast<double>(s.events));
  out.set("rejections.handledLate", static_cast<double>(s.handled_late));
  out.set("rejections.rejectionHandledEvents", static_cast<double>(s.rejection_handled_events));
  out.set("rejections.warnings", static_cast<double>(s.warnings));
}

}  // namespace nodelab::async
