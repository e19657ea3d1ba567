// Error-first callbacks, Node's oldest asynchronous convention (lib/fs.js readFile: the
// callback gets `(err)` or `(null, data)`, once, from the poll phase), and the three classic
// ways a wrapper around such an API breaks it:
//
//   bug: none            if (err) return cb(err); cb(null, data);
//   bug: missing-return  if (err) cb(err);        cb(null, data);   // called twice
//   bug: ignored-error                            cb(null, data);   // the error is lost
//
// The request is a real one: fs.readFile as four uv_fs requests on the libuv threadpool
// (common/runtime/io.cpp), of this scenario's own file (`file: self`) or of a file that does not
// exist (`file: missing`, the scenario's path + ".missing"), whose open() fails with ENOENT.
// A throw inside the caller's callback is an uncaught exception in the poll phase: the process
// ends at once (docs/node-semantics.md §2.5).

#include <fmt/format.h>

#include "async/ops.hpp"
#include "script/interpreter.hpp"
#include "script/parser.hpp"
#include "script/twin.hpp"

namespace nodelab::async {

namespace {

enum class Bug : std::uint8_t { none, missing_return, ignored_error };
constexpr std::string_view kBugs[] = {"none", "missing-return", "ignored-error"};
enum class File : std::uint8_t { self, missing };
constexpr std::string_view kFiles[] = {"self", "missing"};

// What the run's error-first callbacks saw (the `errback.*` figures).
struct Errbacks {
  explicit Errbacks(script::Interpreter&) {}
  std::uint64_t requests = 0;         // API calls made
  std::uint64_t completed = 0;        // API calls whose fs.readFile called back
  std::uint64_t calls = 0;            // the caller's callback, every call
  std::uint64_t errors = 0;           // ... with an err
  std::uint64_t successes = 0;        // ... with err === null
  std::uint64_t undefined_data = 0;   // ... of those, with data === undefined
  std::uint64_t failed_requests = 0;  // fs.readFile reported an error
  std::uint64_t lost_errors = 0;      // ... which the caller never saw as an err
  std::uint64_t max_calls_per_request = 0;
};

class CallbackApiOp final : public script::Op {
 public:
  CallbackApiOp(File file, Bug bug, std::string label, script::Body then)
      : file_(file), bug_(bug), label_(std::move(label)), then_(std::move(then)) {}
  std::string_view name() const override { return "callbackApi"; }

  script::Flow run(const script::Exec& ex) const override {
    script::Interpreter& interp = ex.interp;
    Errbacks& stats = interp.extension<Errbacks>();
    ++stats.requests;
    std::string path = interp.scenario().path;
    if (file_ == File::missing) path += ".missing";
    runtime::Runtime& rt = ex.rt;
    ex.rt.read_file_with_result(
        std::move(path),
        [this, &interp, &rt, &stats, error = ex.error](int err, std::size_t) {
          ++stats.completed;
          if (err != 0) ++stats.failed_requests;
          std::uint64_t calls = 0;
          // Counted before the caller runs: a throw in its callback ends this function.
          if (err != 0 && bug_ == Bug::ignored_error) ++stats.lost_errors;
          // cb(err) or cb(null, data): the caller logs what it got, then runs its body.
          auto cb = [&](bool with_error, bool data_defined) {
            ++stats.calls;
            stats.max_calls_per_request = std::max(stats.max_calls_per_request, ++calls);
            if (with_error) {
              ++stats.errors;
              rt.log(label_ + ": err=" + uv_err_name(err));
            } else {
              ++stats.successes;
              if (!data_defined) ++stats.undefined_data;
              rt.log(label_ + ": err=null data=" + (data_defined ? "Buffer" : "undefined"));
            }
            interp.run_body(then_, error);
          };
          switch (bug_) {
            case Bug::none:
              if (err != 0) {
                cb(true, false);
              } else {
                cb(false, true);
              }
              break;
            case Bug::missing_return:
              if (err != 0) cb(true, false);
              cb(false, err == 0);
              break;
            case Bug::ignored_error:
              cb(false, err == 0);
              break;
          }
        },
        site);
    return {};
  }

  void emit_twin(script::TwinWriter& w) const override {
    w.require("fs", "const fs = require('fs');");
    const std::string file = file_ == File::missing ? "__filename + '.missing'" : "__filename";
    w.open("((cb) => { // an API with an error-first callback: fs.readFile, then cb");
    w.open("fs.readFile(" + file + ", (err, data) => {");
    switch (bug_) {
      case Bug::none:
        w.line("if (err) return cb(err);");
        w.line("cb(null, data);");
        break;
      case Bug::missing_return:
        w.line("if (err) cb(err); // the bug: no return, so it goes on");
        w.line("cb(null, data);");
        break;
      case Bug::ignored_error:
        w.line("cb(null, data); // the bug: err is never looked at");
        break;
    }
    w.close("});");
    w.middle("})((err, data) => {");
    w.line("console.log(" + script::js_string(label_ + ": ") +
           " + (err ? 'err=' + err.code : 'err=null data=' + (Buffer.isBuffer(data) ? 'Buffer' "
           ": data)));");
    w.body(then_);
    w.close("});");
  }
  std::string describe() const override {
    return fmt::format("callbackApi {} ({} file, bug: {})", label_, kFiles[static_cast<int>(file_)],
                       kBugs[static_cast<int>(bug_)]);
  }

 private:
  File file_;
  Bug bug_;
  std::string label_;
  script::Body then_;
};

template <class E, std::size_t N>
E pick(script::Parser& p, script::Fields& f, std::string_view key,
       const std::string_view (&names)[N], std::optional<std::string> fallback) {
  const std::string v = f.string(key, std::move(fallback));
  const auto* it = std::find(std::begin(names), std::end(names), v);
  if (it == std::end(names)) {
    std::string allowed;
    for (std::size_t i = 0; i < N; ++i)
      allowed += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(names[i]);
    p.fail(f.get(key), fmt::format("`{}` of `callbackApi` must be {}; got '{}'", key, allowed, v));
  }
  return static_cast<E>(it - std::begin(names));
}

std::unique_ptr<script::Op> parse_callback_api(script::Parser& p, const YAML::Node& v) {
  script::Fields f = p.fields(v, "callbackApi", {"file", "bug", "label", "then"});
  const File file = pick<File>(p, f, "file", kFiles, std::nullopt);
  const Bug bug = pick<Bug>(p, f, "bug", kBugs, std::string("none"));
  const std::string label = f.string("label", std::string("callback"));
  if (label.empty()) p.fail(f.get("label"), "`label` of `callbackApi` must not be empty");
  // `then` runs once per call of the caller's callback: twice with missing-return.
  return std::make_unique<CallbackApiOp>(
      file, bug, label,
      f.body("then", script::BodyKind::callback, bug == Bug::missing_return ? 2 : 1));
}

}  // namespace

void add_callback_ops(script::OpRegistry& r) {
  r.add("callbackApi", parse_callback_api,
        "an API with an error-first callback (fs.readFile of `file`: self or missing), its "
        "`bug` (none, missing-return, ignored-error), and its caller's callback: logs "
        "`LABEL: err=...`, then {then}");
  r.add_metrics({
      {"errback.requests", "", "calls of the callback APIs"},
      {"errback.calls", "", "calls of the callers' callbacks (each request should make one)"},
      {"errback.errors", "", "caller callbacks called with an err"},
      {"errback.successes", "", "caller callbacks called with err === null"},
      {"errback.undefinedData", "", "of the successes, those whose data was undefined"},
      {"errback.failedRequests", "", "fs.readFile requests that failed (ENOENT...)"},
      {"errback.lostErrors", "", "failed requests whose caller never saw the err"},
      {"errback.maxCallsPerRequest", "", "most calls of one request's callback (1 is correct)"},
  });
}

void collect_callback_metrics(script::Interpreter& interp, metrics::MetricSet& out) {
  const Errbacks& s = interp.extension<Errbacks>();
  if (s.requests == 0) return;  // no callback API in this scenario
  out.set("errback.requests", static_cast<double>(s.requests));
  out.set("errback.calls", static_cast<double>(s.calls));
  out.set("errback.errors", static_cast<double>(s.errors));
  out.set("errback.successes", static_cast<double>(s.successes));
  out.set("errback.undefinedData", static_cast<double>(s.undefined_data));
  out.set("errback.failedRequests", static_cast<double>(s.failed_requests));
  out.set("errback.lostErrors", static_cast<double>(s.lost_errors));
  out.set("errback.maxCallsPerRequest", static_cast<double>(s.max_calls_per_request));
}

}  // namespace nodelab::async
