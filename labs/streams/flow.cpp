// The `flow:` block (scenarios/streams/README.md): real bytes from a producer through up to
// three Transforms into a sink over a real transport, connected the way the scenario says:
//
//   mode ignore    producer loop: sink.write(chunk) whatever it returns (1 MiB per tick)
//   mode honor     producer loop: write until false, continue on 'drain'
//   mode pipe      source.pipe(t1).pipe(...).pipe(sink)
//   mode pipeline  pipeline(source, t1, ..., sink, cb)
//
//   source file    fs.createReadStream('/dev/zero') (the default)
//   source memory  new Readable({ read() { this.push(Buffer.alloc(chunk)) } })
//
//   transport memory  the sink is a Writable whose _write completes at `peer_rate`
//   transport pipe    the sink writes to an OS pipe (uv_pipe); a Boost.Asio reader on its own
//                     thread drains the other end at `peer_rate`
//   transport tcp     the sink is a uv_tcp connection to 127.0.0.1:<ephemeral>; the Asio peer
//                     accepted it and reads at `peer_rate`: the kernel's socket buffers fill
//                     and the socket's write queue (writableLength) is where bytes wait
//
// The file source reads /dev/zero on the libuv threadpool, as fs.ReadStream does (a real fd:
// when pipe() leaves it open, it is a leaked fd, shown): one read at a time, each a round trip
// to a pool thread. The memory source pushes a new zero-filled chunk in every _read,
// synchronously, so nothing but the stages and the transport sets the pace.
// Everything logged is deterministic, so the Node twin (the same flow on net/fs/stream)
// prints the same lines; the figures are metrics.

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "embed/streams_twin.hpp"
#include "runtime/js_number.hpp"
#include "runtime/port.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"
#include "streams/peak_series.hpp"
#include "streams/peer.hpp"
#include "streams/transport.hpp"
#include "streams/world.hpp"

namespace nodelab::streams {

namespace {

enum class Transport : std::uint8_t { memory, pipe, tcp };
constexpr std::string_view kTransports[] = {"memory", "pipe", "tcp"};
enum class Mode : std::uint8_t { ignore, honor, pipe, pipeline };
constexpr std::string_view kModes[] = {"ignore", "honor", "pipe", "pipeline"};
enum class Source : std::uint8_t { file, memory };
constexpr std::string_view kSources[] = {"file", "memory"};

struct TransformCfg {
  std::uint64_t rate = 0;    // bytes/s it can process (0: at once, synchronously)
  std::int64_t work_us = 0;  // CPU work on the loop per chunk
};

struct Config {
  Transport transport = Transport::memory;
  Mode mode = Mode::pipeline;
  Source source = Source::file;  // pipe/pipeline modes; objectMode's is always memory
  std::uint64_t bytes = 0;
  std::uint64_t chunk = 65536;
  std::optional<std::uint64_t> hwm;
  bool object_mode = false;
  std::vector<TransformCfg> transforms;
  std::uint64_t peer_rate = 0;
  std::string fail_stage;  // "" or t1..t3 / sink
  std::uint64_t fail_at = 0;
  std::uint64_t max_buffered = 512ull << 20;
  double report_after_ms = 50;

  std::uint64_t chunks() const { return (bytes + chunk - 1) / chunk; }
  std::uint64_t hwm_value() const {
    return hwm.value_or(object_mode ? kDefaultHighWaterMarkObjects : kDefaultHighWaterMarkBytes);
  }
};

std::string start_line(const Config& c) {
  const std::string what = c.object_mode
                               ? fmt::format("{} objects of {} bytes", c.chunks(), c.chunk)
                               : fmt::format("{} bytes in {}-byte chunks", c.bytes, c.chunk);
  // The memory source is named (objectMode's goes without saying); the file one is the default.
  const std::string_view source =
      c.source == Source::memory && !c.object_mode ? " from a memory source" : "";
  return fmt::format("flow: {}, mode {}{}, {} transform(s), {} sink, highWaterMark {}", what,
                     kModes[static_cast<int>(c.mode)], source, c.transforms.size(),
                     kTransports[static_cast<int>(c.transport)], c.hwm_value());
}

// Pacing at `rate` bytes/s: each unit of work is due `len / rate` after the previous one (or
// after now, less a 2 ms allowance to catch up after a late timer). A unit due within the next
// millisecond completes on setImmediate, a later one on setTimeout: timers have a 1 ms
// granularity, and a 0.5 ms delay rounded up to 1 would halve the rate.
struct Pacer {
  double last_ms = -1e18;
  void schedule(runtime::Runtime& rt, std::uint64_t len, std::uint64_t rate, runtime::Task fn) {
    const double now = runtime::to_ms(runtime::hrtime());
    const double due = std::max(last_ms, now - 2.0) +
                       static_cast<double>(len) * 1000.0 / static_cast<double>(rate);
    last_ms = due;
    if (due - now < 1.0) {
      rt.set_immediate(std::move(fn), 0);
    } else {
      rt.set_timeout(due - now, std::move(fn), 0);
    }
  }
};

class FlowRun : public std::enable_shared_from_this<FlowRun> {
 public:
  FlowRun(Config cfg, World& world, runtime::Site site)
      : cfg_(std::move(cfg)), world_(world), rt_(world.rt()), site_(site) {}

  void start() {
    FlowStats& fs = world_.flow;
    fs.ran = true;
    fs.transport = std::string(kTransports[static_cast<int>(cfg_.transport)]);
    fs.ceiling_bytes = cfg_.max_buffered;
    auto self = shared_from_this();
    // The run outlives the main script: the world keeps it until the end, then tears down.
    world_.cleanups.push_back([self] { self->teardown(); });
    // A run stopped by a ceiling or an interrupt never finishes: report how far it got.
    std::weak_ptr<FlowRun> weak_run = self;
    world_.refresh = [weak_run] {
      auto r = weak_run.lock();
      if (!r || r->finished_ || r->started_.count() == 0) return;
      r->elapsed_ = runtime::hrtime() - r->started_;
      r->sample();
      r->collect();
    };
    if (cfg_.transport == Transport::memory) {
      go();
      return;
    }
    Peer::Options po;
    po.rate = cfg_.peer_rate;
    if (cfg_.transport == Transport::tcp) {
      sink_transport_ = std::make_unique<UvSink>(rt_, UvSink::Kind::tcp, site_);
      po.kind = Peer::Kind::tcp;
    } else {
      sink_transport_ = std::make_unique<UvSink>(rt_, UvSink::Kind::pipe, site_);
      uv_file fds[2];
      if (uv_pipe(fds, 0, 0) != 0) {
        throw runtime::JsThrow(JsError{"Error", "EMFILE", "pipe: cannot create an OS pipe"});
      }
      po.kind = Peer::Kind::pipe;
      po.pipe_read_fd = fds[0];
      sink_transport_->open_pipe(fds[1]);
    }
    // The peer's end-of-stream report reaches the loop through the sink's port (any thread
    // may post to a Sender); the port keeps the loop alive until it arrives.
    std::weak_ptr<FlowRun> weak = self;
    runtime::Port::Sender sender = sink_transport_->port().sender();
    po.on_eof = [sender, weak](std::uint64_t received) {
      sender.post([weak, received] {
        if (auto r = weak.lock()) r->on_peer_eof(received);
      });
    };
    peer_ = std::make_unique<Peer>(std::move(po));
    peer_->start();
    sink_transport_->hold();  // released by the peer's report
    if (cfg_.transport == Transport::tcp) {
      const int rc = sink_transport_->connect(peer_->port(), [self](int status) {
        if (status != 0) {
          self->rt_.log(fmt::format("connect failed: {}", uv_err_name(status)));
          return;
        }
        self->go();
      });
      if (rc != 0) throw runtime::JsThrow(JsError{"Error", uv_err_name(rc), "connect failed"});
    } else {
      go();
    }
  }

 private:
  // ---- building the stages ----
  StreamRef make_source() {
    StreamOptions o;
    o.readable = true;
    o.object_mode = cfg_.object_mode;
    o.high_water_mark = cfg_.source == Source::memory ? cfg_.hwm_value() : cfg_.chunk;
    if (cfg_.source == Source::file) o.class_name = "ReadStream";  // fs.ReadStream
    auto s = Stream::make(rt_, "source", o);
    std::weak_ptr<FlowRun> weak = shared_from_this();
    if (cfg_.source == Source::memory) {
      // One new chunk (an object) per _read, synchronously: Buffer.alloc(n), or an object
      // whose payload is Buffer.alloc(n, 'x').
      const char fill = cfg_.object_mode ? 'x' : 0;
      s->read_impl = [weak, fill](Stream& st, std::size_t) {
        auto r = weak.lock();
        if (!r) return;
        if (r->produced_ >= r->cfg_.bytes) {
          st.push(std::nullopt);
          return;
        }
        const std::uint64_t n = std::min(r->cfg_.chunk, r->cfg_.bytes - r->produced_);
        r->produced_ += n;
        st.push(Chunk::alloc(n, fill));
        r->sample();
      };
      return s;
    }
    // fs.createReadStream('/dev/zero', {highWaterMark: chunk, start: 0, end: bytes - 1}):
    // each _read is a read(2) on the threadpool; the push runs in the poll phase.
    const int zero_fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zero_fd < 0) throw runtime::JsThrow(JsError{"Error", "ENOENT", "open /dev/zero failed"});
    zero_ = std::make_shared<Fd>(zero_fd);
    zero_seen_ = zero_;
    s->read_impl = [weak, this](Stream& st, std::size_t) {
      auto r = weak.lock();
      if (!r) return;
      if (produced_ >= cfg_.bytes) {
        st.push(std::nullopt);
        return;
      }
      const std::uint64_t n = std::min(cfg_.chunk, cfg_.bytes - produced_);
      Chunk c = Chunk::alloc_unsafe(n);  // fs.ReadStream reads into allocUnsafe memory
      // The read holds the fd: a destroy() while it runs closes it only once it is done, as
      // fs.ReadStream's _destroy waits for kIoDone.
      std::shared_ptr<Fd> fd = zero_;
      if (!fd) return;  // destroyed: no more reads
      auto got = std::make_shared<ssize_t>(0);
      auto ws = st.weak_from_this();
      rt_.queue_work([fd, c, got] { *got = ::read(fd->fd, c.data(), c.length); },
                     [weak, ws, c, got] {
                       auto run = weak.lock();
                       auto src = ws.lock();
                       if (!run || !src || src->destroyed()) return;
                       const Chunk out =
                           c.slice(0, static_cast<std::size_t>(std::max<ssize_t>(0, *got)));
                       run->produced_ += out.length;
                       src->push(out);
                       run->sample();
                     },
                     site_, "fs.read /dev/zero");
    };
    s->destroy_hook = [this](Stream&, const MaybeError& err, Callback cb) {
      zero_.reset();
      cb(err);
    };
    return s;
  }

  StreamRef make_transform(std::size_t i) {
    StreamOptions o;
    o.transform = true;
    o.object_mode = cfg_.object_mode;
    o.high_water_mark = cfg_.hwm_value();
    const std::string name = fmt::format("t{}", i + 1);
    auto s = Stream::make(rt_, name, o);
    const TransformCfg tc = cfg_.transforms[i];
    auto calls = std::make_shared<std::uint64_t>(0);
    auto pacer = std::make_shared<Pacer>();
    const bool fails = cfg_.fail_stage == name;
    const std::uint64_t fail_at = cfg_.fail_at;
    std::weak_ptr<FlowRun> weak = shared_from_this();
    s->transform_impl = [tc, calls, pacer, fails, fail_at, name, weak](
                            Stream& st, const Chunk& chunk,
                            std::function<void(MaybeError, std::optional<Chunk>)> cb) {
      if (auto r = weak.lock()) r->sample();
      const bool fail = fails && ++*calls == fail_at;
      if (tc.work_us > 0) st.rt().busy_wait(std::chrono::microseconds(tc.work_us));
      // Calls back with the chunk, or with the stage's error on the failing call.
      auto pass = [](const auto& done, const Chunk& c, bool failing, const std::string& stage) {
        if (failing) {
          done(JsError{"Error", "", stage + " failed"}, std::nullopt);
        } else {
          done(std::nullopt, c);
        }
      };
      if (tc.rate == 0) {
        pass(cb, chunk, fail, name);  // at once: no closure to build on the per-chunk path
      } else {
        pacer->schedule(st.rt(), chunk.length, tc.rate,
                        [pass, cb, chunk, fail, name] { pass(cb, chunk, fail, name); });
      }
    };
    return s;
  }

  StreamRef make_sink() {
    StreamOptions o;
    o.writable = true;
    o.object_mode = cfg_.object_mode;
    o.high_water_mark = cfg_.hwm_value();
    if (sink_transport_) o.class_name = "Socket";  // net.Socket in the twin
    auto s = Stream::make(rt_, "sink", o);
    if (sink_transport_) {
      sink_transport_->attach(*s);
      if (cfg_.fail_stage == "sink") wrap_sink_failure(*s);
      return s;
    }
    auto pacer = std::make_shared<Pacer>();
    std::weak_ptr<FlowRun> weak = shared_from_this();
    const std::uint64_t rate = cfg_.peer_rate;
    s->write_impl = [weak, pacer, rate](Stream& st, const Chunk& chunk, Callback cb) {
      auto done = [weak, cb, n = chunk.length] {
        if (auto r = weak.lock()) {
          r->delivered_ += n;
          ++r->objects_;
        }
        cb(std::nullopt);
      };
      if (rate == 0) {
        st.rt().set_immediate(done, 0);
      } else {
        pacer->schedule(st.rt(), chunk.length, rate, done);
      }
    };
    if (cfg_.fail_stage == "sink") wrap_sink_failure(*s);
    return s;
  }

  // The sink's `fail_at`-th write fails, as a write to a peer that reset the connection.
  void wrap_sink_failure(Stream& s) {
    auto inner = s.write_impl;
    auto calls = std::make_shared<std::uint64_t>(0);
    const std::uint64_t at = cfg_.fail_at;
    s.write_impl = [inner, calls, at](Stream& st, const Chunk& c, Callback cb) {
      if (++*calls == at) {
        st.rt().set_immediate([cb] { cb(JsError{"Error", "", "sink failed"}); }, 0);
        return;
      }
      inner(st, c, std::move(cb));
    };
  }

  // ---- running ----
  void go() {
    started_ = runtime::hrtime();
    rt_.log(start_line(cfg_));
    if (cfg_.mode == Mode::pipe || cfg_.mode == Mode::pipeline) source_ = make_source();
    for (std::size_t i = 0; i < cfg_.transforms.size(); ++i)
      transforms_.push_back(make_transform(i));
    sink_ = make_sink();
    // The sink's writableLength graph sees every change: a socket's is 16 KiB while a write
    // waits for the kernel and 0 whenever the producer looks, so samples taken at the
    // producer's writes drew a flat 0 under a 16 KiB peak.
    std::weak_ptr<FlowRun> observer = shared_from_this();
    sink_->length_observer = [observer](const Stream& s) {
      if (auto r = observer.lock()) {
        r->sink_series_.update(runtime::hrtime(), static_cast<double>(s.writable_length()));
      }
    };
    std::vector<StreamRef> chain;
    if (source_) chain.push_back(source_);
    for (auto& t : transforms_)
      chain.push_back(t);
    chain.push_back(sink_);
    auto self = shared_from_this();
    std::weak_ptr<FlowRun> weak = self;

    // 'error' on every stage: the failing one is logged; the others must not throw.
    for (auto& st : chain) {
      const bool logs = st->name() == cfg_.fail_stage;
      st->on("error", [weak, logs, name = st->name()](const EventArgs& a) {
        auto r = weak.lock();
        if (!r) return;
        if (logs) r->rt_.log(fmt::format("{} error: {}", name, a.error->message));
        r->on_error();
      });
    }
    sink_->on("finish", [weak](const EventArgs&) {
      if (auto r = weak.lock()) r->on_sink_finish();
    });

    switch (cfg_.mode) {
      case Mode::pipeline:
        pipeline(chain, [weak](const MaybeError& err) {
          auto r = weak.lock();
          if (!r) return;
          r->pipeline_done_ = true;
          if (err) {
            r->rt_.log("pipeline callback: error=" + err->message);
          }
          r->maybe_done();
        });
        break;
      case Mode::pipe:
        for (std::size_t i = 0; i + 1 < chain.size(); ++i)
          chain[i]->pipe(*chain[i + 1]);
        break;
      case Mode::honor:
      case Mode::ignore:
        // The producer writes into the first stage; the stages after it are piped.
        for (std::size_t i = 0; i + 1 < chain.size(); ++i)
          chain[i]->pipe(*chain[i + 1]);
        first_ = chain.front();
        first_->on("drain", [weak](const EventArgs&) {
          auto r = weak.lock();
          if (!r || r->stopped_) return;
          ++r->drains_;
          if (r->waiting_since_.count() >= 0) {
            r->paused_ += runtime::hrtime() - r->waiting_since_;
            r->waiting_since_ = runtime::Nanos(-1);
          }
          r->produce();
        });
        produce();
        break;
    }
  }

  // The producer of the honor/ignore modes: up to 1 MiB per turn of the loop.
  void produce() {
    if (stopped_) return;
    const std::uint64_t per_turn = std::max<std::uint64_t>(1, (1u << 20) / cfg_.chunk);
    for (std::uint64_t k = 0; k < per_turn; ++k) {
      if (produced_ >= cfg_.bytes) {
        first_->end();
        stopped_ = true;
        return;
      }
      const std::uint64_t n = std::min(cfg_.chunk, cfg_.bytes - produced_);
      produced_ += n;
      const bool ok = first_->write(Chunk::alloc(n, 'x'));
      if (!ok) ++write_false_;
      const std::uint64_t buffered = sample();
      if (cfg_.mode == Mode::ignore && buffered > cfg_.max_buffered) {
        stopped_ = true;
        ceiling_hit_ = true;
        rt_.log(
            fmt::format("ceiling: more than {} bytes buffered: the producer stops and "
                        "destroys the sink",
                        cfg_.max_buffered));
        for (auto& t : transforms_)
          t->destroy();
        sink_->destroy();
        maybe_done();
        return;
      }
      if (!ok && cfg_.mode == Mode::honor) {
        waiting_since_ = runtime::hrtime();
        return;  // continue on 'drain'
      }
    }
    auto self = shared_from_this();
    rt_.set_immediate([self] { self->produce(); }, site_);
  }

  // Everything buffered in every stage right now; the peak is the flow's figure.
  std::uint64_t sample() {
    std::uint64_t total = 0;
    if (source_) total += source_->readable_length();
    for (auto& t : transforms_)
      total += t->writable_length() + t->readable_length();
    if (sink_) total += sink_->writable_length();
    buffered_peak_ = std::max(buffered_peak_, total);
    // The graph (--html, --trace): the largest total of each millisecond, measured where the
    // metric is, so its peak is flow.bufferedPeak.
    buffered_series_.update(runtime::hrtime(), static_cast<double>(total));
    return total;
  }

  void on_error() {
    if (errored_) return;
    errored_ = true;
    auto self = shared_from_this();
    rt_.set_timeout(
        cfg_.report_after_ms, [self] { self->report_after_error(); }, site_);
  }

  bool source_fd_open() const {
    const auto fd = zero_seen_.lock();
    return fd && ::fcntl(fd->fd, F_GETFD) != -1;
  }

  void report_after_error() {
    std::string line =
        fmt::format("after {} ms:", runtime::js_number_to_string(cfg_.report_after_ms));
    std::uint64_t leaked = 0;
    std::vector<StreamRef> open;
    if (source_) {
      // The file source holds an fd (leaked if still open); the memory source holds nothing.
      const bool fd = source_fd_open();
      line += fmt::format(" source destroyed={}", source_->destroyed());
      if (cfg_.source == Source::file) line += fd ? " (fd open)" : " (fd closed)";
      if (fd) ++leaked;
      if (!source_->destroyed()) open.push_back(source_);
    }
    for (auto& t : transforms_) {
      line += fmt::format(", {} destroyed={}", t->name(), t->destroyed());
      if (!t->destroyed()) open.push_back(t);
    }
    line += fmt::format(", sink destroyed={}", sink_->destroyed());
    if (sink_transport_) {
      const bool h = sink_transport_->open();
      line += fmt::format(" (socket {})", h ? "open" : "closed");
      if (h) ++leaked;
    }
    if (!sink_->destroyed()) open.push_back(sink_);
    rt_.log(line);
    world_.flow.leaked_handles = leaked;
    if (!open.empty()) {
      rt_.log(fmt::format("cleanup: destroying {} stream(s) left open", open.size()));
      for (auto& s : open)
        s->destroy();
    }
    finish_run();
  }

  void on_sink_finish() {
    sink_finished_ = true;
    if (!sink_transport_) delivery_done_ = true;
    maybe_done();
  }

  void on_peer_eof(std::uint64_t received) {
    peer_received_ = received;
    peer_done_ = true;
    if (sink_transport_) sink_transport_->release();
    delivered_ = received;
    delivery_done_ = true;
    maybe_done();
  }

  void maybe_done() {
    if (done_ || errored_) return;
    if (ceiling_hit_) {
      done_ = true;
      finish_run();
      return;
    }
    if (!delivery_done_) return;
    if (cfg_.mode == Mode::pipeline && !pipeline_done_) return;
    done_ = true;
    if (sink_transport_) {
      rt_.log(fmt::format("done: peer received {} bytes", peer_received_));
    } else if (cfg_.object_mode) {
      rt_.log(fmt::format("done: sink received {} objects", objects_));
    } else {
      rt_.log(fmt::format("done: sink received {} bytes", delivered_));
    }
    finish_run();
  }

  void finish_run() {
    if (finished_) return;
    finished_ = true;
    elapsed_ = runtime::hrtime() - started_;
    collect();
  }

  void collect() {
    buffered_series_.flush();
    sink_series_.flush();
    FlowStats& fs = world_.flow;
    fs.stages.clear();
    fs.stage_order.clear();
    fs.source_bytes = produced_;
    // Over a transport the far end's count is the truth (it is final at its EOF).
    fs.delivered_bytes = peer_ ? std::max(delivered_, peer_->received()) : delivered_;
    fs.objects = cfg_.object_mode ? objects_ : 0;
    fs.buffered_peak = buffered_peak_;
    // The buffers sample() adds up, each held to its highWaterMark plus the chunk that
    // crossed it when every writer honours write()'s false.
    const std::uint64_t buffers = (source_ ? 1 : 0) + 2 * transforms_.size() + (sink_ ? 1 : 0);
    fs.buffer_bound = buffers * (cfg_.hwm_value() + (cfg_.object_mode ? 1 : cfg_.chunk));
    fs.ceiling_hit = ceiling_hit_;
    fs.elapsed_ms = runtime::to_ms(elapsed_);
    fs.kernel_peer_bytes = peer_ ? peer_->received() : 0;
    std::uint64_t falses = write_false_, drains = drains_;
    runtime::Nanos paused = paused_;
    auto stage = [&](const std::string& name, const StreamRef& s) {
      fs.stages[name] = s->stats;
      fs.stage_order.push_back(name);
      if (cfg_.mode == Mode::pipe || cfg_.mode == Mode::pipeline) {
        falses += s->stats.write_false;
        drains += s->stats.drains;
      }
    };
    if (source_) {
      stage("source", source_);
      paused += source_->stats.paused_time;
    }
    for (auto& t : transforms_)
      stage(t->name(), t);
    stage("sink", sink_);
    if (sink_transport_) {
      fs.stages["sink"].writable_length_peak =
          std::max(fs.stages["sink"].writable_length_peak, sink_transport_->write_queue_peak());
    }
    fs.write_false = falses;
    fs.drains = drains;
    fs.paused_ms = runtime::to_ms(paused);
  }

  void teardown() {
    if (!finished_) {
      elapsed_ = runtime::hrtime() - started_;
      collect();
    }
    if (peer_) peer_->stop();
    for (auto* s : {&source_, &sink_})
      if (*s) (*s)->dispose();
    for (auto& t : transforms_)
      t->dispose();
    sink_transport_.reset();
    zero_.reset();  // an in-flight read still holds it; the runtime's shutdown frees that
  }

  Config cfg_;
  World& world_;
  runtime::Runtime& rt_;
  runtime::Site site_;
  std::unique_ptr<UvSink> sink_transport_;
  std::unique_ptr<Peer> peer_;
  // The source's fd: closed when the last holder (the stream, an in-flight read) lets go.
  struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    ~Fd() { ::close(fd); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
  };
  std::shared_ptr<Fd> zero_;
  std::weak_ptr<Fd> zero_seen_;
  StreamRef source_, sink_, first_;
  std::vector<StreamRef> transforms_;
  std::uint64_t produced_ = 0, delivered_ = 0, objects_ = 0, peer_received_ = 0;
  std::uint64_t buffered_peak_ = 0, write_false_ = 0, drains_ = 0;
  runtime::Nanos started_{0}, elapsed_{0}, paused_{0}, waiting_since_{-1};
  // The timeline's series: the largest value of each millisecond (peak_series.hpp).
  PeakSeries buffered_series_{std::chrono::milliseconds(1), [this](runtime::Nanos t, double v) {
                                rt_.sample_at("bufferedBytes", t, v);
                              }};
  PeakSeries sink_series_{std::chrono::milliseconds(1), [this](runtime::Nanos t, double v) {
                            rt_.sample_at("sink.writableLength", t, v);
                          }};
  bool stopped_ = false, ceiling_hit_ = false, errored_ = false, done_ = false;
  bool pipeline_done_ = false, sink_finished_ = false, delivery_done_ = false, peer_done_ = false;
  bool finished_ = false;
};

// ---- the twin: the same flow on Node's fs, net and stream (twin/flow.js) ----

class FlowOp final : public script::Op {
 public:
  explicit FlowOp(Config cfg) : cfg_(std::move(cfg)) {}
  std::string_view name() const override { return "flow"; }
  script::Flow run(const script::Exec& ex) const override {
    auto r = std::make_shared<FlowRun>(cfg_, ex.interp.extension<World>(), site);
    r->start();
    return {};
  }
  std::string describe() const override {
    return fmt::format("flow ({} {}, {} transform(s))",
                       kTransports[static_cast<int>(cfg_.transport)],
                       kModes[static_cast<int>(cfg_.mode)], cfg_.transforms.size());
  }
  void emit_twin(script::TwinWriter& w) const override {
    w.helper("runFlow", embed::streams_twin::flow_js);
    std::string transforms;
    for (const auto& t : cfg_.transforms) {
      if (!transforms.empty()) transforms += ", ";
      transforms += fmt::format("{{ rate: {}, work_us: {} }}", t.rate, t.work_us);
    }
    w.line(fmt::format(
        "runFlow({{ transport: '{}', mode: '{}', source: '{}', bytes: {}, chunk: {}, hwm: {}, "
        "objectMode: {}, transforms: [{}], peerRate: {}, failStage: {}, failAt: {}, "
        "maxBuffered: {}, reportAfterMs: {} }});",
        kTransports[static_cast<int>(cfg_.transport)], kModes[static_cast<int>(cfg_.mode)],
        kSources[static_cast<int>(cfg_.source)], cfg_.bytes, cfg_.chunk, cfg_.hwm_value(),
        cfg_.object_mode, transforms, cfg_.peer_rate, script::js_string(cfg_.fail_stage),
        cfg_.fail_at, cfg_.max_buffered, runtime::js_number_to_string(cfg_.report_after_ms)));
  }

 private:
  Config cfg_;
};

template <class E, std::size_t N>
E pick(script::Parser& p, script::Fields& f, std::string_view key,
       const std::string_view (&names)[N], E fallback) {
  if (!f.has(key)) return fallback;
  const std::string v = f.string(key);
  const auto* it = std::find(std::begin(names), std::end(names), v);
  if (it == std::end(names)) {
    std::string all;
    for (std::size_t i = 0; i < N; ++i)
      all += (i ? (i + 1 == N ? " or " : ", ") : "") + std::string(names[i]);
    p.fail(f.get(key), fmt::format("`{}` of `flow` must be {}; got '{}'", key, all, v));
  }
  return static_cast<E>(it - std::begin(names));
}

}  // namespace

void add_flow_block(script::OpRegistry& r) {
  r.add_block("flow", [](script::Parser& p, const YAML::Node& v, script::Scenario&) {
    script::Fields f =
        p.fields(v, "flow",
                 {"transport", "mode", "source", "bytes", "chunk", "highWaterMark", "objectMode",
                  "transforms", "peer_rate", "fail", "max_buffered", "report_after_ms"});
    Config c;
    c.transport = pick(p, f, "transport", kTransports, Transport::memory);
    c.mode = pick(p, f, "mode", kModes, Mode::pipeline);
    c.bytes = static_cast<std::uint64_t>(f.integer("bytes", 1, std::int64_t{1} << 40));
    c.chunk = static_cast<std::uint64_t>(f.integer("chunk", 1, 16 << 20, 65536));
    if (f.has("highWaterMark")) {
      c.hwm = static_cast<std::uint64_t>(f.integer("highWaterMark", 1, std::int64_t{1} << 30));
    }
    c.object_mode = f.boolean("objectMode", c.object_mode);
    if (c.object_mode && c.transport != Transport::memory) {
      p.fail(f.get("objectMode"),
             "objectMode carries objects, not bytes: only `transport: memory`");
    }
    c.source = pick(p, f, "source", kSources, c.object_mode ? Source::memory : Source::file);
    if (f.has("source") && (c.mode == Mode::ignore || c.mode == Mode::honor)) {
      p.fail(f.get("source"), fmt::format("`source` of `flow` is for mode pipe or pipeline; mode "
                                          "{} writes from a producer loop",
                                          kModes[static_cast<int>(c.mode)]));
    }
    if (c.object_mode && c.source == Source::file) {
      p.fail(f.get("source"), "objectMode pushes objects: only `source: memory`");
    }
    if (f.has("transforms")) {
      const YAML::Node list = f.get("transforms");
      if (!list.IsSequence()) p.fail(list, "`transforms` of `flow` must be a list");
      if (list.size() > 3) p.fail(list, "`transforms` of `flow` takes at most 3 transforms");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const YAML::Node item = list[i];
        if (item.IsNull()) {
          c.transforms.push_back({});
          continue;
        }
        script::Fields tf = p.fields(item, "transform", {"rate", "work_us"});
        TransformCfg t;
        t.rate = static_cast<std::uint64_t>(tf.integer("rate", 0, std::int64_t{1} << 40, 0));
        t.work_us = tf.integer("work_us", 0, 100'000, 0);
        c.transforms.push_back(t);
      }
    }
    c.peer_rate = static_cast<std::uint64_t>(f.integer("peer_rate", 0, std::int64_t{1} << 40, 0));
    if (f.has("fail")) {
      script::Fields ff = p.fields(f.get("fail"), "fail", {"stage", "at"});
      const YAML::Node at = ff.get("stage");
      c.fail_stage = ff.string("stage");
      std::string stages;
      bool ok = c.fail_stage == "sink";
      for (std::size_t i = 0; i < c.transforms.size(); ++i) {
        const std::string t = fmt::format("t{}", i + 1);
        ok = ok || c.fail_stage == t;
        stages += t + ", ";
      }
      if (!ok) {
        p.fail(at, fmt::format("`stage` of `fail` must be one of {}sink; got '{}'", stages,
                               c.fail_stage));
      }
      c.fail_at = static_cast<std::uint64_t>(ff.integer("at", 1, 1'000'000));
    }
    if (f.has("max_buffered")) {
      c.max_buffered =
          static_cast<std::uint64_t>(f.integer("max_buffered", 1, std::int64_t{1} << 40));
    }
    c.report_after_ms = f.number_in("report_after_ms", 1, 10'000, 50);
    // Objects are counted, not sized: the chunk size is the object's payload.
    p.append_block_op(std::make_unique<FlowOp>(std::move(c)), v);
  });
}

}  // namespace nodelab::streams
