// The `workload:` block (scenarios/worker-pool/README.md): N CPU tasks, arriving as a burst
// or as an open-loop Poisson stream, run by one strategy (main-thread, libuv-threadpool,
// bounded-pool, worker-per-task). Every task's times are measured from its intended arrival,
// so a loop too busy to submit a task on time shows as waiting (no coordinated omission).
//
// What it logs is what a Node program would print whatever the machine's speed: the
// workload, each rejection of a burst (which tasks a full queue turns away is decided
// synchronously), each abort, the fs probe's verdict, and the totals. Times are metrics.

#include "worker-pool/workload.hpp"

#include <fmt/format.h>

#include <uv.h>

#include <algorithm>
#include <cmath>

#include "embed/worker_pool_twin.hpp"
#include "runtime/js_number.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"
#include "worker-pool/cpu.hpp"
#include "worker-pool/strategies.hpp"
#include "worker-pool/world.hpp"

namespace nodelab::worker_pool {

double Mulberry32::next() {
  a_ += 0x6D2B79F5u;
  std::uint32_t t = a_;
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
}

ThreadDefaults piscina_thread_defaults(unsigned parallelism) {
  ThreadDefaults d;
  d.min_threads = std::max(parallelism / 2, 1u);
  d.max_threads = parallelism * 1.5;
  return d;
}

std::vector<std::int64_t> arrival_offsets(const WorkloadConfig& c) {
  std::vector<std::int64_t> out(c.tasks, 0);
  if (!c.poisson) return out;
  Mulberry32 rnd(c.seed);
  double t = 0;
  for (auto& o : out) {
    t += -std::log(1 - rnd.next()) * 1000.0 / c.rate;
    o = static_cast<std::int64_t>(std::llround(t));
  }
  return out;
}

namespace {

std::string max_queue_text(const WorkloadConfig& c) {
  const std::string n = runtime::js_number_to_string(c.pool.max_queue);  // Infinity, 4, 2.25
  return c.max_queue_auto ? "auto = " + n : n;
}

// The first log line, but for the threadpool's size (the twin reads it from the environment
// as libuv does, so the lab does too: see header()).
std::string header_prefix(const WorkloadConfig& c) {
  std::string arrival =
      c.poisson ? fmt::format("Poisson arrivals at {}/s (seed {})", c.rate, c.seed) : "a burst";
  return fmt::format("workload: {} tasks x {} ms, {}, strategy {}", c.tasks, c.task_ms, arrival,
                     kStrategyNames[static_cast<int>(c.strategy)]);
}

std::string strategy_detail(const WorkloadConfig& c) {
  switch (c.strategy) {
    case StrategyKind::bounded_pool:
      return fmt::format(
          " (minThreads {}, maxThreads {}, maxQueue {}, concurrentTasksPerWorker {})",
          c.pool.min_threads, runtime::js_number_to_string(c.pool.max_threads), max_queue_text(c),
          c.pool.concurrent_tasks_per_worker);
    case StrategyKind::libuv_threadpool:
      return fmt::format(" (UV_THREADPOOL_SIZE {})", runtime::threadpool_size());
    default:
      return "";
  }
}

struct Run : std::enable_shared_from_this<Run> {
  WorkloadConfig cfg;
  World* world = nullptr;
  runtime::Site site = 0;
  std::uint32_t completed = 0, rejected = 0, aborted = 0;
  bool probe_done = true;

  runtime::Runtime& rt() { return world->rt(); }

  void start() {
    WorkloadStats& st = world->workload;
    st.ran = true;
    st.strategy = std::string(kStrategyNames[static_cast<int>(cfg.strategy)]);
    const std::uint64_t steps = steps_for_ms(cfg.task_ms);  // calibrates, once per process
    switch (cfg.strategy) {
      case StrategyKind::main_thread:
        world->strategy = std::make_unique<MainThread>(rt(), site);
        break;
      case StrategyKind::libuv_threadpool:
        world->strategy = std::make_unique<LibuvThreadpool>(rt(), site);
        break;
      case StrategyKind::bounded_pool: {
        PoolOptions o = cfg.pool;
        o.startup_ms = cfg.worker_startup_ms;
        auto pool = std::make_unique<Pool>(rt(), site, o);
        pool->on_event = [this](const Pool::Event& e) {
          if (e.kind == Pool::Event::Kind::worker_terminated) {
            rt().log(
                fmt::format("worker {} terminated: it was running task {}, which cannot be "
                            "stopped in place",
                            e.worker, e.task));
          }
        };
        world->strategy = std::move(pool);
        break;
      }
      case StrategyKind::worker_per_task:
        world->strategy = std::make_unique<WorkerPerTask>(rt(), site, cfg.worker_startup_ms);
        break;
    }
    rt().log(header_prefix(cfg) + strategy_detail(cfg));
    st.start = runtime::hrtime();

    const auto offsets = arrival_offsets(cfg);
    for (std::uint32_t i = 0; i < cfg.tasks; ++i) {
      TaskRecord& t = world->tasks.emplace_back();
      t.id = i + 1;
      t.steps = steps;
      t.intended = st.start + std::chrono::milliseconds(offsets[i]);
    }
    for (const AbortAt& a : cfg.aborts)
      world->tasks[a.task - 1].abortable = true;

    auto self = shared_from_this();
    if (cfg.poisson) {
      for (TaskRecord& t : world->tasks) {
        TaskRecord* rec = &t;
        rt().set_timeout(
            static_cast<double>(offsets[t.id - 1]), [self, rec] { self->submit(*rec); }, site);
      }
    } else {
      for (TaskRecord& t : world->tasks)
        submit(t);
    }
    for (const AbortAt& a : cfg.aborts) {
      TaskRecord* rec = &world->tasks[a.task - 1];
      rt().set_timeout(
          a.after_ms,
          [self, rec] {
            if (rec->submitted.count() >= 0) self->world->strategy->abort(*rec);
          },
          site);
    }
    if (cfg.fs_probe) {
      probe_done = false;
      const runtime::Nanos called = runtime::hrtime();
      rt().read_file(
          world->interp().scenario().path,
          [self, called] {
            const bool after = self->completed > 0;
            self->world->workload.probe_wait_ms = runtime::to_ms(runtime::hrtime() - called);
            self->world->workload.probe_after_cpu = after;
            self->rt().log(fmt::format("readFile done; a CPU task had finished before it: {}",
                                       after ? "yes" : "no"));
            self->probe_done = true;
            self->finish();
          },
          site);
    }
  }

  void submit(TaskRecord& t) {
    t.submitted = runtime::hrtime();
    auto self = shared_from_this();
    world->strategy->submit(t, [self](TaskRecord& r) { self->settled(r); });
  }

  void settled(TaskRecord& t) {
    t.settled = runtime::hrtime();
    WorkloadStats& st = world->workload;
    st.last_settled = t.settled;
    ++st.settled;
    switch (t.state) {
      case TaskState::completed:
        ++completed;
        break;
      case TaskState::aborted:
        ++aborted;
        rt().log(fmt::format("task {} aborted: {}", t.id, t.error));
        break;
      default:
        ++rejected;
        if (!cfg.poisson) rt().log(fmt::format("task {} rejected: {}", t.id, t.error));
        break;
    }
    finish();
  }

  void finish() {
    if (world->workload.settled < cfg.tasks || !probe_done) return;
    if (cfg.poisson) {
      rt().log(fmt::format("done: {} tasks settled", cfg.tasks));
    } else {
      rt().log(
          fmt::format("done: {} completed, {} rejected, {} aborted", completed, rejected, aborted));
    }
  }
};

// ---- the twin ----

// twin/*.js: the CPU work on a JavaScript thread (burn, a spin for `ms` of wall time), the
// worker_thread that reports ready and then runs each task it is posted (worker-source),
// Piscina 5's ThreadPool reduced to what the lab models (pool; labs/worker-pool/pool.hpp has
// the same logic in C++, line for line), Poisson arrivals and UV_THREADPOOL_SIZE as libuv
// reads it.
namespace twin = embed::worker_pool_twin;

class WorkloadOp final : public script::Op {
 public:
  explicit WorkloadOp(WorkloadConfig cfg) : cfg_(std::move(cfg)) {}
  std::string_view name() const override { return "workload"; }
  script::Flow run(const script::Exec& ex) const override {
    script::start_block_run<Run, World>(ex, cfg_, site);
    return {};
  }
  std::string describe() const override {
    return fmt::format("workload x{} ({})", cfg_.tasks,
                       kStrategyNames[static_cast<int>(cfg_.strategy)]);
  }
  void emit_twin(script::TwinWriter& w) const override;

 private:
  void emit_piscina_pool(script::TwinWriter& w) const;
  WorkloadConfig cfg_;
};

void WorkloadOp::emit_twin(script::TwinWriter& w) const {
  const WorkloadConfig& c = cfg_;
  const auto kind = c.strategy;
  // --emit-node=piscina: the bounded pool is the real piscina package, not the port of the lab.
  const bool piscina = kind == StrategyKind::bounded_pool && w.flavour() == "piscina";
  w.helper("burn", twin::burn_js);
  if (piscina) {
    w.require("fs", "const fs = require('fs');");
    w.require("os", "const os = require('os');");
    w.require("path", "const path = require('path');");
    w.require("piscina", "const { Piscina } = require('piscina');");
    w.helper("piscina-task-file", twin::piscina_task_file_js);
  } else if (kind == StrategyKind::bounded_pool || kind == StrategyKind::worker_per_task) {
    w.require("worker_threads", "const { Worker } = require('worker_threads');");
    w.helper("worker-source", twin::worker_source_js);
  }
  if (kind == StrategyKind::bounded_pool && !piscina) w.helper("pool", twin::pool_js);
  if (kind == StrategyKind::libuv_threadpool) {
    w.require("crypto", "const crypto = require('crypto');");
    w.helper("threadpool-size", twin::threadpool_size_js);
  }
  if (c.poisson) w.helper("arrivals", twin::arrivals_js);
  if (c.fs_probe) w.require("fs", "const fs = require('fs');");

  w.line(fmt::format("// workload: {} CPU tasks of {} ms, strategy {}", c.tasks, c.task_ms,
                     kStrategyNames[static_cast<int>(kind)]));
  w.open("{");
  w.line(fmt::format("const taskCount = {}, taskMs = {};", c.tasks,
                     runtime::js_number_to_string(c.task_ms)));
  switch (kind) {
    case StrategyKind::main_thread:
      w.line(fmt::format("console.log({});", script::js_string(header_prefix(c))));
      w.line("// On the loop: the task runs inside run(), the loop waits for it.");
      w.line("const run = async (t) => { burn(t.ms); };");
      break;
    case StrategyKind::libuv_threadpool:
      w.line(fmt::format("console.log(`${{{}}} (UV_THREADPOOL_SIZE ${{threadpoolSize()}})`);",
                         script::js_string(header_prefix(c))));
      w.line("// pbkdf2 on the libuv threadpool, its iterations calibrated to taskMs of CPU.");
      w.line("const t0 = performance.now();");
      w.line("crypto.pbkdf2Sync('nodelab', 'salt', 20000, 32, 'sha256');");
      w.line(
          "const iterations = Math.max(1, Math.round(taskMs / ((performance.now() - t0) / "
          "20000)));");
      w.open("const run = (t) => new Promise((resolve, reject) => {");
      w.line(
          "crypto.pbkdf2('nodelab', 'salt', iterations, 32, 'sha256', (err) => (err ? reject(err) "
          ": resolve()));");
      w.close("});");
      break;
    case StrategyKind::bounded_pool:
      if (piscina) {
        emit_piscina_pool(w);
        break;
      }
      w.line(fmt::format("console.log({});",
                         script::js_string(header_prefix(c) + strategy_detail(c))));
      w.line(fmt::format(
          "const pool = new Pool({{ minThreads: {}, maxThreads: {}, maxQueue: {}, "
          "concurrentTasksPerWorker: {}, idleTimeout: {}, stricterFifo: {} }});",
          c.pool.min_threads, c.pool.max_threads, runtime::js_number_to_string(c.pool.max_queue),
          c.pool.concurrent_tasks_per_worker, runtime::js_number_to_string(c.pool.idle_timeout_ms),
          c.pool.stricter_fifo ? "true" : "false"));
      w.line("const run = (t) => pool.run(t);");
      break;
    case StrategyKind::worker_per_task:
      w.line(fmt::format("console.log({});", script::js_string(header_prefix(c))));
      w.line("// A new Worker for every task: its start-up paid each time, then it exits.");
      w.open("const run = (t) => new Promise((resolve, reject) => {");
      w.line("const worker = new Worker(WORKER_SOURCE, { eval: true });");
      w.line("worker.postMessage({ id: t.id, ms: t.ms });");
      w.line("worker.on('message', (m) => { if (!m.ready) { resolve(); worker.terminate(); } });");
      w.line("worker.on('error', reject);");
      w.close("});");
      break;
  }
  w.line("let settled = 0, completed = 0, rejected = 0, aborted = 0;");
  w.line(fmt::format("let probeDone = {};", c.fs_probe ? "false" : "true"));
  w.open("const finish = () => {");
  w.line("if (settled < taskCount || !probeDone) return;");
  if (c.poisson) {
    w.line("console.log(`done: ${taskCount} tasks settled`);");
  } else {
    w.line(
        "console.log(`done: ${completed} completed, ${rejected} rejected, ${aborted} aborted`);");
  }
  w.close("};");
  w.open("const settle = (t, err) => {");
  w.line("settled++;");
  w.line("if (!err) completed++;");
  w.line(
      "else if (err.name === 'AbortError') { aborted++; console.log(`task ${t.id} aborted: "
      "${err.name}: ${err.message}`); }");
  w.line(c.poisson ? "else rejected++;"
                   : "else { rejected++; console.log(`task ${t.id} rejected: ${err.message}`); }");
  w.line("finish();");
  w.close("};");
  std::string abortable = "[";
  for (std::size_t i = 0; i < c.aborts.size(); ++i) {
    abortable += (i ? ", " : "") + std::to_string(c.aborts[i].task);
  }
  abortable += "]";
  w.line(fmt::format("const abortable = new Set({});", abortable));
  w.open("const tasks = Array.from({ length: taskCount }, (_, i) => {");
  w.line("const t = { id: i + 1, ms: taskMs, abortable: abortable.has(i + 1) };");
  w.line(
      "if (t.abortable) { t.controller = new AbortController(); t.signal = t.controller.signal; }");
  w.line("return t;");
  w.close("});");
  w.line(
      "const submit = (t) => { t.submitted = true; run(t).then(() => settle(t, null), (err) => "
      "settle(t, err)); };");
  if (c.poisson) {
    w.line(fmt::format("const offsets = poissonOffsets(taskCount, {}, {});",
                       runtime::js_number_to_string(c.rate), c.seed));
    w.line("tasks.forEach((t, i) => setTimeout(() => submit(t), offsets[i]));");
  } else {
    w.line("tasks.forEach(submit);");
  }
  for (const AbortAt& a : c.aborts) {
    // With Piscina, `aborting` names the task whose abort is terminating a worker.
    const std::string ms = runtime::js_number_to_string(a.after_ms);
    if (piscina) {
      w.line(
          fmt::format("setTimeout(() => {{ if (tasks[{0}].submitted) {{ aborting = tasks[{0}]; "
                      "tasks[{0}].controller.abort(); aborting = null; }} }}, {1});",
                      a.task - 1, ms));
    } else {
      w.line(fmt::format(
          "setTimeout(() => {{ if (tasks[{0}].submitted) tasks[{0}].controller.abort(); }}, {1});",
          a.task - 1, ms));
    }
  }
  if (c.fs_probe) {
    w.open("fs.readFile(__filename, () => {");
    w.line(
        "console.log(`readFile done; a CPU task had finished before it: ${completed > 0 ? 'yes' : "
        "'no'}`);");
    w.line("probeDone = true;");
    w.line("finish();");
    w.close("});");
  }
  w.close("}");
}

// The pool of --emit-node=piscina: `new Piscina()` with the options the scenario gives (so
// Piscina's own defaults apply to the others), its header read back from pool.options, and a
// worker's termination seen through Piscina's 'workerDestroy' event (w.id is the Worker's
// threadId: 1, 2, 3... in order of creation, the lab's worker numbers).
void WorkloadOp::emit_piscina_pool(script::TwinWriter& w) const {
  const WorkloadConfig& c = cfg_;
  std::string options = "filename: PISCINA_TASK_FILE";
  if (c.min_threads_given) options += fmt::format(", minThreads: {}", c.pool.min_threads);
  if (c.max_threads_given) {
    options += ", maxThreads: " + runtime::js_number_to_string(c.pool.max_threads);
  }
  if (c.max_queue_auto) {
    options += ", maxQueue: 'auto'";
  } else if (!std::isinf(c.pool.max_queue)) {
    options += ", maxQueue: " + runtime::js_number_to_string(c.pool.max_queue);
  }
  options += fmt::format(", concurrentTasksPerWorker: {}, idleTimeout: {}, atomics: '{}'",
                         c.pool.concurrent_tasks_per_worker,
                         runtime::js_number_to_string(c.pool.idle_timeout_ms),
                         c.pool.atomics ? "sync" : "disabled");
  if (c.pool.stricter_fifo) options += ", stricterFIFO: true";
  w.line("// The real Piscina (npm ci at the repository's root; NODE_PATH=<root>/node_modules).");
  w.line("const pool = new Piscina({ " + options + " });");
  w.line("const o = pool.options;");
  w.line(fmt::format(
      "console.log(`${{{}}} (minThreads ${{o.minThreads}}, maxThreads ${{o.maxThreads}}, "
      "maxQueue {}${{o.maxQueue}}, concurrentTasksPerWorker ${{o.concurrentTasksPerWorker}})`);",
      script::js_string(header_prefix(c)), c.max_queue_auto ? "auto = " : ""));
  w.line("let aborting = null;");
  w.open("pool.on('workerDestroy', (worker) => {");
  w.line(
      "if (aborting) console.log(`worker ${worker.id} terminated: it was running task "
      "${aborting.id}, which cannot be stopped in place`);");
  w.close("});");
  w.line("const run = (t) => pool.run({ ms: t.ms }, { signal: t.signal ?? null });");
}

StrategyKind parse_strategy(script::Parser& p, script::Fields& f) {
  const std::string s = f.string("strategy", std::string("bounded-pool"));
  const auto* it = std::find(std::begin(kStrategyNames), std::end(kStrategyNames), s);
  if (it == std::end(kStrategyNames)) {
    p.fail(f.get("strategy"),
           fmt::format("`strategy` of `workload` must be main-thread, libuv-threadpool, "
                       "bounded-pool or worker-per-task; got '{}'",
                       s));
  }
  return static_cast<StrategyKind>(it - std::begin(kStrategyNames));
}

void parse_pool(script::Parser& p, const YAML::Node& v, WorkloadConfig& c) {
  script::Fields f =
      p.fields(v, "pool",
               {"threads", "min_threads", "max_threads", "max_queue", "concurrent_tasks_per_worker",
                "idle_timeout_ms", "atomics", "stricter_fifo"});
  // Piscina's defaults and its constructor's adjustments (src/index.ts ThreadPool): a given
  // maxThreads at or below the default minThreads lowers it, a given minThreads at or above the
  // default maxThreads raises it; both given, minThreads above maxThreads is a RangeError.
  const ThreadDefaults d = piscina_thread_defaults(uv_available_parallelism());
  double min = d.min_threads;
  double max = d.max_threads;
  c.min_threads_given = f.has("threads") || f.has("min_threads");
  c.max_threads_given = f.has("threads") || f.has("max_threads");
  if (f.has("threads")) min = max = static_cast<double>(f.integer("threads", 1, 256));
  if (f.has("min_threads")) min = static_cast<double>(f.integer("min_threads", 0, 256));
  if (f.has("max_threads")) max = static_cast<double>(f.integer("max_threads", 1, 256));
  if (c.min_threads_given && c.max_threads_given && min > max) {
    p.fail(f.get("min_threads"),
           fmt::format("`min_threads` ({}) is above `max_threads` ({})", min, max));
  }
  if (c.max_threads_given && min >= max) min = max;
  if (c.min_threads_given && max <= min) max = min;
  c.pool.min_threads = static_cast<std::uint32_t>(min);
  c.pool.max_threads = max;
  c.pool.concurrent_tasks_per_worker =
      static_cast<std::uint32_t>(f.integer("concurrent_tasks_per_worker", 1, 64, 1));
  if (f.has("max_queue")) {
    const std::string q = f.string("max_queue");
    if (q == "auto") {
      c.max_queue_auto = true;
      c.pool.max_queue = static_cast<double>(max * max);
    } else {
      const bool number = !q.empty() && q.find_first_not_of("0123456789.eE+-") == std::string::npos;
      if (!number) {
        p.fail(f.get("max_queue"),
               fmt::format("`max_queue` of `pool` must be auto or a whole number; got '{}' (omit "
                           "it for Infinity)",
                           q));
      }
      c.pool.max_queue = static_cast<double>(f.integer("max_queue", 0, 1'000'000));
    }
  }
  c.pool.idle_timeout_ms = f.number_in("idle_timeout_ms", 0, 1e9, 0);
  const std::string atomics = f.string("atomics", std::string("sync"));
  if (atomics != "sync" && atomics != "disabled") {
    p.fail(f.get("atomics"),
           fmt::format("`atomics` of `pool` must be sync or disabled; got '{}'", atomics));
  }
  c.pool.atomics = atomics == "sync";
  c.pool.stricter_fifo = f.boolean("stricter_fifo", false);
}

}  // namespace

void add_workload_block(script::OpRegistry& r) {
  r.add_block("workload", [](script::Parser& p, const YAML::Node& v, script::Scenario&) {
    script::Fields f = p.fields(v, "workload",
                                {"strategy", "tasks", "task_ms", "arrival", "rate", "seed", "pool",
                                 "worker_startup_ms", "abort", "fs_probe"});
    WorkloadConfig c;
    c.strategy = parse_strategy(p, f);
    c.tasks = static_cast<std::uint32_t>(f.integer("tasks", 1, 10'000));
    c.task_ms = f.number_in("task_ms", 0.001, 10'000);
    const std::string arrival = f.string("arrival", std::string("burst"));
    if (arrival != "burst" && arrival != "poisson") {
      p.fail(f.get("arrival"),
             fmt::format("`arrival` of `workload` must be burst or poisson; got '{}'", arrival));
    }
    c.poisson = arrival == "poisson";
    if (c.poisson) {
      c.rate = f.number_in("rate", 0.001, 1e6);
    } else if (f.has("rate")) {
      p.fail(f.get("rate"), "`rate` applies to `arrival: poisson` only");
    }
    c.seed = static_cast<std::uint32_t>(f.integer("seed", 0, 0xFFFFFFFF, 1));
    // `pool` is read whatever the strategy (a scenario whose variants switch strategies keeps
    // one block); only bounded-pool uses it.
    parse_pool(p, f.has("pool") ? f.get("pool") : YAML::Node(YAML::NodeType::Map), c);
    c.worker_startup_ms = f.number_in("worker_startup_ms", 0, 10'000, 25);
    if (f.has("abort")) {
      const YAML::Node list = f.get("abort");
      if (c.strategy != StrategyKind::bounded_pool) {
        p.fail(list,
               "`abort` applies to `strategy: bounded-pool` only (its tasks take an "
               "AbortSignal)");
      }
      if (!list.IsSequence()) p.fail(list, "`abort` must be a list of {task, after_ms}");
      for (const auto& item : list) {
        script::Fields a = p.fields(item, "abort", {"task", "after_ms"});
        AbortAt at;
        at.task = static_cast<std::uint32_t>(a.integer("task", 1, c.tasks));
        at.after_ms = a.number_in("after_ms", 0, 1e6);
        for (const AbortAt& other : c.aborts) {
          if (other.task == at.task) {
            p.fail(a.get("task"), fmt::format("task {} is aborted twice", at.task));
          }
        }
        c.aborts.push_back(at);
      }
    }
    c.fs_probe = f.boolean("fs_probe", false);
    // The whole workload's CPU time counts against the run's busy budget.
    p.add_expanded(static_cast<double>(c.tasks), v);
    // Calibrate the CPU work now, before any run's clock starts (once per process).
    (void)steps_per_ms();
    p.add_busy_ms(c.task_ms * c.tasks, v);
    p.append_block_op(std::make_unique<WorkloadOp>(std::move(c)), v);
  });
}

}  // namespace nodelab::worker_pool
