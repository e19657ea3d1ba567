// The `messaging:` block (scenarios/worker-pool/README.md): what crossing to a worker costs.
//
//   clone     postMessage(buffer): the structured clone serializes the bytes into the message
//             (one copy, on the sender) and deserializes them into a new ArrayBuffer (a second
//             copy, on the receiver); the sender keeps its buffer
//   transfer  postMessage(buffer, [buffer]): the backing store changes owner, no byte moves;
//             the sender's buffer is detached (byteLength 0)
//   shared    a SharedArrayBuffer both threads see: Atomics.add from two threads loses nothing;
//             the same increment as a separate Atomics.load then Atomics.store loses updates
//             whenever the threads interleave (each step is atomic, the pair is not: a race,
//             yet no undefined behaviour); Atomics.wait / Atomics.notify hand over a flag
//
// The block runs on real threads and the loop waits for it (its time shows as loop delay).

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "metrics/histogram.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"
#include "worker-pool/world.hpp"

namespace nodelab::worker_pool {

namespace {

enum class Mode : std::uint8_t { clone, transfer, shared };
constexpr std::string_view kModes[] = {"clone", "transfer", "shared"};

struct Config {
  Mode mode = Mode::clone;
  std::uint64_t bytes = 1 << 20;
  std::uint32_t rounds = 10;
  std::uint64_t increments = 1'000'000;
  std::uint32_t max_rounds = 20;  // shared: load + store rounds until one loses an update
};

// A message in flight: either serialized bytes (clone) or a moved backing store (transfer).
struct Message {
  std::vector<std::uint8_t> data;
  runtime::Nanos posted{0};
};

// The receiving worker: takes one message at a time and reports when it holds the data.
class Receiver {
 public:
  explicit Receiver(bool deserialize) : deserialize_(deserialize), thread_([this] { main(); }) {}
  ~Receiver() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Returns the nanoseconds from posting to the receiver holding its buffer.
  std::int64_t round_trip(Message m) {
    std::unique_lock lock(mu_);
    inbox_ = std::move(m);
    done_.reset();
    cv_.notify_all();
    cv_.wait(lock, [this] { return done_.has_value(); });
    return *done_;
  }

 private:
  void main() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return quit_ || inbox_.has_value(); });
      if (quit_) return;
      Message m = std::move(*inbox_);
      inbox_.reset();
      lock.unlock();
      std::vector<std::uint8_t> received;
      if (deserialize_) {
        received.resize(m.data.size());  // the new ArrayBuffer: a second copy
        std::memcpy(received.data(), m.data.data(), m.data.size());
      } else {
        received = std::move(m.data);  // the same backing store, a new owner
      }
      volatile std::uint8_t touch = received.empty() ? 0 : received[received.size() / 2];
      (void)touch;
      const auto at = (runtime::hrtime() - m.posted).count();
      lock.lock();
      done_ = at;
      cv_.notify_all();
    }
  }

  bool deserialize_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Message> inbox_;
  std::optional<std::int64_t> done_;
  bool quit_ = false;
  std::thread thread_;  // last
};

// Two threads start together (a barrier), each adding 1 to `counter` `n` times.
template <class Step>
void race(std::uint64_t n, Step step) {
  std::atomic<int> arrived{0};
  auto body = [&] {
    arrived.fetch_add(1);
    while (arrived.load() < 2) {
    }
    for (std::uint64_t i = 0; i < n; ++i)
      step();
  };
  std::thread a(body), b(body);
  a.join();
  b.join();
}

void run_copying(const Config& c, World& world) {
  runtime::Runtime& rt = world.rt();
  MessagingStats& st = world.messaging;
  const bool transfer = c.mode == Mode::transfer;
  Receiver receiver(!transfer);
  metrics::Histogram per_mib_ns;
  std::uint64_t sender_after = 0;
  for (std::uint32_t r = 0; r < c.rounds; ++r) {
    std::vector<std::uint8_t> buffer(c.bytes, static_cast<std::uint8_t>(r + 1));
    Message m;
    m.posted = runtime::hrtime();
    if (transfer) {
      m.data = std::move(buffer);  // detached: the sender's ArrayBuffer now has byteLength 0
      buffer = {};
    } else {
      m.data.assign(buffer.begin(), buffer.end());  // serialize: the first copy
    }
    sender_after = buffer.size();
    const std::int64_t ns = receiver.round_trip(std::move(m));
    per_mib_ns.record(static_cast<std::uint64_t>(
        static_cast<double>(ns) * static_cast<double>(1 << 20) / static_cast<double>(c.bytes)));
  }
  st.per_mb_us = static_cast<double>(per_mib_ns.percentile(50)) / 1e3;
  st.sender_bytes_after = static_cast<double>(sender_after);
  st.copies = transfer ? 0 : 2;
  rt.log(
      fmt::format("{}: {} messages of {} bytes; after postMessage the sender's buffer has {} "
                  "bytes{}",
                  kModes[static_cast<int>(c.mode)], c.rounds, c.bytes, sender_after,
                  transfer ? " (detached: the worker owns it now)" : " (the worker got a copy)"));
}

void run_shared(const Config& c, World& world) {
  runtime::Runtime& rt = world.rt();
  MessagingStats& st = world.messaging;
  st.increments = c.increments;

  std::atomic<std::int32_t> counter{0};  // an Int32Array over a SharedArrayBuffer
  race(c.increments, [&] { counter.fetch_add(1, std::memory_order_seq_cst); });
  st.add_total = static_cast<std::uint64_t>(counter.load());
  rt.log(fmt::format("Atomics.add from 2 threads x {}: counter = {} (expected {})", c.increments,
                     st.add_total, 2 * c.increments));

  // Atomics.load then Atomics.store: each atomic, the pair not.
  for (std::uint32_t round = 1; round <= c.max_rounds; ++round) {
    counter.store(0);
    race(c.increments, [&] {
      const std::int32_t v = counter.load(std::memory_order_seq_cst);
      counter.store(v + 1, std::memory_order_seq_cst);
    });
    st.load_store_total = static_cast<std::uint64_t>(counter.load());
    st.lost_updates = 2 * c.increments - st.load_store_total;
    st.lost_rounds = round;
    if (st.lost_updates > 0) break;
  }

  // Atomics.wait on a flag in another thread; Atomics.notify after the store.
  std::atomic<std::int32_t> flag{0};
  std::atomic<bool> waiting{false};
  std::atomic<std::int64_t> woke_at{0};
  std::int32_t seen = 0;
  std::thread waiter([&] {
    waiting.store(true);
    flag.wait(0);
    woke_at.store(runtime::hrtime().count());
    seen = flag.load();
  });
  while (!waiting.load())
    std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let it block in the wait
  const auto notified = runtime::hrtime().count();
  flag.store(1);
  flag.notify_one();
  waiter.join();
  st.wake_us = static_cast<double>(woke_at.load() - notified) / 1e3;
  rt.log(
      fmt::format("a thread blocked in Atomics.wait woke after Atomics.notify and read {}", seen));
}

class MessagingOp final : public script::Op {
 public:
  explicit MessagingOp(Config c) : c_(c) {}
  std::string_view name() const override { return "messaging"; }
  script::Flow run(const script::Exec& ex) const override {
    World& world = ex.interp.extension<World>();
    world.messaging.ran = true;
    world.messaging.mode = std::string(kModes[static_cast<int>(c_.mode)]);
    world.messaging.bytes = c_.bytes;
    world.messaging.rounds = c_.rounds;
    if (c_.mode == Mode::shared) {
      run_shared(c_, world);
    } else {
      run_copying(c_, world);
    }
    return {};
  }
  std::string describe() const override {
    return fmt::format("messaging ({})", kModes[static_cast<int>(c_.mode)]);
  }
  void emit_twin(script::TwinWriter& w) const override;

 private:
  Config c_;
};

void MessagingOp::emit_twin(script::TwinWriter& w) const {
  w.require("worker_threads", "const { Worker } = require('worker_threads');");
  w.line(fmt::format("// messaging: {}", kModes[static_cast<int>(c_.mode)]));
  w.open("{");
  if (c_.mode != Mode::shared) {
    const bool transfer = c_.mode == Mode::transfer;
    w.line(fmt::format("const bytes = {}, rounds = {};", c_.bytes, c_.rounds));
    w.line(
        "const worker = new Worker(`require('worker_threads').parentPort.on('message', (ab) => "
        "{ new Uint8Array(ab)[ab.byteLength >> 1]; require('worker_threads').parentPort"
        ".postMessage('got'); });`, { eval: true });");
    w.line("let round = 0, senderBytes = 0;");
    w.open("const send = () => {");
    w.line("const ab = new ArrayBuffer(bytes);");
    w.line("new Uint8Array(ab).fill(round + 1);");
    w.line(transfer ? "worker.postMessage(ab, [ab]); // ownership moves: ab is detached"
                    : "worker.postMessage(ab); // structured clone: the worker gets a copy");
    w.line("senderBytes = ab.byteLength;");
    w.close("};");
    w.open("worker.on('message', () => {");
    w.open("if (++round < rounds) return send();");
    w.line(fmt::format(
        "console.log(`{}: ${{rounds}} messages of ${{bytes}} bytes; after postMessage the "
        "sender's buffer has ${{senderBytes}} bytes{}`);",
        kModes[static_cast<int>(c_.mode)],
        transfer ? " (detached: the worker owns it now)" : " (the worker got a copy)"));
    w.line("worker.terminate();");
    w.close("});");
    w.close("send();");
  } else {
    w.line(fmt::format("const increments = {}, maxRounds = {};", c_.increments, c_.max_rounds));
    w.line("// Two workers share one Int32Array; they start together at a barrier (Atomics.wait).");
    w.open("const SOURCE = `");
    w.line("const { workerData: { sab, n, mode } } = require('worker_threads');");
    w.line("const a = new Int32Array(sab); // a[0]: counter, a[1]: arrived, a[2]: flag");
    w.line("Atomics.add(a, 1, 1); while (Atomics.load(a, 1) < 2);");
    w.line("if (mode === 'add') for (let i = 0; i < n; i++) Atomics.add(a, 0, 1);");
    w.line(
        "else if (mode === 'loadStore') for (let i = 0; i < n; i++) Atomics.store(a, 0, "
        "Atomics.load(a, 0) + 1);");
    w.line(
        "else { Atomics.wait(a, 2, 0); "
        "require('worker_threads').parentPort.postMessage(Atomics.load(a, 2)); }");
    w.close("`;");
    w.open("const race = (mode) => new Promise((resolve) => {");
    w.line("const sab = new SharedArrayBuffer(12);");
    w.line("let exited = 0;");
    w.open("for (let k = 0; k < 2; k++) {");
    w.line("new Worker(SOURCE, { eval: true, workerData: { sab, n: increments, mode } })");
    w.line("  .on('exit', () => { if (++exited === 2) resolve(new Int32Array(sab)[0]); });");
    w.close("}");
    w.close("});");
    w.open("(async () => {");
    w.line("const total = await race('add');");
    w.line(
        "console.log(`Atomics.add from 2 threads x ${increments}: counter = ${total} (expected ${2 "
        "* increments})`);");
    w.line("let lost = 0;");
    w.line(
        "for (let r = 0; r < maxRounds && lost === 0; r++) lost = 2 * increments - (await "
        "race('loadStore'));");
    w.line("process.stderr.write(`load + store lost ${lost} updates\\n`);");
    w.line("const sab = new SharedArrayBuffer(12), a = new Int32Array(sab);");
    w.line("Atomics.store(a, 1, 1); // the waiter skips the two-thread barrier");
    w.line(
        "const waiter = new Worker(SOURCE, { eval: true, workerData: { sab, n: 0, mode: 'wait' } "
        "});");
    w.open("waiter.on('message', (v) => {");
    w.line(
        "console.log(`a thread blocked in Atomics.wait woke after Atomics.notify and read ${v}`);");
    w.close("});");
    w.line("setTimeout(() => { Atomics.store(a, 2, 1); Atomics.notify(a, 2); }, 50);");
    w.close("})();");
  }
  w.close("}");
}

}  // namespace

void add_messaging_block(script::OpRegistry& r) {
  r.add_block("messaging", [](script::Parser& p, const YAML::Node& v, script::Scenario&) {
    script::Fields f = p.fields(v, "messaging", {"mode", "bytes", "rounds", "increments"});
    Config c;
    const std::string mode = f.string("mode");
    const auto* it = std::find(std::begin(kModes), std::end(kModes), mode);
    if (it == std::end(kModes)) {
      p.fail(
          f.get("mode"),
          fmt::format("`mode` of `messaging` must be clone, transfer or shared; got '{}'", mode));
    }
    c.mode = static_cast<Mode>(it - std::begin(kModes));
    if (c.mode == Mode::shared) {
      if (f.has("bytes")) p.fail(f.get("bytes"), "`bytes` applies to clone and transfer only");
      c.increments = static_cast<std::uint64_t>(f.integer("increments", 1, 100'000'000, 1'000'000));
    } else {
      if (f.has("increments")) {
        p.fail(f.get("increments"), "`increments` applies to `mode: shared` only");
      }
      c.bytes = static_cast<std::uint64_t>(f.integer("bytes", 1, std::int64_t{256} << 20, 1 << 20));
      c.rounds = static_cast<std::uint32_t>(f.integer("rounds", 1, 10'000, 10));
    }
    p.append_block_op(std::make_unique<MessagingOp>(c), v);
  });
}

}  // namespace nodelab::worker_pool
