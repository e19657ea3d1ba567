// The `calls` op: N HTTP calls from the modelled Node process to a service of the
// `downstream:` block, in one of the forms Node code writes them:
//
//   sequential   for (i = 1..N) await call(i)        one at a time; the first rejection ends it
//   all          await Promise.all(calls)            rejects at the first rejection; the other
//                                                    calls run on, and the downstream works them
//   allSettled   await Promise.allSettled(calls)     waits for every call
//
// with, optionally, `limit: K` (each call through a p-limit(K) limiter, labs/async/limiter.hpp),
// `timeout: {ms, via}` (race: Promise.race with a timer, which leaves the request running;
// abort: AbortSignal.timeout(ms) as the request's signal, which destroys it), `retry:`
// (labs/async/retry.hpp) and `agent:` (an http.Agent of its own; default http.globalAgent).
// A call is one http.get (io_world.hpp); it fulfills with a status below 400.
//
// What it logs is only what the mechanism fixes: the combinator's outcome (counts and error
// texts), and, when a caller gave up on requests, how many of them the downstream still
// completed. The twin (twin/io.js, __calls) does the same with node's http client.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "async/io_world.hpp"
#include "async/limiter.hpp"
#include "async/ops.hpp"
#include "async/retry.hpp"
#include "runtime/js_number.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"

namespace nodelab::async {

namespace {

enum class Form : std::uint8_t { sequential, all, all_settled };
constexpr std::string_view kForms[] = {"sequential", "all", "allSettled"};
enum class Via : std::uint8_t { race, abort };
constexpr std::string_view kVias[] = {"race", "abort"};

struct CallsConfig {
  std::string service;
  std::int64_t count = 1;
  Form form = Form::all;
  std::int64_t limit = 0;  // 0: no limiter
  FailSpec fail;
  std::optional<std::int64_t> timeout_ms;
  Via via = Via::race;
  std::optional<RetrySpec> retry;
  std::optional<net::AgentOptions> agent;
};

struct Outcome {
  bool ok = false;
  int status = 0;
  std::string error;  // "Name: message"
};

struct Run : std::enable_shared_from_this<Run> {
  CallsConfig cfg;
  IoWorld* world = nullptr;
  runtime::Site site = 0;
  net::Agent* agent = nullptr;
  std::uint16_t port = 0;
  runtime::Nanos t0{0};
  std::unique_ptr<Limiter> limiter;
  std::int64_t settled_calls = 0;
  std::int64_t fulfilled = 0;
  std::map<std::string, std::uint64_t> reasons;
  std::uint64_t open = 0;  // requests not yet closed
  bool settled = false;    // the combinator settled
  bool gave_up = false;    // the caller gave up on some request
  bool end_logged = false;
  bool finished = false;
  runtime::Nanos last_success{-1};

  runtime::Runtime& rt() { return world->rt(); }
  IoStats& st() { return world->stats; }

  void start() {
    st().ran = true;
    Service& svc = world->service(cfg.service);
    port = svc.port();
    agent = cfg.agent ? &world->own_agent(*cfg.agent) : &world->global_agent();
    t0 = runtime::hrtime();
    if (cfg.form == Form::sequential) {
      sequential(1);
      return;
    }
    if (cfg.limit > 0) limiter = std::make_unique<Limiter>(static_cast<std::size_t>(cfg.limit));
    auto self = shared_from_this();
    for (std::int64_t i = 1; i <= cfg.count; ++i) {
      auto launch = [self, i] {
        self->call(i, self->t0, [self, i](const Outcome& o) {
          if (self->limiter) {
            // p-limit starts the next call from the settled promise's .finally: microtasks
            // later.
            self->rt().enqueue_microtask(
                [self] {
                  self->limiter->done();
                  self->sample_limiter();
                },
                self->site, runtime::CallbackKind::promise);
            self->st().limiter_queue_peak =
                std::max<std::uint64_t>(self->st().limiter_queue_peak, self->limiter->queue_peak());
          }
          self->parallel_settled(i, o);
        });
      };
      if (limiter) {
        limiter->add(std::move(launch));
      } else {
        launch();
      }
    }
    if (limiter) {
      st().limiter_queue_peak =
          std::max<std::uint64_t>(st().limiter_queue_peak, limiter->queue_peak());
      sample_limiter();
    }
  }

  // The limiter's queue (limit.pendingCount), for --trace and --html.
  void sample_limiter() { rt().sample("limiter queue", static_cast<double>(limiter->pending())); }

  void sequential(std::int64_t i) {
    auto self = shared_from_this();
    call(i, runtime::hrtime(), [self, i](const Outcome& o) {
      if (!o.ok) {
        self->settle(fmt::format("sequential: call {} rejected: {}; the calls after it never ran",
                                 i, o.error));
        return;
      }
      if (i == self->cfg.count) {
        self->settle(fmt::format("sequential: {} fulfilled", self->cfg.count));
      } else {
        // `await call(i)` resumes a microtask later: by then the response's 'free' (a
        // nextTick) has returned its socket to the agent, and the next call reuses it.
        self->rt().enqueue_microtask([self, i] { self->sequential(i + 1); }, self->site,
                                     runtime::CallbackKind::await_resume);
      }
    });
  }

  void parallel_settled(std::int64_t, const Outcome& o) {
    ++settled_calls;
    if (o.ok) {
      ++fulfilled;
    } else {
      ++reasons[o.error];
    }
    if (cfg.form == Form::all) {
      if (!o.ok && !settle_queued) {
        gave_up = true;
        // The other calls run on (or wait in the limiter, and will run): held for nobody.
        st().held_at_give_up += static_cast<std::uint64_t>(cfg.count - settled_calls);
        settle(fmt::format("Promise.all rejected: {}", o.error));
      } else if (settled_calls == cfg.count && !settle_queued) {
        settle(fmt::format("Promise.all: {} fulfilled", fulfilled));
      }
    } else if (settled_calls == cfg.count) {
      std::string line = fmt::format("Promise.allSettled: {} fulfilled, {} rejected", fulfilled,
                                     cfg.count - fulfilled);
      if (!reasons.empty()) {
        std::vector<std::string> parts;
        for (const auto& [text, n] : reasons)
          parts.push_back(fmt::format("{} x{}", text, n));
        line += fmt::format(" ({})", fmt::join(parts, ", "));
      }
      settle(line);
    }
    maybe_finish();
  }

  // The combinator's outcome is seen by the caller's reaction, a microtask later (the twin's
  // .then / the code after an await).
  void settle(const std::string& line) {
    if (settle_queued) return;
    settle_queued = true;
    auto self = shared_from_this();
    rt().enqueue_microtask(
        [self, line] {
          self->settled = true;
          self->rt().log(line);
          self->maybe_finish();
        },
        site, runtime::CallbackKind::promise);
  }
  bool settle_queued = false;

  // Every call settled and every request closed: the op's time, and what the give-up cost.
  void maybe_finish() {
    if (!settled || open > 0 || finished) return;
    if (cfg.form != Form::sequential && settled_calls < cfg.count) return;
    finished = true;
    st().total_ms += runtime::to_ms(runtime::hrtime() - t0);
    if (cfg.retry && last_success.count() >= 0) {
      const Service& svc = world->service(cfg.service);
      const runtime::Nanos outage_end =
          svc.started() + std::chrono::milliseconds(svc.spec().options.fail_for_ms);
      if (svc.spec().options.fail_for_ms > 0) {
        st().recovery_ms = std::max(0.0, runtime::to_ms(last_success - outage_end));
      }
    }
    if (gave_up && !end_logged) {
      end_logged = true;
      rt().log(fmt::format("after the caller gave up: {} responses still completed", late));
    }
  }
  std::uint64_t late = 0;

  // One call: attempts until one succeeds or the retry policy gives up.
  struct Call {
    std::int64_t index = 0;
    std::uint32_t attempt = 0;
    runtime::Nanos intended{0};
    std::optional<Backoff> backoff;
    std::function<void(const Outcome&)> done;
  };

  void call(std::int64_t i, runtime::Nanos intended, std::function<void(const Outcome&)> done) {
    auto c = std::make_shared<Call>();
    c->index = i;
    c->intended = intended;
    c->done = std::move(done);
    if (cfg.retry) c->backoff.emplace(*cfg.retry, static_cast<std::uint32_t>(i));
    ++st().calls;
    attempt(c);
  }

  void call_settled(const std::shared_ptr<Call>& c, const Outcome& o) {
    if (!o.ok && cfg.retry && c->attempt < cfg.retry->attempts) {
      const double d = c->backoff->delay_ms(c->attempt);
      ++st().retries;
      st().retry_delay_us.record(static_cast<std::uint64_t>(d * 1000));
      auto self = shared_from_this();
      if (d <= 0) {
        // immediate: the retry loop's next iteration, after the failed attempt's await.
        rt().enqueue_microtask([self, c] { self->attempt(c); }, site,
                               runtime::CallbackKind::await_resume);
      } else {
        rt().set_timeout(
            d, [self, c] { self->attempt(c); }, site);
      }
      return;
    }
    const runtime::Nanos now = runtime::hrtime();
    st().latency_us.record(static_cast<std::uint64_t>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::microseconds>(now - c->intended).count())));
    if (o.ok) {
      ++st().fulfilled;
      last_success = now;
    } else {
      ++st().rejected;
    }
    c->done(o);
  }

  // One attempt: one http.get, raced against a timer or given an AbortSignal.timeout.
  struct Attempt {
    bool settled = false;  // its promise settled (a late response no longer counts)
    bool gave_up = false;  // the race's timer won: the caller stopped waiting for it
    runtime::TimerId timer = 0;
    bool timer_set = false;
    net::AbortController controller;
    int status = 0;
    bool outstanding = true;  // sent, and neither answered nor failed yet
  };

  void attempt(const std::shared_ptr<Call>& c) {
    ++c->attempt;
    auto a = std::make_shared<Attempt>();
    auto self = shared_from_this();
    const auto finish = [self, c, a](const Outcome& o) {
      if (a->settled) return;
      a->settled = true;
      if (a->timer_set) self->rt().clear_timer(a->timer);
      self->call_settled(c, o);
    };

    net::RequestOptions ro;
    ro.port = port;
    ro.agent = agent;
    ro.site = site;
    ro.path = cfg.fail.path_for(c->index);
    if (cfg.timeout_ms && cfg.via == Via::abort) ro.signal = a->controller.signal();

    net::RequestHandlers on;
    on.response = [a](const net::IncomingMessage& m) { a->status = m.status_code; };
    on.data = [](std::string_view) {};  // res.resume(): the body is read and dropped
    const auto release = [self, a] {
      if (!a->outstanding) return;
      a->outstanding = false;
      self->st().request_closed(self->rt());
    };
    on.end = [self, a, finish, release] {
      release();
      if (a->gave_up || self->gave_up) {
        ++self->late;
        ++self->st().late;
      }
      if (a->status < 400) {
        finish({true, a->status, {}});
      } else {
        finish({false, a->status, fmt::format("Error: HTTP {}", a->status)});
      }
    };
    on.error = [self, finish, release](const net::NetError& e) {
      release();
      // An aborted signal: the caller gave up, and the request was destroyed with it.
      if (e.name == "AbortError") self->gave_up = true;
      finish({false, 0, fmt::format("{}: {}", e.name, e.message)});
    };
    on.close = [self, release] {
      release();
      --self->open;
      self->maybe_finish();
    };
    ++open;
    ++st().requests;
    st().request_started(rt());
    const auto req = net::request(rt(), std::move(ro), std::move(on));
    // The agent wait: from http.request() to 'socket' (read when the request closes).
    std::weak_ptr<net::ClientRequest> weak = req;
    req->on.socket = [self, weak] {
      if (auto r = weak.lock()) {
        const auto w = r->timing().agent_wait();
        if (w.count() >= 0) {
          self->st().agent_wait_us.record(static_cast<std::uint64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(w).count()));
        }
      }
    };

    if (cfg.timeout_ms) {
      const double ms = static_cast<double>(*cfg.timeout_ms);
      a->timer_set = true;
      if (cfg.via == Via::race) {
        a->timer = rt().set_timeout(
            ms,
            [self, a, finish, ms] {
              a->timer_set = false;
              if (a->settled) return;
              a->gave_up = true;  // the request runs on: its socket and buffers stay held
              self->gave_up = true;
              ++self->st().held_at_give_up;
              finish({false, 0,
                      fmt::format("Error: timeout after {} ms", runtime::js_number_to_string(ms))});
            },
            site);
      } else {
        a->timer = rt().set_timeout(
            ms,
            [a] {
              a->timer_set = false;
              a->controller.abort("TimeoutError: The operation was aborted due to timeout");
            },
            site);
      }
    }
  }
};

class CallsOp final : public script::Op {
 public:
  explicit CallsOp(CallsConfig cfg) : cfg_(std::move(cfg)) {}
  std::string_view name() const override { return "calls"; }
  script::Flow run(const script::Exec& ex) const override {
    script::start_block_run<Run, IoWorld>(ex, cfg_, site);
    return {};
  }
  std::string describe() const override {
    return fmt::format("calls x{} to {} ({}{})", cfg_.count, cfg_.service,
                       kForms[static_cast<int>(cfg_.form)],
                       cfg_.limit > 0 ? fmt::format(", limit {}", cfg_.limit) : "");
  }
  void emit_twin(script::TwinWriter& w) const override {
    use_io_twin(w);
    std::vector<std::string> f;
    f.push_back(fmt::format("service: {}", script::js_string(cfg_.service)));
    f.push_back(fmt::format("count: {}", cfg_.count));
    f.push_back(fmt::format("form: '{}'", kForms[static_cast<int>(cfg_.form)]));
    if (cfg_.limit > 0) f.push_back(fmt::format("limit: {}", cfg_.limit));
    if (!cfg_.fail.calls.empty()) {
      f.push_back(fmt::format("fail: {{ calls: [{}], status: {}, ms: {} }}",
                              fmt::join(cfg_.fail.calls, ", "), cfg_.fail.status, cfg_.fail.ms));
    }
    if (cfg_.timeout_ms) {
      f.push_back(fmt::format("timeout: {{ ms: {}, via: '{}' }}", *cfg_.timeout_ms,
                              kVias[static_cast<int>(cfg_.via)]));
    }
    if (cfg_.retry) {
      const RetrySpec& r = *cfg_.retry;
      f.push_back(fmt::format(
          "retry: {{ policy: '{}', attempts: {}, base: {}, cap: {}, seed: {} }}",
          kRetryPolicies[static_cast<int>(r.policy)], r.attempts,
          runtime::js_number_to_string(r.base_ms), runtime::js_number_to_string(r.cap_ms), r.seed));
    }
    if (cfg_.agent) {
      std::string max = cfg_.agent->max_sockets == net::kUnlimited
                            ? std::string("Infinity")
                            : std::to_string(cfg_.agent->max_sockets);
      f.push_back(fmt::format("agent: new http.Agent({{ keepAlive: {}, maxSockets: {} }})",
                              cfg_.agent->keep_alive ? "true" : "false", max));
    }
    w.line(fmt::format("__calls({{ {} }});", fmt::join(f, ", ")));
  }

 private:
  CallsConfig cfg_;
};

struct ServiceUse {
  std::string name;
  script::SourceLoc loc;
};
struct ServiceUses {
  std::vector<ServiceUse> uses;
};

}  // namespace

std::string FailSpec::path_for(std::int64_t call) const {
  std::string path = fmt::format("/?id={}", call);
  if (calls.count(call) != 0) path += fmt::format("&status={}&ms={}", status, ms);
  return path;
}

FailSpec parse_fail(script::Parser& p, const YAML::Node& v, std::int64_t count) {
  FailSpec spec;
  script::Fields ff = p.fields(v, "fail", {"calls", "status", "ms"});
  const YAML::Node calls = ff.get("calls");
  if (!calls.IsDefined() || !calls.IsSequence() || calls.size() == 0) {
    p.fail(calls.IsDefined() ? calls : v,
           "`fail.calls` must be a non-empty list of call numbers (1..count)");
  }
  for (const auto& n : calls) {
    std::int64_t k = 0;
    try {
      k = n.as<std::int64_t>();
    } catch (const std::exception&) {
      p.fail(n, "a call number in `fail.calls` must be a whole number");
    }
    if (k < 1 || k > count) p.fail(n, fmt::format("call {} is not in 1..{} (`count`)", k, count));
    spec.calls.insert(k);
  }
  spec.status = ff.integer("status", 400, 599, 500);
  spec.ms = ff.integer("ms", 0, 60'000, 10);
  return spec;
}

void note_service_use(script::Parser& p, const std::string& name, const YAML::Node& at) {
  auto& any = p.scenario().blocks["async.service_uses"];
  if (!any.has_value()) any = std::make_shared<ServiceUses>();
  std::any_cast<std::shared_ptr<ServiceUses>&>(any)->uses.push_back({name, p.loc(at)});
}

namespace {

std::unique_ptr<script::Op> parse_calls(script::Parser& p, const YAML::Node& v) {
  script::Fields f = p.fields(
      v, "calls", {"service", "count", "form", "limit", "fail", "timeout", "retry", "agent"});
  CallsConfig cfg;
  cfg.service = f.identifier("service");
  note_service_use(p, cfg.service, f.get("service"));
  cfg.count = f.integer("count", 1, 10'000);
  const std::string form = f.string("form", std::string("all"));
  const auto* it = std::find(std::begin(kForms), std::end(kForms), form);
  if (it == std::end(kForms)) {
    p.fail(f.get("form"),
           fmt::format("`form` of `calls` must be sequential, all or allSettled; got '{}'", form));
  }
  cfg.form = static_cast<Form>(it - std::begin(kForms));
  // 0: no limiter (what a variant passes for "unbounded").
  cfg.limit = f.integer("limit", 0, 10'000, 0);
  if (cfg.limit > 0 && cfg.form == Form::sequential) {
    p.fail(f.get("limit"),
           "`limit` needs a parallel form (all or allSettled): sequential "
           "calls run one at a time already");
  }
  if (f.has("fail")) cfg.fail = parse_fail(p, f.get("fail"), cfg.count);
  if (f.has("timeout")) {
    script::Fields tf = p.fields(f.get("timeout"), "timeout", {"ms", "via"});
    cfg.timeout_ms = tf.integer("ms", 1, 60'000);
    const std::string via = tf.string("via", std::string("race"));
    const auto* vi = std::find(std::begin(kVias), std::end(kVias), via);
    if (vi == std::end(kVias)) {
      p.fail(tf.get("via"), fmt::format("`timeout.via` must be race or abort; got '{}'", via));
    }
    cfg.via = static_cast<Via>(vi - std::begin(kVias));
  }
  if (f.has("retry")) {
    script::Fields rf =
        p.fields(f.get("retry"), "retry", {"policy", "attempts", "base_ms", "cap_ms", "seed"});
    RetrySpec r;
    const std::string policy = rf.string("policy");
    const auto* pi = std::find(std::begin(kRetryPolicies), std::end(kRetryPolicies), policy);
    if (pi == std::end(kRetryPolicies)) {
      p.fail(rf.get("policy"),
             fmt::format("`retry.policy` must be immediate, exponential or full-jitter; got '{}'",
                         policy));
    }
    r.policy = static_cast<RetryPolicy>(pi - std::begin(kRetryPolicies));
    r.attempts = static_cast<std::uint32_t>(rf.integer("attempts", 1, 100, 3));
    r.base_ms = static_cast<double>(rf.integer("base_ms", 1, 60'000, 100));
    r.cap_ms = static_cast<double>(rf.integer("cap_ms", 1, 600'000, 10'000));
    if (r.cap_ms < r.base_ms) {
      p.fail(rf.get("cap_ms"), "`retry.cap_ms` must be at least `base_ms`");
    }
    r.seed = static_cast<std::uint32_t>(rf.integer("seed", 0, 4294967295LL, 1));
    cfg.retry = r;
  }
  if (f.has("agent")) {
    script::Fields af = p.fields(f.get("agent"), "agent", {"maxSockets", "keepAlive"});
    net::AgentOptions o;  // new http.Agent(): keepAlive false, maxSockets Infinity
    if (af.has("maxSockets"))
      o.max_sockets = static_cast<std::size_t>(af.integer("maxSockets", 1, 10'000));
    o.keep_alive = af.boolean("keepAlive", false);
    cfg.agent = o;
  }
  p.add_expanded(static_cast<double>(cfg.count), v);
  return std::make_unique<CallsOp>(std::move(cfg));
}

}  // namespace

void add_calls(script::OpRegistry& r) {
  r.add("calls", parse_calls,
        "N HTTP calls to a downstream service: sequential, Promise.all or allSettled, with "
        "limit, timeout (race or abort), retry and agent");
  r.add_check([](script::Scenario& s) {
    const auto it = s.blocks.find("async.service_uses");
    if (it == s.blocks.end()) return;
    const auto& uses = std::any_cast<std::shared_ptr<ServiceUses>&>(it->second)->uses;
    const auto ds = s.blocks.find("downstream");
    std::set<std::string> names;
    if (ds != s.blocks.end()) {
      for (const auto& sv : std::any_cast<std::shared_ptr<ServiceSpecs>&>(ds->second)->services)
        names.insert(sv.name);
    }
    for (const auto& u : uses) {
      if (names.count(u.name) == 0) {
        throw script::ScenarioError(
            u.loc, fmt::format("no service '{}' in the `downstream:` block", u.name));
      }
    }
  });
}

}  // namespace nodelab::async
