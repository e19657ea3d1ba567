// The streams lab's ops (scenarios/streams/README.md) and their Node.js twins: streams
// named in the scenario, created by `readable`, `writable` and `transform`, driven by
// `write`, `end`, `read`, `resume`, `pause`, `pipe`, `pipeline`, `pump`, observed by `on`
// and `inspect`.

#include <fmt/format.h>

#include <map>

#include "runtime/js_number.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"
#include "script/shared_ops.hpp"
#include "script/twin.hpp"
#include "streams/world.hpp"

namespace nodelab::streams {

namespace {

using script::Body;
using script::BodyKind;
using script::Exec;
using script::Fields;
using script::Flow;
using script::Parser;
using script::TwinWriter;

enum class Kind : std::uint8_t { readable, writable, transform };
constexpr std::string_view kKindNames[] = {"readable", "writable", "transform"};

// Streams declared so far in file order: a use must follow the op that creates the stream.
struct Names {
  std::map<std::string, std::pair<Kind, int>> kinds;  // name -> kind, line
};
std::shared_ptr<Names> names_of(Parser& p) {
  auto& slot = p.scenario().blocks["streams.names"];
  if (!slot.has_value()) slot = std::make_shared<Names>();
  return std::any_cast<std::shared_ptr<Names>>(slot);
}

void use_stream_module(TwinWriter& w) {
  w.require("stream", "const { Readable, Writable, Transform, pipeline } = require('stream');");
  // Stream names are only property names of `S` (no prototype: `S.__proto__` is a stream like
  // any), never variables, so a name the twin uses itself (`S`, `pipeline`) is a name like any.
  w.helper("S", "const S = Object.create(null);");
}

// How an asynchronous step of a stream completes: `_write`'s callback, `_read`'s push,
// `_transform`'s callback.
enum class Completion : std::uint8_t { sync, next_tick, immediate, timeout };
constexpr std::string_view kCompletionNames[] = {"sync", "nextTick", "immediate", "timeout"};

struct Timing {
  Completion how = Completion::immediate;
  double ms = 0;

  void schedule(runtime::Runtime& rt, runtime::Task fn, runtime::Site site) const {
    switch (how) {
      case Completion::sync:
        fn();
        break;
      case Completion::next_tick:
        rt.next_tick(std::move(fn), site);
        break;
      case Completion::immediate:
        rt.set_immediate(std::move(fn), site);
        break;
      case Completion::timeout:
        rt.set_timeout(ms, std::move(fn), site);
        break;
    }
  }
  // `CALL` run as scheduled, in JavaScript.
  std::string js(const std::string& call) const {
    switch (how) {
      case Completion::sync:
        return call + ";";
      case Completion::next_tick:
        return "process.nextTick(() => " + call + ");";
      case Completion::immediate:
        return "setImmediate(() => " + call + ");";
      case Completion::timeout:
        return "setTimeout(() => " + call + ", " + runtime::js_number_to_string(ms) + ");";
    }
    return call;
  }
};

Timing timing_field(Parser& p, Fields& f, const std::string& key, Completion fallback) {
  Timing t;
  t.how = fallback;
  if (f.has(key)) {
    const std::string v = f.string(key);
    const auto* it = std::find(std::begin(kCompletionNames), std::end(kCompletionNames), v);
    if (it == std::end(kCompletionNames)) {
      p.fail(f.get(key),
             fmt::format("`{}` must be sync, nextTick, immediate or timeout; got '{}'", key, v));
    }
    t.how = static_cast<Completion>(it - std::begin(kCompletionNames));
  }
  if (t.how == Completion::timeout) {
    t.ms = f.number_in("ms", 0, 10'000, 1);
  } else if (f.has("ms")) {
    p.fail(f.get("ms"), fmt::format("`ms` applies only to `{}: timeout`", key));
  }
  return t;
}

std::string new_stream_name(Parser& p, Fields& f, Kind kind) {
  const YAML::Node at = f.get("name");
  std::string name = f.identifier("name");
  auto names = names_of(p);
  const auto it = names->kinds.find(name);
  if (it != names->kinds.end()) {
    p.fail(at, fmt::format("stream '{}' is already created at line {}", name, it->second.second));
  }
  names->kinds[name] = {kind, p.loc(at).line};
  return name;
}

// A stream an op uses: created by an earlier op, of a kind that has the side it needs.
std::string stream_field(Parser& p, Fields& f, std::string_view key, bool need_readable,
                         bool need_writable, std::string_view op) {
  const YAML::Node at = f.get(key);
  std::string name = f.identifier(key);
  auto names = names_of(p);
  const auto it = names->kinds.find(name);
  if (it == names->kinds.end()) {
    p.fail(at, fmt::format("no earlier op creates a stream named '{}'", name));
  }
  const Kind k = it->second.first;
  if (need_readable && k == Kind::writable) {
    p.fail(at, fmt::format("`{}` needs a readable stream; '{}' is a writable", op, name));
  }
  if (need_writable && k == Kind::readable) {
    p.fail(at, fmt::format("`{}` needs a writable stream; '{}' is a readable", op, name));
  }
  return name;
}

struct HwmField {
  std::optional<std::int64_t> value;
  std::string js() const {
    return value ? fmt::format("highWaterMark: {}, ", *value) : std::string();
  }
};
HwmField hwm_field(Fields& f) {
  HwmField h;
  if (f.has("highWaterMark")) h.value = f.integer("highWaterMark", 0, std::int64_t{1} << 30);
  return h;
}

// ---- writable ----

struct WritableSpec {
  std::string name;
  HwmField hwm;
  bool object_mode = false;
  Timing complete;
  std::int64_t fail_at = 0;  // the n-th _write (or _writev) calls back with an error (0: never)
  bool writev = false;       // writable: has a _writev too (as net.Socket has)
  bool log_writes = false;   // writable: log each _write and _writev call
};

class WritableOp final : public script::Op {
 public:
  explicit WritableOp(WritableSpec s) : s_(std::move(s)) {}
  std::string_view name() const override { return "writable"; }
  Flow run(const Exec& ex) const override {
    StreamOptions o;
    o.writable = true;
    o.object_mode = s_.object_mode;
    if (s_.hwm.value) o.high_water_mark = static_cast<std::size_t>(*s_.hwm.value);
    auto st = Stream::make(ex.rt, s_.name, o);
    auto writes = std::make_shared<std::int64_t>(0);
    const runtime::Site where = site;
    // One _write or _writev call: maybe logged, maybe the failing one, completed as `complete`.
    auto call = [spec = s_, writes, where](Stream& s, const std::string& what, Callback cb) {
      if (spec.log_writes) s.rt().log(fmt::format("{}.{}", spec.name, what));
      const bool fail = ++*writes == spec.fail_at;
      MaybeError err;
      if (fail) err = JsError{"Error", "", spec.name + " failed"};
      spec.complete.schedule(
          s.rt(), [cb, err] { cb(err); }, where);
    };
    const bool objects = s_.object_mode;
    st->write_impl = [call, objects](Stream& s, const Chunk& c, Callback cb) {
      call(s, objects ? "_write(object)" : fmt::format("_write({} bytes)", c.length),
           std::move(cb));
    };
    if (s_.writev) {
      st->writev_impl = [call, objects](Stream& s, std::span<const Chunk> cs, Callback cb) {
        std::size_t bytes = 0;
        for (const Chunk& c : cs)
          bytes += c.length;
        call(s,
             objects ? fmt::format("_writev({} objects)", cs.size())
                     : fmt::format("_writev({} chunks, {} bytes)", cs.size(), bytes),
             std::move(cb));
      };
    }
    ex.interp.extension<World>().add(s_.name, st);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    w.open("{");
    if (s_.fail_at > 0) w.line("let writes = 0;");
    // One _write or _writev call, as the lab's: maybe logged, maybe failing, then `complete`.
    w.open("const call = (what, cb) => {");
    if (s_.log_writes)
      w.line(fmt::format("console.log({} + what);", script::js_string(s_.name + ".")));
    if (s_.fail_at > 0) {
      w.line(fmt::format("const err = ++writes === {} ? new Error({}) : null;", s_.fail_at,
                         script::js_string(s_.name + " failed")));
      w.line(s_.complete.js("cb(err)"));
    } else {
      w.line(s_.complete.js("cb()"));
    }
    w.close("};");
    std::string options = s_.hwm.js() + (s_.object_mode ? "objectMode: true, " : "");
    if (!options.empty()) options = " " + options.substr(0, options.size() - 1);  // methods below
    w.open(fmt::format("S.{} = new Writable({{{}", s_.name, options));
    w.line(s_.object_mode ? "write(chunk, encoding, cb) { call('_write(object)', cb); },"
                          : "write(chunk, encoding, cb) { call(`_write(${chunk.length} bytes)`, "
                            "cb); },");
    if (s_.writev) {
      w.line(s_.object_mode
                 ? "writev(chunks, cb) { call(`_writev(${chunks.length} objects)`, cb); },"
                 : "writev(chunks, cb) { call(`_writev(${chunks.length} chunks, "
                   "${chunks.reduce((n, c) => n + c.chunk.length, 0)} bytes)`, cb); },");
    }
    w.close("});");
    w.close("}");
  }
  std::string describe() const override { return "new Writable " + s_.name; }

 private:
  WritableSpec s_;
};

// ---- readable ----

struct ReadableSpec {
  std::string name;
  HwmField hwm;
  bool object_mode = false;
  Timing push;               // when _read pushes
  std::int64_t chunk = 4;    // bytes per push
  std::int64_t chunks = -1;  // then push(null); -1: never ends
  bool log_reads = false;
};

class ReadableOp final : public script::Op {
 public:
  explicit ReadableOp(ReadableSpec s) : s_(std::move(s)) {}
  std::string_view name() const override { return "readable"; }
  Flow run(const Exec& ex) const override {
    StreamOptions o;
    o.readable = true;
    o.object_mode = s_.object_mode;
    if (s_.hwm.value) o.high_water_mark = static_cast<std::size_t>(*s_.hwm.value);
    auto st = Stream::make(ex.rt, s_.name, o);
    struct Counters {
      std::int64_t reads = 0, pushed = 0;
    };
    auto c = std::make_shared<Counters>();
    const runtime::Site where = site;
    std::weak_ptr<Stream> ws = st;
    st->read_impl = [spec = s_, c, where, ws](Stream& s, std::size_t size) {
      const std::int64_t n = ++c->reads;
      spec.push.schedule(
          s.rt(),
          [spec, c, ws, n, size] {
            auto self = ws.lock();
            if (!self) return;
            if (spec.chunks >= 0 && c->pushed == spec.chunks) {
              self->push(std::nullopt);
              if (spec.log_reads) {
                self->rt().log(
                    fmt::format("{}._read #{} (size {}): push(null)", spec.name, n, size));
              }
              return;
            }
            ++c->pushed;
            const bool ok = self->push(Chunk::alloc(static_cast<std::size_t>(spec.chunk)));
            if (spec.log_reads) {
              self->rt().log(fmt::format(
                  "{}._read #{} (size {}): push({}) -> {}, readableLength={}", spec.name, n, size,
                  spec.object_mode ? std::string("object") : fmt::format("{} bytes", spec.chunk),
                  ok, self->readable_length()));
            }
          },
          where);
    };
    ex.interp.extension<World>().add(s_.name, st);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    w.open("{");
    w.line("let reads = 0, pushed = 0;");
    w.open(fmt::format("S.{} = new Readable({{ {}{}read(size) {{", s_.name, s_.hwm.js(),
                       s_.object_mode ? "objectMode: true, " : ""));
    w.line("const n = ++reads;");
    w.open("const go = () => {");
    if (s_.chunks >= 0) {
      w.open(fmt::format("if (pushed === {}) {{", s_.chunks));
      w.line("this.push(null);");
      if (s_.log_reads) {
        w.line(fmt::format("console.log({} + n + ' (size ' + size + '): push(null)');",
                           script::js_string(s_.name + "._read #")));
      }
      w.line("return;");
      w.close("}");
    }
    w.line("pushed++;");
    w.line(fmt::format("const ok = this.push({});",
                       s_.object_mode ? fmt::format("{{ bytes: {} }}", s_.chunk)
                                      : fmt::format("Buffer.alloc({})", s_.chunk)));
    if (s_.log_reads) {
      w.line(fmt::format(
          "console.log({} + n + ' (size ' + size + '): push({}) -> ' + ok + ', readableLength=' + "
          "this.readableLength);",
          script::js_string(s_.name + "._read #"),
          s_.object_mode ? std::string("object") : fmt::format("{} bytes", s_.chunk)));
    }
    w.close("};");
    w.line(s_.push.js("go()"));
    w.close("} });");
    w.close("}");
  }
  std::string describe() const override { return "new Readable " + s_.name; }

 private:
  ReadableSpec s_;
};

// ---- transform ----

// A Transform's options are a Writable's (its write side paces it).
using TransformSpec = WritableSpec;

class TransformOp final : public script::Op {
 public:
  explicit TransformOp(TransformSpec s) : s_(std::move(s)) {}
  std::string_view name() const override { return "transform"; }
  Flow run(const Exec& ex) const override {
    StreamOptions o;
    o.transform = true;
    o.object_mode = s_.object_mode;
    if (s_.hwm.value) o.high_water_mark = static_cast<std::size_t>(*s_.hwm.value);
    auto st = Stream::make(ex.rt, s_.name, o);
    auto calls = std::make_shared<std::int64_t>(0);
    const runtime::Site where = site;
    st->transform_impl = [spec = s_, calls, where](
                             Stream& s, const Chunk& chunk,
                             std::function<void(MaybeError, std::optional<Chunk>)> cb) {
      const bool fail = ++*calls == spec.fail_at;
      spec.complete.schedule(
          s.rt(),
          [cb, chunk, fail, name = spec.name] {
            if (fail) {
              cb(JsError{"Error", "", name + " failed"}, std::nullopt);
            } else {
              cb(std::nullopt, chunk);
            }
          },
          where);
    };
    ex.interp.extension<World>().add(s_.name, st);
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    w.open("{");
    w.line("let calls = 0;");
    w.open(fmt::format("S.{} = new Transform({{ {}{}transform(chunk, encoding, cb) {{", s_.name,
                       s_.hwm.js(), s_.object_mode ? "objectMode: true, " : ""));
    if (s_.fail_at > 0) {
      w.line(fmt::format("const fail = ++calls === {};", s_.fail_at));
      w.line(s_.complete.js(fmt::format("(fail ? cb(new Error({})) : cb(null, chunk))",
                                        script::js_string(s_.name + " failed"))));
    } else {
      w.line(s_.complete.js("cb(null, chunk)"));
    }
    w.close("} });");
    w.close("}");
  }
  std::string describe() const override { return "new Transform " + s_.name; }

 private:
  TransformSpec s_;
};

// ---- write / end / destroy / read / resume / pause ----

class WriteOp final : public script::Op {
 public:
  WriteOp(std::string stream, std::int64_t bytes, bool object, bool log,
          std::optional<std::string> callback)
      : stream_(std::move(stream)),
        bytes_(bytes),
        object_(object),
        log_(log),
        callback_(std::move(callback)) {}
  std::string_view name() const override { return "write"; }
  Flow run(const Exec& ex) const override {
    Stream& s = ex.interp.extension<World>().get(stream_);
    Callback cb;
    if (callback_) {
      runtime::Runtime& rt = ex.rt;
      cb = [&rt, label = *callback_](const MaybeError& err) {
        rt.log(fmt::format("{}: error={}", label, err ? err->message : std::string("none")));
      };
    }
    const bool ok = s.write(Chunk::alloc(static_cast<std::size_t>(bytes_)), std::move(cb));
    if (log_) {
      ex.rt.log(fmt::format("{}.write({}) -> {}, writableLength={}", stream_, what(), ok,
                            s.writable_length()));
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    std::string arg =
        object_ ? fmt::format("{{ bytes: {} }}", bytes_) : fmt::format("Buffer.alloc({})", bytes_);
    if (callback_) {
      arg += fmt::format(", (err) => console.log({} + (err ? err.message : 'none'))",
                         script::js_string(*callback_ + ": error="));
    }
    if (!log_) {
      w.line(fmt::format("S.{}.write({});", stream_, arg));
      return;
    }
    w.line(
        fmt::format("{{ const ok = S.{}.write({}); console.log({} + ok + ', writableLength=' + "
                    "S.{}.writableLength); }}",
                    stream_, arg,
                    script::js_string(fmt::format("{}.write({}) -> ", stream_, what())), stream_));
  }
  std::string describe() const override { return fmt::format("{}.write({})", stream_, what()); }

 private:
  std::string what() const { return object_ ? "object" : fmt::format("{} bytes", bytes_); }
  std::string stream_;
  std::int64_t bytes_;
  bool object_;
  bool log_;
  std::optional<std::string> callback_;  // label of the write's callback, which logs its error
};

enum class Simple : std::uint8_t { end, resume, pause, destroy, unpipe_all, cork, uncork };
constexpr std::string_view kSimpleNames[] = {"end",    "resume", "pause", "destroy",
                                             "unpipe", "cork",   "uncork"};

class SimpleOp final : public script::Op {
 public:
  SimpleOp(Simple what, std::string stream, std::optional<std::string> error)
      : what_(what), stream_(std::move(stream)), error_(std::move(error)) {}
  std::string_view name() const override { return kSimpleNames[static_cast<int>(what_)]; }
  Flow run(const Exec& ex) const override {
    Stream& s = ex.interp.extension<World>().get(stream_);
    switch (what_) {
      case Simple::end:
        s.end();
        break;
      case Simple::resume:
        s.resume();
        break;
      case Simple::pause:
        s.pause();
        break;
      case Simple::destroy:
        s.destroy(error_ ? MaybeError(JsError{"Error", "", *error_}) : std::nullopt);
        break;
      case Simple::unpipe_all:
        s.unpipe();
        break;
      case Simple::cork:
        s.cork();
        break;
      case Simple::uncork:
        s.uncork();
        break;
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    const std::string arg = error_ ? "new Error(" + script::js_string(*error_) + ")" : "";
    w.line(fmt::format("S.{}.{}({});", stream_, name(), arg));
  }
  std::string describe() const override { return fmt::format("{}.{}()", stream_, name()); }

 private:
  Simple what_;
  std::string stream_;
  std::optional<std::string> error_;
};

class ReadOp final : public script::Op {
 public:
  ReadOp(std::string stream, std::optional<std::int64_t> size, bool object)
      : stream_(std::move(stream)), size_(size), object_(object) {}
  std::string_view name() const override { return "read"; }
  Flow run(const Exec& ex) const override {
    Stream& s = ex.interp.extension<World>().get(stream_);
    auto c =
        s.read(size_ ? std::optional<std::size_t>(static_cast<std::size_t>(*size_)) : std::nullopt);
    std::string got = !c ? "null" : object_ ? "object" : fmt::format("{} bytes", c->length);
    ex.rt.log(fmt::format("{}.read({}) -> {}, readableLength={}", stream_,
                          size_ ? std::to_string(*size_) : "", got, s.readable_length()));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    const std::string got = object_ ? "(c === null ? 'null' : 'object')"
                                    : "(c === null ? 'null' : c.length + ' bytes')";
    w.line(
        fmt::format("{{ const c = S.{}.read({}); console.log({} + {} + ', readableLength=' + "
                    "S.{}.readableLength); }}",
                    stream_, size_ ? std::to_string(*size_) : "",
                    script::js_string(fmt::format("{}.read({}) -> ", stream_,
                                                  size_ ? std::to_string(*size_) : "")),
                    got, stream_));
  }

 private:
  std::string stream_;
  std::optional<std::int64_t> size_;
  bool object_;
};

// ---- on ----

constexpr std::string_view kEvents[] = {"data",  "drain",  "finish",    "end",
                                        "close", "error",  "pause",     "resume",
                                        "pipe",  "unpipe", "prefinish", "readable"};

class OnOp final : public script::Op {
 public:
  OnOp(std::string stream, std::string event, std::optional<std::string> log, Body then,
       bool object, bool once)
      : stream_(std::move(stream)),
        event_(std::move(event)),
        log_(std::move(log)),
        then_(std::move(then)),
        object_(object),
        once_(once) {}
  std::string_view name() const override { return once_ ? "once" : "on"; }
  Flow run(const Exec& ex) const override {
    Stream& s = ex.interp.extension<World>().get(stream_);
    runtime::Task body = ex.callback(then_);
    runtime::Runtime& rt = ex.rt;
    auto fn = [&rt, body, log = log_, event = event_, object = object_](const EventArgs& a) {
      if (log) {
        std::string text = *log;
        if (event == "data" && a.chunk != nullptr) {
          text += object ? ": object" : fmt::format(": {} bytes", a.chunk->length);
        } else if (event == "error" && a.error != nullptr) {
          text += ": " + a.error->message;
        }
        rt.log(std::move(text));
      }
      body();
    };
    if (once_) {
      s.once(event_, fn);
    } else {
      s.on(event_, fn);
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    const std::string param = event_ == "data" ? "chunk" : event_ == "error" ? "err" : "";
    w.open(
        fmt::format("S.{}.{}({}, ({}) => {{", stream_, name(), script::js_string(event_), param));
    if (log_) {
      std::string expr = script::js_string(*log_);
      if (event_ == "data") {
        expr += object_ ? " + ': object'" : " + ': ' + chunk.length + ' bytes'";
      } else if (event_ == "error") {
        expr += " + ': ' + err.message";
      }
      w.line("console.log(" + expr + ");");
    }
    w.body(then_);
    w.close("});");
  }
  std::string describe() const override {
    return fmt::format("{}.{}('{}')", stream_, name(), event_);
  }

 private:
  std::string stream_, event_;
  std::optional<std::string> log_;
  Body then_;
  bool object_;
  bool once_;
};

// ---- inspect ----

class InspectOp final : public script::Op {
 public:
  InspectOp(std::string stream, Kind kind) : stream_(std::move(stream)), kind_(kind) {}
  std::string_view name() const override { return "inspect"; }
  Flow run(const Exec& ex) const override {
    Stream& s = ex.interp.extension<World>().get(stream_);
    std::string text = stream_ + ":";
    if (kind_ != Kind::readable) {
      text += fmt::format(" writableLength={} writableNeedDrain={} writableFinished={}",
                          s.writable_length(), s.writable_need_drain(), s.writable_finished());
    }
    if (kind_ != Kind::writable) {
      const auto f = s.readable_flowing();
      text +=
          fmt::format(" readableLength={} readableFlowing={} readableEnded={}", s.readable_length(),
                      f ? (*f ? "true" : "false") : "null", s.readable_ended());
    }
    text += fmt::format(" destroyed={}", s.destroyed());
    ex.rt.log(std::move(text));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    std::string expr = script::js_string(stream_ + ":");
    const std::string s = "S." + stream_;
    if (kind_ != Kind::readable) {
      expr += fmt::format(
          " + ' writableLength=' + {0}.writableLength + ' writableNeedDrain=' + "
          "{0}.writableNeedDrain + ' writableFinished=' + {0}.writableFinished",
          s);
    }
    if (kind_ != Kind::writable) {
      expr += fmt::format(
          " + ' readableLength=' + {0}.readableLength + ' readableFlowing=' + "
          "{0}.readableFlowing + ' readableEnded=' + {0}.readableEnded",
          s);
    }
    expr += fmt::format(" + ' destroyed=' + {}.destroyed", s);
    w.line("console.log(" + expr + ");");
  }

 private:
  std::string stream_;
  Kind kind_;
};

// ---- pipe / pipeline ----

class PipeOp final : public script::Op {
 public:
  PipeOp(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  std::string_view name() const override { return "pipe"; }
  Flow run(const Exec& ex) const override {
    World& w = ex.interp.extension<World>();
    w.get(from_).pipe(w.get(to_));
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    w.line(fmt::format("S.{}.pipe(S.{});", from_, to_));
  }
  std::string describe() const override { return fmt::format("{}.pipe({})", from_, to_); }

 private:
  std::string from_, to_;
};

// pipeline(..., cb), or with `promise: true` stream/promises' pipeline(..., { signal }), whose
// promise settles one microtask after pipelineImpl's callback (a nextTick) calls reject or
// resolve. `signal: NAME` makes an AbortController (`A.NAME`) whose abort destroys every stage.
class PipelineOp final : public script::Op {
 public:
  PipelineOp(std::vector<std::string> streams, Body then, bool promise,
             std::optional<std::string> signal)
      : streams_(std::move(streams)),
        then_(std::move(then)),
        promise_(promise),
        signal_(std::move(signal)) {}
  std::string_view name() const override { return "pipeline"; }
  Flow run(const Exec& ex) const override {
    World& w = ex.interp.extension<World>();
    std::vector<StreamRef> refs;
    for (const auto& n : streams_)
      refs.push_back(w.ref(n));
    runtime::Task body = ex.callback(then_);
    runtime::Runtime& rt = ex.rt;
    std::shared_ptr<Controller> controller;
    if (signal_) {  // the first pipeline naming it makes it; others share it
      auto& slot = w.controllers[*signal_];
      if (!slot) slot = std::make_shared<Controller>();
      controller = slot;
    }
    std::function<void()> abort;
    if (!promise_) {
      abort = pipeline(refs, [&rt, body](const MaybeError& err) {
        rt.log("pipeline callback: error=" + (err ? err->message : std::string("none")));
        body();
      });
    } else {
      const runtime::Site where = site;
      abort = pipeline(refs, [&rt, body, where](const MaybeError& err) {
        // reject(err) / resolve(): the .then() reaction is a microtask.
        rt.enqueue_microtask(
            [&rt, body, err] {
              rt.log(err ? "pipeline rejected: " + err->headline()
                         : std::string("pipeline resolved"));
              body();
            },
            where, runtime::CallbackKind::promise);
      });
    }
    if (controller) {
      // addAbortListener(signal, abort); the abort records what the last stage had got.
      std::weak_ptr<Stream> last = refs.back();
      World* world = &w;
      auto listener = [abort, last, world] {
        if (auto l = last.lock()) world->async.abort_sink_writes = l->stats.writes;
        abort();
      };
      if (controller->aborted) {  // addAbortListener: an aborted signal calls it from a microtask
        rt.enqueue_microtask(listener, site, runtime::CallbackKind::queue_microtask);
      } else {
        controller->listeners.push_back(listener);
      }
    }
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    std::string args;
    for (const auto& n : streams_)
      args += "S." + n + ", ";
    if (!promise_) {
      w.open(fmt::format("pipeline({}(err) => {{", args));
      w.line("console.log('pipeline callback: error=' + (err ? err.message : 'none'));");
      w.body(then_);
      w.close("});");
      return;
    }
    w.require("stream/promises",
              "const { pipeline: pipelinePromise } = require('stream/promises');");
    if (signal_) {
      use_controllers(w);
      w.line(fmt::format("if (!A.{0}) A.{0} = new AbortController();", *signal_));
      args += fmt::format("{{ signal: A.{}.signal }}", *signal_);
    } else {
      args.resize(args.size() - 2);
    }
    w.open(fmt::format("pipelinePromise({}).then(() => {{", args));
    w.line("console.log('pipeline resolved');");
    w.body(then_);
    w.middle("}, (err) => {");
    w.line(
        "console.log('pipeline rejected: ' + err.name + (err.code ? ' [' + err.code + ']' : '') "
        "+ ': ' + err.message);");
    w.body(then_);
    w.close("});");
  }
  std::string describe() const override {
    return promise_ ? "await pipeline (stream/promises)" : "pipeline";
  }

  static void use_controllers(TwinWriter& w) {
    w.helper("A", "const A = Object.create(null);  // AbortControllers by name");
  }

 private:
  std::vector<std::string> streams_;
  Body then_;
  bool promise_;
  std::optional<std::string> signal_;
};

// controller.abort(): the signal's 'abort' listeners run synchronously, once.
class AbortOp final : public script::Op {
 public:
  explicit AbortOp(std::string signal) : signal_(std::move(signal)) {}
  std::string_view name() const override { return "abort"; }
  Flow run(const Exec& ex) const override {
    World& w = ex.interp.extension<World>();
    const auto it = w.controllers.find(signal_);
    if (it == w.controllers.end()) {
      throw runtime::JsThrow(runtime::JsError{
          "TypeError", "",
          fmt::format("Cannot read properties of undefined (AbortController '{}')", signal_)});
    }
    Controller& c = *it->second;
    w.async.aborted = true;
    if (c.aborted) return {};
    c.aborted = true;
    ++w.async.aborts;
    auto listeners = std::move(c.listeners);  // once: true
    c.listeners.clear();
    for (auto& l : listeners)
      l();
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    PipelineOp::use_controllers(w);
    w.line(fmt::format("A.{}.abort();", signal_));
  }
  std::string describe() const override { return fmt::format("A.{}.abort()", signal_); }

 private:
  std::string signal_;
};

// ---- forAwait ----
// for await (const chunk of S.NAME) { log; do; if (n === break_after) break; await sleep(ms) }

struct ForAwaitSpec {
  std::string stream;
  bool object_mode = false;
  std::optional<double> body_ms;  // await setTimeout(ms) from timers/promises per chunk
  std::int64_t break_after = 0;   // break after the body of that chunk (0: never)
  bool destroy_on_return = true;  // false: S.NAME.iterator({ destroyOnReturn: false })
  bool log = true;                // a line per chunk
};

class ForAwaitOp final : public script::Op {
 public:
  ForAwaitOp(ForAwaitSpec s, Body body, Body then)
      : s_(std::move(s)), body_(std::move(body)), then_(std::move(then)) {}
  std::string_view name() const override { return "forAwait"; }
  Flow run(const Exec& ex) const override {
    World& w = ex.interp.extension<World>();
    StreamRef st = w.ref(s_.stream);
    w.async.looped = true;
    runtime::Runtime& rt = ex.rt;
    runtime::Task after = ex.callback(then_);
    const Body* body = &body_;
    script::Interpreter* interp = &ex.interp;
    script::ErrorEnv env = ex.error;
    auto count = std::make_shared<std::int64_t>(0);
    std::weak_ptr<Stream> ws = st;
    const runtime::Site where = site;
    ForAwaitOptions o;
    o.destroy_on_return = s_.destroy_on_return;
    o.site = site;
    for_await(
        st, o,
        [spec = s_, &rt, body, interp, env, count, ws, world = &w, where](
            const Chunk& c, std::function<void(LoopStep)> step) {
          const std::int64_t n = ++*count;
          auto self = ws.lock();
          const std::size_t length = self ? self->readable_length() : 0;
          ++world->async.loop_chunks;
          world->async.body_length_max =
              std::max<std::uint64_t>(world->async.body_length_max, length);
          if (spec.log) {
            rt.log(fmt::format(
                "for await {}: chunk #{} ({}), readableLength={}", spec.stream, n,
                spec.object_mode ? std::string("object") : fmt::format("{} bytes", c.length),
                length));
          }
          try {
            interp->run_body(*body, env);
          } catch (const runtime::JsThrow& t) {
            step(LoopStep{false, t.error()});
            return;
          }
          if (n == spec.break_after) {
            step(LoopStep{true, std::nullopt});
            return;
          }
          if (!spec.body_ms) {
            step(LoopStep{});
            return;
          }
          // await sleep(ms): the timer's callback resolves the promise; the await resumes one
          // microtask later.
          rt.set_timeout(
              *spec.body_ms,
              [&rt, step, where] {
                rt.enqueue_microtask([step] { step(LoopStep{}); }, where,
                                     runtime::CallbackKind::await_resume);
              },
              where);
        },
        [spec = s_, &rt, count, ws, after](LoopExit how, const MaybeError& err) {
          auto self = ws.lock();
          const bool destroyed = self && self->destroyed();
          const std::string tail = fmt::format(", chunks={}, destroyed={}", *count, destroyed);
          switch (how) {
            case LoopExit::ended:
              rt.log(fmt::format("for await {}: ended{}", spec.stream, tail));
              break;
            case LoopExit::broke:
              rt.log(fmt::format("for await {}: left by break{}", spec.stream, tail));
              break;
            case LoopExit::threw:
              rt.log(fmt::format("for await {}: threw {}{}", spec.stream,
                                 err ? err->name + ": " + err->message : std::string(), tail));
              break;
          }
          after();
        });
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    const std::string s = "S." + s_.stream;
    const std::string label = script::js_string("for await " + s_.stream + ": ");
    if (s_.body_ms) {
      w.require("timers/promises", "const { setTimeout: sleep } = require('timers/promises');");
    }
    w.open("(async () => {");
    w.line("let n = 0, how = 'ended';");
    w.open("try {");
    w.open(fmt::format("for await (const chunk of {}) {{",
                       s_.destroy_on_return ? s : s + ".iterator({ destroyOnReturn: false })"));
    w.line("n++;");
    if (s_.log) {
      w.line(fmt::format(
          "console.log({} + 'chunk #' + n + ' ({})' + ', readableLength=' + {}.readableLength);",
          label, s_.object_mode ? "object" : "' + chunk.length + ' bytes", s));
    }
    w.body(body_);
    if (s_.break_after > 0) {
      w.line(fmt::format("if (n === {}) {{ how = 'left by break'; break; }}", s_.break_after));
    }
    if (s_.body_ms)
      w.line(fmt::format("await sleep({});", runtime::js_number_to_string(*s_.body_ms)));
    w.close("}");
    w.line(fmt::format("console.log({} + how + ', chunks=' + n + ', destroyed=' + {}.destroyed);",
                       label, s));
    w.middle("} catch (err) {");
    w.line(
        fmt::format("console.log({} + 'threw ' + err.name + ': ' + err.message + ', chunks=' + "
                    "n + ', destroyed=' + {}.destroyed);",
                    label, s));
    w.close("}");
    w.body(then_);
    w.close("})();");
  }
  std::string describe() const override { return "for await " + s_.stream; }

 private:
  ForAwaitSpec s_;
  Body body_;
  Body then_;
};

// ---- pump ----
// The canonical backpressure loop: write until write() returns false, wait for 'drain',
// continue; end() once the last chunk is written and, if that write returned false, drained
// (no 'drain' is emitted while ending). Logs one summary line just before end().

class PumpOp final : public script::Op {
 public:
  PumpOp(std::string stream, std::int64_t chunks, std::int64_t bytes)
      : stream_(std::move(stream)), chunks_(chunks), bytes_(bytes) {}
  std::string_view name() const override { return "pump"; }
  Flow run(const Exec& ex) const override {
    StreamRef s = ex.interp.extension<World>().ref(stream_);
    struct State {
      std::int64_t i = 0, falses = 0, drains = 0;
    };
    auto st = std::make_shared<State>();
    auto step = std::make_shared<std::function<void()>>();
    std::weak_ptr<Stream> ws = s;
    *step = [st, ws, chunks = chunks_, bytes = bytes_, name = stream_] {
      auto w = ws.lock();
      if (!w) return;
      while (st->i < chunks) {
        ++st->i;
        if (!w->write(Chunk::alloc(static_cast<std::size_t>(bytes)))) {
          ++st->falses;
          return;  // continue on 'drain' (after the last chunk too: then end())
        }
      }
      w->rt().log(
          fmt::format("pump {}: {} writes, write() returned false {} times, 'drain' "
                      "emitted {} times",
                      name, chunks, st->falses, st->drains));
      w->end();
    };
    // The drain listener holds `step`; `step` holds only a weak reference to the stream.
    s->on("drain", [st, step](const EventArgs&) {
      ++st->drains;
      (*step)();
    });
    (*step)();
    return {};
  }
  void emit_twin(TwinWriter& w) const override {
    use_stream_module(w);
    const std::string s = "S." + stream_;
    w.open("{");
    w.line("let i = 0, falses = 0, drains = 0;");
    w.open("const step = () => {");
    w.open(fmt::format("while (i < {}) {{", chunks_));
    w.line("i++;");
    w.line(fmt::format("if (!{}.write(Buffer.alloc({}))) {{ falses++; return; }}", s, bytes_));
    w.close("}");
    w.line(fmt::format(
        "console.log({} + falses + ' times, \\'drain\\' emitted ' + drains + ' times');",
        script::js_string(
            fmt::format("pump {}: {} writes, write() returned false ", stream_, chunks_))));
    w.line(s + ".end();");
    w.close("};");
    w.line(fmt::format("{}.on('drain', () => {{ drains++; step(); }});", s));
    w.line("step();");
    w.close("}");
  }
  std::string describe() const override { return fmt::format("pump {} x{}", stream_, chunks_); }

 private:
  std::string stream_;
  std::int64_t chunks_, bytes_;
};

bool object_mode_of(Parser& p, const std::string& name) {
  auto names = names_of(p);
  auto& objects = p.scenario().blocks["streams.objects"];
  if (!objects.has_value()) return false;
  auto set = std::any_cast<std::shared_ptr<std::map<std::string, bool>>>(objects);
  const auto it = set->find(name);
  return it != set->end() && it->second;
}
void set_object_mode(Parser& p, const std::string& name, bool object) {
  auto& objects = p.scenario().blocks["streams.objects"];
  if (!objects.has_value()) objects = std::make_shared<std::map<std::string, bool>>();
  (*std::any_cast<std::shared_ptr<std::map<std::string, bool>>>(objects))[name] = object;
}

// AbortControllers declared so far (a pipeline's `signal`): name -> line.
std::shared_ptr<std::map<std::string, int>> signals_of(Parser& p) {
  auto& slot = p.scenario().blocks["streams.signals"];
  if (!slot.has_value()) slot = std::make_shared<std::map<std::string, int>>();
  return std::any_cast<std::shared_ptr<std::map<std::string, int>>>(slot);
}

Kind kind_of(Parser& p, const std::string& name) {
  return names_of(p)->kinds.at(name).first;
}

// The fields a writable and a transform share: name, highWaterMark, objectMode, complete/ms,
// fail_at.
WritableSpec writable_spec(Parser& p, const YAML::Node& v, std::string_view op, Kind kind) {
  Fields f =
      kind == Kind::writable
          ? p.fields(v, op,
                     {"name", "highWaterMark", "objectMode", "complete", "ms", "fail_at", "writev",
                      "log_writes"})
          : p.fields(v, op, {"name", "highWaterMark", "objectMode", "complete", "ms", "fail_at"});
  WritableSpec s;
  s.name = new_stream_name(p, f, kind);
  s.hwm = hwm_field(f);
  s.object_mode = f.boolean("objectMode", false);
  s.complete = timing_field(p, f, "complete", Completion::immediate);
  s.fail_at = f.integer("fail_at", 0, 1'000'000, 0);
  s.writev = f.boolean("writev", false);
  s.log_writes = f.boolean("log_writes", false);
  set_object_mode(p, s.name, s.object_mode);
  return s;
}

}  // namespace

void add_flow_block(script::OpRegistry& r);  // flow.cpp

script::OpRegistry registry() {
  script::OpRegistry r = script::shared_registry("streams");
  r.add_metrics(World::metric_table());

  r.add(
      "writable",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        return std::make_unique<WritableOp>(writable_spec(p, v, "writable", Kind::writable));
      },
      "S.NAME = new Writable({highWaterMark, objectMode, write: cb after `complete`, and with "
      "`writev: true` a writev too})");
  r.add(
      "readable",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(
            v, "readable",
            {"name", "highWaterMark", "objectMode", "push", "ms", "chunk", "chunks", "log_reads"});
        ReadableSpec s;
        s.name = new_stream_name(p, f, Kind::readable);
        s.hwm = hwm_field(f);
        s.object_mode = f.boolean("objectMode", false);
        s.push = timing_field(p, f, "push", Completion::sync);
        s.chunk = f.integer("chunk", 1, 16 << 20, 4);
        s.chunks = f.integer("chunks", -1, 1'000'000, -1);
        s.log_reads = f.boolean("log_reads", s.log_reads);
        set_object_mode(p, s.name, s.object_mode);
        return std::make_unique<ReadableOp>(std::move(s));
      },
      "S.NAME = new Readable({highWaterMark, objectMode, read: push `chunk` bytes after `push`})");
  r.add(
      "transform",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        return std::make_unique<TransformOp>(writable_spec(p, v, "transform", Kind::transform));
      },
      "S.NAME = new Transform({highWaterMark, objectMode, transform: pass the chunk on after "
      "`complete`})");
  r.add(
      "write",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "write", {"stream", "bytes", "log", "callback"});
        std::string s = stream_field(p, f, "stream", false, true, "write");
        const std::int64_t bytes = f.integer("bytes", 0, 64 << 20, 4);
        const bool log = f.boolean("log", true);
        std::optional<std::string> callback;
        if (f.has("callback")) callback = f.string("callback");
        const bool object = object_mode_of(p, s);
        return std::make_unique<WriteOp>(std::move(s), bytes, object, log, std::move(callback));
      },
      "S.NAME.write(Buffer.alloc(bytes)[, cb]); logs the return value and writableLength, and "
      "with `callback: LABEL` the callback's `LABEL: error=...`");
  for (int k = 0; k < static_cast<int>(std::size(kSimpleNames)); ++k) {
    const auto what = static_cast<Simple>(k);
    const std::string name(kSimpleNames[k]);
    r.add(
        name,
        [what, name](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
          const bool has_error = what == Simple::destroy;
          Fields f =
              has_error ? p.fields(v, name, {"stream", "error"}) : p.fields(v, name, {"stream"});
          const bool readable =
              what == Simple::resume || what == Simple::pause || what == Simple::unpipe_all;
          const bool writable =
              what == Simple::end || what == Simple::cork || what == Simple::uncork;
          std::string s = stream_field(p, f, "stream", readable, writable, name);
          std::optional<std::string> error;
          if (has_error && f.has("error")) error = f.string("error");
          return std::make_unique<SimpleOp>(what, std::move(s), std::move(error));
        },
        fmt::format("S.NAME.{}()", name));
  }
  r.add(
      "read",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "read", {"stream", "size"});
        std::string s = stream_field(p, f, "stream", true, false, "read");
        std::optional<std::int64_t> size;
        if (f.has("size")) size = f.integer("size", 0, 1 << 30);
        const bool object = object_mode_of(p, s);
        return std::make_unique<ReadOp>(std::move(s), size, object);
      },
      "S.NAME.read([size]); logs what it returned and readableLength");
  for (const bool once : {false, true}) {
    const std::string opname = once ? "once" : "on";
    r.add(
        opname,
        [once, opname](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
          Fields f = p.fields(v, opname, {"stream", "event", "log", "then"});
          std::string s = stream_field(p, f, "stream", false, false, opname);
          const YAML::Node ev_at = f.get("event");
          std::string event = f.string("event");
          if (std::find(std::begin(kEvents), std::end(kEvents), event) == std::end(kEvents)) {
            p.fail(ev_at, fmt::format("`event` '{}' is not a stream event (data, drain, finish, "
                                      "end, close, error, pause, resume, pipe, unpipe, prefinish, "
                                      "readable)",
                                      event));
          }
          const Kind k = kind_of(p, s);
          const bool readable_event = event == "data" || event == "end" || event == "pause" ||
                                      event == "resume" || event == "readable";
          const bool writable_event = event == "drain" || event == "finish" || event == "pipe" ||
                                      event == "unpipe" || event == "prefinish";
          if ((readable_event && k == Kind::writable) || (writable_event && k == Kind::readable)) {
            p.fail(ev_at,
                   fmt::format("a {} never emits '{}'", kKindNames[static_cast<int>(k)], event));
          }
          std::optional<std::string> log;
          if (f.has("log")) log = f.string("log");
          const bool object = object_mode_of(p, s);
          return std::make_unique<OnOp>(std::move(s), std::move(event), std::move(log),
                                        f.body("then", BodyKind::callback), object, once);
        },
        fmt::format("S.NAME.{}(event, listener): logs `log` (+ the chunk size or error "
                    "message), then runs `then`",
                    opname));
  }
  r.add(
      "inspect",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "inspect", {"stream"});
        std::string s = stream_field(p, f, "stream", false, false, "inspect");
        const Kind k = kind_of(p, s);
        return std::make_unique<InspectOp>(std::move(s), k);
      },
      "logs the stream's lengths, needDrain, flowing, ended/finished and destroyed");
  r.add(
      "pipe",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "pipe", {"from", "to"});
        std::string from = stream_field(p, f, "from", true, false, "pipe");
        std::string to = stream_field(p, f, "to", false, true, "pipe");
        if (from == to) p.fail(f.get("to"), "a stream cannot be piped into itself");
        return std::make_unique<PipeOp>(std::move(from), std::move(to));
      },
      "S.FROM.pipe(S.TO)");
  r.add(
      "pipeline",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "pipeline", {"streams", "promise", "signal", "then"});
        const YAML::Node list = f.get("streams");
        if (!list.IsSequence() || list.size() < 2) {
          p.fail(list, "`streams` of `pipeline` must list at least two streams");
        }
        std::vector<std::string> names;
        auto declared = names_of(p);
        for (std::size_t i = 0; i < list.size(); ++i) {
          const YAML::Node item = list[i];
          const std::string n = p.identifier(item, "a stream of `pipeline`");
          const auto it = declared->kinds.find(n);
          if (it == declared->kinds.end()) {
            p.fail(item, fmt::format("no earlier op creates a stream named '{}'", n));
          }
          const Kind k = it->second.first;
          if (i + 1 < list.size() && k == Kind::writable) {
            p.fail(item, fmt::format("'{}' is a writable: only the last stage may be", n));
          }
          if (i > 0 && k == Kind::readable) {
            p.fail(item, fmt::format("'{}' is a readable: only the first stage may be", n));
          }
          if (std::find(names.begin(), names.end(), n) != names.end()) {
            p.fail(item, fmt::format("'{}' appears twice in the pipeline", n));
          }
          names.push_back(n);
        }
        const bool promise = f.boolean("promise", false);
        std::optional<std::string> signal;
        if (f.has("signal")) {
          const YAML::Node at = f.get("signal");
          if (!promise) {
            p.fail(at,
                   "`signal` needs `promise: true`: stream.pipeline(..., callback) takes no "
                   "options; stream/promises' pipeline(..., { signal }) does");
          }
          signal = f.identifier("signal");
          signals_of(p)->try_emplace(*signal, p.loc(at).line);
        }
        return std::make_unique<PipelineOp>(std::move(names), f.body("then", BodyKind::callback),
                                            promise, std::move(signal));
      },
      "pipeline(S.A, S.B, ..., cb): logs `pipeline callback: error=...`, then runs `then`; with "
      "`promise: true` stream/promises' pipeline(..., { signal: A.NAME.signal }), logging "
      "`pipeline resolved` or `pipeline rejected: ...`");
  r.add(
      "abort",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "abort", {"signal"});
        const YAML::Node at = f.get("signal");
        std::string name = f.identifier("signal");
        auto sigs = signals_of(p);
        if (sigs->find(name) == sigs->end()) {
          p.fail(at, fmt::format("no earlier `pipeline` creates a signal named '{}'", name));
        }
        return std::make_unique<AbortOp>(std::move(name));
      },
      "A.NAME.abort(): aborts the AbortController a pipeline's `signal` made");
  r.add(
      "forAwait",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f =
            p.fields(v, "forAwait",
                     {"stream", "body_ms", "break_after", "destroyOnReturn", "log", "do", "then"});
        ForAwaitSpec s;
        s.stream = stream_field(p, f, "stream", true, false, "forAwait");
        s.object_mode = object_mode_of(p, s.stream);
        if (f.has("body_ms")) s.body_ms = f.number_in("body_ms", 0, 10'000);
        s.break_after = f.integer("break_after", 0, 1'000'000, 0);
        s.destroy_on_return = f.boolean("destroyOnReturn", true);
        s.log = f.boolean("log", true);
        Body body = f.body("do", BodyKind::callback);
        Body then = f.body("then", BodyKind::callback);
        return std::make_unique<ForAwaitOp>(std::move(s), std::move(body), std::move(then));
      },
      "for await (const chunk of S.NAME) {log; do; break after `break_after`; await "
      "sleep(body_ms)}; logs each chunk and how the loop ended, then runs `then`");
  r.add(
      "pump",
      [](Parser& p, const YAML::Node& v) -> std::unique_ptr<script::Op> {
        Fields f = p.fields(v, "pump", {"stream", "chunks", "bytes"});
        std::string s = stream_field(p, f, "stream", false, true, "pump");
        if (object_mode_of(p, s)) p.fail(f.get("stream"), "`pump` writes bytes: use a byte stream");
        const std::int64_t chunks = f.integer("chunks", 1, 1'000'000);
        const std::int64_t bytes = f.integer("bytes", 1, 1 << 20, 4);
        p.add_expanded(static_cast<double>(chunks), v);
        return std::make_unique<PumpOp>(std::move(s), chunks, bytes);
      },
      "write `chunks` x `bytes` honouring false/'drain', then end(); logs a summary");

  add_flow_block(r);
  return r;
}

}  // namespace nodelab::streams
