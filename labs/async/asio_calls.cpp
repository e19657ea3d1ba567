// The `asioCalls` op: the same calls as `calls`, made by Boost.Asio's awaitable operators
// (common/peers/asio_side.hpp) against the same service, so a scenario can show C++'s answer
// beside Node's: `call || timer` cancels the loser and waits for it to finish, so a timed-out
// call's connection is closed and the downstream cancels its work; `&&` and a parallel group's
// wait_for_one_error cancel the siblings at the first error.
//
// The Asio side runs on a libuv threadpool thread (uv_queue_work), off the loop; its figures
// land in the run's metrics (asio.*) when it completes, in the poll phase. It logs nothing:
// Node has no counterpart to print, so the twin only starts the service (the lines match).

#include <fmt/format.h>

#include <algorithm>

#include "async/io_world.hpp"
#include "async/ops.hpp"
#include "peers/asio_side.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"

namespace nodelab::async {

namespace {

namespace asio_side = peers::asio_side;
using asio_side::Pattern;
constexpr std::string_view kPatterns[] = {"race", "all", "group"};

struct AsioConfig {
  std::string service;
  std::int64_t count = 1;
  Pattern pattern = Pattern::race_timeout;
  std::int64_t timeout_ms = 0;
  FailSpec fail;
};

struct AsioRun : std::enable_shared_from_this<AsioRun> {
  AsioConfig cfg;
  IoWorld* world = nullptr;
  runtime::Site site = 0;
  std::vector<asio_side::Outcome> outcomes;

  void start() {
    const std::uint16_t port = world->service(cfg.service).port();
    std::vector<std::string> paths;
    for (std::int64_t i = 1; i <= cfg.count; ++i) {
      paths.push_back(cfg.fail.path_for(i));
    }
    auto self = shared_from_this();
    world->rt().queue_work(
        [self, port, paths] {
          asio_side::Options o;
          o.port = port;
          o.pattern = self->cfg.pattern;
          o.timeout = std::chrono::milliseconds(self->cfg.timeout_ms);
          if (o.pattern == Pattern::race_timeout) {
            // `call || timer` races one call: each call its own race, all at once would need
            // as many threads; one after another keeps it on one pool thread.
            for (const auto& p : paths) {
              o.paths = {p};
              self->outcomes.push_back(asio_side::run(o));
            }
          } else {
            o.paths = paths;
            self->outcomes.push_back(asio_side::run(o));
          }
        },
        [self] {
          AsioStats& a = self->world->asio;
          IoStats& st = self->world->stats;
          a.ran = true;
          st.ran = true;  // the calls' figures too, so the two sides share the columns
          for (const auto& out : self->outcomes) {
            for (const auto& c : out.children) {
              ++st.calls;
              ++st.requests;
              ++(c.end == asio_side::ChildEnd::ok ? st.fulfilled : st.rejected);
              // Each child's time is its run's: the operator returns once every child ended.
              st.latency_us.record(static_cast<std::uint64_t>(out.elapsed_ms * 1000));
            }
            st.in_flight_peak = std::max<std::uint64_t>(st.in_flight_peak, out.children.size());
            st.total_ms += out.elapsed_ms;
            a.ok += out.count(asio_side::ChildEnd::ok);
            a.failed += out.count(asio_side::ChildEnd::failed);
            a.cancelled += out.count(asio_side::ChildEnd::cancelled);
            a.caller_failed += out.caller_failed ? 1 : 0;
            a.failure_hidden += out.failure_hidden ? 1 : 0;
            a.elapsed_ms += out.elapsed_ms;
          }
        },
        site, "asio calls");
  }
};

class AsioCallsOp final : public script::Op {
 public:
  explicit AsioCallsOp(AsioConfig cfg) : cfg_(std::move(cfg)) {}
  std::string_view name() const override { return "asioCalls"; }
  script::Flow run(const script::Exec& ex) const override {
    script::start_block_run<AsioRun, IoWorld>(ex, cfg_, site);
    return {};
  }
  std::string describe() const override {
    return fmt::format("asioCalls x{} to {} ({})", cfg_.count, cfg_.service,
                       asio_side::pattern_name(cfg_.pattern));
  }
  void emit_twin(script::TwinWriter& w) const override {
    w.line(
        fmt::format("// asioCalls: {} x{} in the lab's Boost.Asio side; no Node counterpart "
                    "runs here, and it logs nothing",
                    asio_side::pattern_name(cfg_.pattern), cfg_.count));
  }

 private:
  AsioConfig cfg_;
};

std::unique_ptr<script::Op> parse_asio_calls(script::Parser& p, const YAML::Node& v) {
  script::Fields f =
      p.fields(v, "asioCalls", {"service", "count", "pattern", "timeout_ms", "fail"});
  AsioConfig cfg;
  cfg.service = f.identifier("service");
  note_service_use(p, cfg.service, f.get("service"));
  cfg.count = f.integer("count", 1, 1000);
  const std::string pattern = f.string("pattern");
  const auto* it = std::find(std::begin(kPatterns), std::end(kPatterns), pattern);
  if (it == std::end(kPatterns)) {
    p.fail(f.get("pattern"),
           fmt::format("`pattern` of `asioCalls` must be race, all or group; got '{}'", pattern));
  }
  cfg.pattern = static_cast<Pattern>(it - std::begin(kPatterns));
  if (cfg.pattern == Pattern::race_timeout) {
    cfg.timeout_ms = f.integer("timeout_ms", 1, 60'000);
  } else if (f.has("timeout_ms")) {
    p.fail(f.get("timeout_ms"), "`timeout_ms` is the race's timer: only with `pattern: race`");
  }
  if (f.has("fail")) cfg.fail = parse_fail(p, f.get("fail"), cfg.count);
  return std::make_unique<AsioCallsOp>(std::move(cfg));
}

}  // namespace

void add_asio_calls(script::OpRegistry& r) {
  r.add("asioCalls", parse_asio_calls,
        "the same calls with Boost.Asio's awaitable operators (|| with a timer, &&, a parallel "
        "group), for comparison; logs nothing");
}

}  // namespace nodelab::async
