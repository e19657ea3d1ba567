#include "runtime/process.hpp"

#include <signal.h>

#include <cstring>
#include <optional>

#include "runtime/uv.hpp"

extern char** environ;

namespace nodelab::process {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

// This process's environment with `extra` ("NAME=VALUE") added or replacing.
std::vector<std::string> environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  for (char** e = environ; *e != nullptr; ++e)
    env.emplace_back(*e);
  for (const auto& x : extra) {
    const std::string name = name_of(x);
    std::erase_if(env, [&](const std::string& e) { return name_of(e) == name; });
    env.push_back(x);
  }
  return env;
}

struct Run {
  uv::Handle<uv_process_t> process;
  uv::Handle<uv_pipe_t> in;
  uv::Handle<uv_pipe_t> out;
  uv::Handle<uv_pipe_t> err;
  uv::Handle<uv_timer_t> timeout;
  uv::Handle<uv_timer_t> signal_timer;
  Result* result = nullptr;
  int signal = 0;
  Clock::time_point started;
  std::optional<Clock::time_point> signal_sent;
  bool exited = false;
  char buffer[65536];

  void close_pipes() {
    in.close();
    out.close();
    err.close();
  }
};

void start_reading(Run& run, uv::Handle<uv_pipe_t>& pipe) {
  if (!pipe) return;
  pipe->data = &run;
  const int rc = uv_read_start(
      pipe.stream(),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* r = static_cast<Run*>(h->data);
        *buf = uv_buf_init(r->buffer, sizeof r->buffer);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* r = static_cast<Run*>(s->data);
        const bool is_out = s == r->out.stream();
        if (n > 0) {
          (is_out ? r->result->out : r->result->err).append(buf->base, static_cast<std::size_t>(n));
          return;
        }
        if (n < 0) (is_out ? r->out : r->err).close();  // EOF or an error: done with it
      });
  if (rc != 0) pipe.close();
}

}  // namespace

Result run(const std::vector<std::string>& argv, const Options& o) {
  Result result;
  if (argv.empty()) {
    result.spawn_error = UV_EINVAL;
    return result;
  }
  uv::Loop loop;  // declared first: closed (and checked) after every handle below
  Run run;
  run.result = &result;
  run.signal = o.signal;

  uv_stdio_container_t stdio[3];
  auto setup = [&](int fd, Output mode, uv::Handle<uv_pipe_t>& pipe, int direction) {
    switch (mode) {
      case Output::capture:
        pipe = uv::Handle<uv_pipe_t>::make(loop.get(), 0);
        stdio[fd].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | direction);
        stdio[fd].data.stream = pipe.stream();
        break;
      case Output::inherit:
        stdio[fd].flags = UV_INHERIT_FD;
        stdio[fd].data.fd = fd;
        break;
      case Output::discard:
        stdio[fd].flags = UV_IGNORE;  // libuv opens /dev/null for 0-2
        break;
    }
  };
  setup(0, o.pipe_stdin ? Output::capture : Output::inherit, run.in, UV_READABLE_PIPE);
  setup(1, o.out, run.out, UV_WRITABLE_PIPE);
  setup(2, o.err, run.err, UV_WRITABLE_PIPE);

  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> env;
  if (!o.extra_env.empty()) {
    env_strings = environment(o.extra_env);
    for (auto& e : env_strings)
      env.push_back(e.data());
    env.push_back(nullptr);
  }

  uv_process_options_t options{};
  options.file = args[0];
  options.args = args.data();
  options.env = env.empty() ? nullptr : env.data();
  options.stdio = stdio;
  options.stdio_count = 3;
  options.exit_cb = [](uv_process_t* p, std::int64_t status, int term_signal) {
    auto* r = static_cast<Run*>(p->data);
    r->exited = true;
    r->result->term_signal = term_signal;
    r->result->exit_code = term_signal != 0 ? -1 : static_cast<int>(status);
    r->result->elapsed = since(r->started);
    if (r->signal_sent) {
      r->result->signal_to_exit = since(*r->signal_sent);
    }
    r->process.close();  // the (unref'd) timers close with the loop: pipes may outlive it
  };

  run.started = Clock::now();
  if (const int rc = run.process.init(loop.get(), &options); rc != 0) {
    result.spawn_error = rc;
    result.err = std::string(argv[0]) + ": " + uv_strerror(rc) + "\n";
    run.close_pipes();
    return result;
  }
  run.process->data = &run;

  if (run.in) {
    // A child that exits without reading its stdin must not kill us with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    if (o.stdin_text.empty()) {
      run.in.close();
    } else {
      using Write = uv::Req<uv_write_t>;
      auto w = Write::make(nullptr, [&run](uv::NoState&, int) { run.in.close(); });
      uv_buf_t buf = uv_buf_init(const_cast<char*>(o.stdin_text.data()),
                                 static_cast<unsigned>(o.stdin_text.size()));
      if (Write::submit(w, [&](uv_write_t* req) {
            return uv_write(req, run.in.stream(), &buf, 1, Write::on_done);
          }) != 0) {
        run.in.close();
      }
    }
  }
  start_reading(run, run.out);
  start_reading(run, run.err);

  if (o.timeout.count() > 0) {
    run.timeout = uv::Handle<uv_timer_t>::make(loop.get());
    run.timeout->data = &run;
    run.timeout.unref();  // the child and its pipes keep the loop alive, not the timer
    uv::check(uv_timer_start(
                  run.timeout.get(),
                  [](uv_timer_t* t) {
                    auto* r = static_cast<Run*>(t->data);
                    r->result->timed_out = true;
                    if (!r->exited) uv_process_kill(r->process.get(), SIGKILL);
                    r->close_pipes();  // a grandchild may hold them open
                    r->timeout.close();
                  },
                  static_cast<std::uint64_t>(o.timeout.count()), 0),
              "uv_timer_start");
  }
  if (o.signal != 0) {
    run.signal_timer = uv::Handle<uv_timer_t>::make(loop.get());
    run.signal_timer->data = &run;
    run.signal_timer.unref();
    uv::check(uv_timer_start(
                  run.signal_timer.get(),
                  [](uv_timer_t* t) {
                    auto* r = static_cast<Run*>(t->data);
                    if (!r->exited) {
                      r->signal_sent = Clock::now();
                      uv_process_kill(r->process.get(), r->signal);
                    }
                    r->signal_timer.close();
                  },
                  static_cast<std::uint64_t>(o.signal_after.count()), 0),
              "uv_timer_start");
  }

  while (uv_run(loop.get(), UV_RUN_DEFAULT) != 0) {
  }
  if (!run.exited) result.elapsed = since(run.started);
  return result;  // the handles close, then the loop (checked)
}

}  // namespace nodelab::process
