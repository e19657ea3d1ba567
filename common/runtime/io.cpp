// I/O on the runtime: the threadpool (uv_queue_work, as crypto.pbkdf2 and zlib use it),
// fs.readFile as Node chains it, and handle close callbacks.

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "runtime/runtime.hpp"

namespace nodelab::runtime {

// ---------------------------------------------------------------------------------------
// Threadpool tasks. The work function really occupies a pool thread for `work` (a spin on
// the monotonic clock, like the CPU-bound pbkdf2 of the twin); completion reaches the loop
// through libuv's wq_async in the poll phase.

struct Runtime::WorkReq {
  Runtime* rt = nullptr;
  WorkFn work;
  Task callback;
  Site site = 0;
  CallbackId parent = kNoCallback;
  Nanos scheduled{0};
  Nanos started{0};   // written on the pool thread; read after completion
  Nanos finished{0};  // (libuv's work queue mutex orders the two)
  std::uint32_t thread = 0;
  PoolJob job;
};

namespace {
// Pool threads numbered in order of first use, for the trace's lanes.
std::atomic<std::uint32_t> g_pool_threads{0};
thread_local std::uint32_t t_pool_thread = 0;
}  // namespace

void Runtime::queue_threadpool(Nanos work, Task cb, Site site) {
  queue_work(
      [this, work] {
        const Nanos end = hrtime() + work;
        while (hrtime() < end && !work_abandoned()) {
        }
      },
      std::move(cb), site);
}

void Runtime::queue_work(WorkFn work, Task cb, Site site, const char* what) {
  if (dead_) return;
  auto r = WorkRequest::make(nullptr, on_after_work);
  WorkReq& w = r->state();
  w.rt = this;
  w.work = std::move(work);
  w.callback = std::move(cb);
  w.site = site;
  w.parent = current_;
  w.scheduled = hrtime();
  w.job.what = what;
  w.job.site = site;
  w.job.queued = w.scheduled - run_start_;
  pool_jobs_.insert(&w.job);
  pool_job_queued(w.job);
  ++in_flight_;
  const int rc = WorkRequest::submit(r, [this](uv_work_t* req) {
    return uv_queue_work(loop_.get(), req, on_work, WorkRequest::on_done);
  });
  if (rc != 0) {
    pool_jobs_.erase(&w.job);
    pool_job_done();
    --in_flight_;
    fail_uv(rc, "uv_queue_work");
  }
}

void Runtime::pool_job_queued(PoolJob& job) {
  job.behind_busy = pool_busy_.fetch_add(1, std::memory_order_acq_rel) >= pool_size_;
}

// A pool job's figures (its wait, behind busy threads or not, and its run) and its trace span.
void Runtime::record_pool_job(const PoolJob& job, CallbackId parent, Site site,
                              std::uint32_t thread, Nanos queued, Nanos started, Nanos finished) {
  const auto wait = static_cast<std::uint64_t>((started - queued).count());
  pool_queue_wait_.record(wait);
  if (job.behind_busy) pool_saturated_wait_.record(wait);
  pool_run_time_.record(static_cast<std::uint64_t>((finished - started).count()));
  recorder_.add_work_span(WorkSpan{parent, site, thread, queued - run_start_, started - run_start_,
                                   finished - run_start_});
}

bool Runtime::work_abandoned() const {
  return abandon_work_.load(std::memory_order_relaxed) || stop_requested() != StopReason::none;
}

std::uint32_t Runtime::pool_thread_number() {
  if (t_pool_thread == 0) t_pool_thread = ++g_pool_threads;
  return t_pool_thread;
}

// A libuv call the runtime depends on failed: the process dies with libuv's error (as an
// ErrnoException would surface in Node), never an exception through libuv's frames.
void Runtime::fail_uv(int rc, const char* syscall) {
  const std::string name = uv_err_name(rc);
  die(Outcome::uncaught_exception, JsError{"Error", name, std::string(syscall) + " " + name},
      current_, current_phase_);
}

void Runtime::on_work(uv_work_t* req) {
  WorkReq* w = &WorkRequest::of(req).state();
  w->job.running.store(true, std::memory_order_relaxed);
  w->thread = pool_thread_number();
  w->started = hrtime();
  if (!w->rt->work_abandoned()) w->work();
  w->finished = hrtime();
  w->rt->pool_job_done();
}

void Runtime::record_worker_span(std::uint32_t worker, Site site, Nanos queued, Nanos started,
                                 Nanos finished) {
  recorder_.add_work_span(WorkSpan{current_, site, worker, queued - run_start_,
                                   started - run_start_, finished - run_start_, true});
}

void Runtime::deliver_message(Site site, CallbackKind kind, Nanos posted, const Task& fn) {
  enter_phase(Phase::poll);
  if (!keep_going()) return;
  make_callback(kind, Phase::poll, site, kNoCallback, posted, fn);
}

bool Runtime::io_callback(Phase phase, CallbackKind kind, Site site, const Task& fn,
                          Nanos scheduled) {
  enter_phase(phase);
  if (!keep_going()) return false;
  make_callback(kind, phase, site, kNoCallback, scheduled, fn);
  return true;
}

// The request frees itself once this returns.
void Runtime::on_after_work(WorkReq& req, int status) {
  WorkReq* w = &req;
  Runtime* rt = w->rt;
  w->job.completed = true;
  rt->enter_phase(Phase::poll);
  rt->pool_jobs_.erase(&w->job);
  --rt->in_flight_;
  if (status == UV_ECANCELED) rt->pool_job_done();  // its work never ran
  if (status == UV_ECANCELED || !rt->keep_going()) return;
  rt->record_pool_job(w->job, w->parent, w->site, w->thread, w->scheduled, w->started, w->finished);
  rt->make_callback(CallbackKind::threadpool, Phase::poll, w->site, w->parent, w->scheduled,
                    w->callback);
}

// ---------------------------------------------------------------------------------------
// fs.readFile (lib/fs.js readFile, lib/internal/fs/read_file_context.js): open, fstat,
// read (512 KiB at a time; 64 KiB chunks until EOF when the size is unknown), close. Each
// is a separate request on the threadpool; each completes in a poll phase and its JS
// continuation runs through MakeCallback, so the user callback comes in the fourth poll
// phase at the earliest.
//
// Each step is libuv's own uv_fs_* call, made synchronously on a pool thread inside a
// uv_queue_work request: the same syscalls and the same FIFO pool as an async uv_fs_*
// request, completing through the same wq_async in poll, but with the time it waited for a
// free thread measured (async uv_fs_* requests do not expose it). libuv files fs requests
// as FAST_IO and this work as CPU; in 1.44 and 1.46 only SLOW_IO (getaddrinfo) is treated
// differently, so the order is the same.

namespace {
constexpr std::size_t kReadFileBufferLength = 512 * 1024;
constexpr std::size_t kReadFileUnknownBufferLength = 64 * 1024;
}  // namespace

struct Runtime::ReadFileReq {
  enum class Step : std::uint8_t { open, fstat, read, close };
  Runtime* rt = nullptr;
  std::string path;
  Step step = Step::open;
  uv_file fd = -1;
  std::vector<char> buffer;
  std::size_t size = 0;  // from fstat; 0 = unknown, read until EOF
  std::size_t pos = 0;
  Task callback;
  Site site = 0;
  CallbackId parent = kNoCallback;
  Nanos scheduled{0};
  // The current step, written on the pool thread and read after completion.
  std::int64_t result = 0;
  bool regular = false;
  std::size_t st_size = 0;
  Nanos queued{0};
  Nanos started{0};
  Nanos finished{0};
  std::uint32_t thread = 0;
  PoolJob job;
};

void Runtime::read_file(std::string path, Task cb, Site site) {
  if (dead_) return;
  auto r = std::make_unique<ReadFileReq>();
  r->rt = this;
  r->path = std::move(path);
  r->callback = std::move(cb);
  r->site = site;
  r->parent = current_;
  r->scheduled = hrtime();
  ++in_flight_;
  submit_fs_step(std::move(r));
}

void Runtime::submit_fs_step(std::unique_ptr<ReadFileReq> r) {
  static constexpr const char* kStepNames[] = {"fs open", "fs fstat", "fs read", "fs close"};
  r->queued = hrtime();
  r->job.what = kStepNames[static_cast<int>(r->step)];
  r->job.site = r->site;
  r->job.queued = r->queued - run_start_;
  r->job.running.store(false, std::memory_order_relaxed);
  pool_jobs_.insert(&r->job);
  pool_job_queued(r->job);
  ReadFileReq* raw = r.get();
  auto step = FsStepRequest::make(nullptr, on_fs_done, std::move(r));
  const int rc = FsStepRequest::submit(step, [this](uv_work_t* req) {
    return uv_queue_work(loop_.get(), req, on_fs_work, FsStepRequest::on_done);
  });
  if (rc != 0) {
    pool_jobs_.erase(&raw->job);
    pool_job_done();
    --in_flight_;
    fail_uv(rc, "uv_queue_work");
  }
}

void Runtime::on_fs_work(uv_work_t* work) {
  ReadFileReq* r = FsStepRequest::of(work).state().get();
  r->job.running.store(true, std::memory_order_relaxed);
  if (t_pool_thread == 0) t_pool_thread = ++g_pool_threads;
  r->thread = t_pool_thread;
  r->started = hrtime();
  uv_fs_t req;
  switch (r->step) {
    case ReadFileReq::Step::open:
      // flags 'r' -> O_RDONLY (libuv adds O_CLOEXEC), mode 0o666
      r->result = uv_fs_open(nullptr, &req, r->path.c_str(), O_RDONLY, 0666, nullptr);
      break;
    case ReadFileReq::Step::fstat:
      r->result = uv_fs_fstat(nullptr, &req, r->fd, nullptr);
      if (r->result == 0) {
        r->regular = S_ISREG(req.statbuf.st_mode);
        r->st_size = static_cast<std::size_t>(req.statbuf.st_size);
      }
      break;
    case ReadFileReq::Step::read: {
      const std::size_t length = r->size == 0 ? kReadFileUnknownBufferLength
                                              : std::min(kReadFileBufferLength, r->size - r->pos);
      if (r->buffer.size() < r->pos + length) r->buffer.resize(r->pos + length);
      uv_buf_t buf = uv_buf_init(r->buffer.data() + r->pos, static_cast<unsigned>(length));
      r->result = uv_fs_read(nullptr, &req, r->fd, &buf, 1, -1, nullptr);
      break;
    }
    case ReadFileReq::Step::close:
      r->result = uv_fs_close(nullptr, &req, r->fd, nullptr);
      break;
  }
  uv_fs_req_cleanup(&req);
  r->finished = hrtime();
  r->rt->pool_job_done();
}

// The step's request frees itself (and the chain, unless it moved on) once this returns.
void Runtime::on_fs_done(std::unique_ptr<ReadFileReq>& owned, int status) {
  ReadFileReq* r = owned.get();
  Runtime* rt = r->rt;
  using Step = ReadFileReq::Step;
  if (status == 0 && r->step == Step::open && r->result >= 0) {
    r->fd = static_cast<uv_file>(r->result);
  }
  r->job.completed = true;
  rt->enter_phase(Phase::poll);
  rt->pool_jobs_.erase(&r->job);
  r->job.completed = false;

  // The process died or is stopping: release the descriptor synchronously and forget it.
  auto abandon = [rt, r] {
    if (r->fd >= 0 && r->step != Step::close) {
      uv_fs_t close_req;
      uv_fs_close(nullptr, &close_req, r->fd, nullptr);
      uv_fs_req_cleanup(&close_req);
    }
    --rt->in_flight_;
  };
  if (status == UV_ECANCELED) rt->pool_job_done();  // its work never ran
  if (status == UV_ECANCELED || !rt->keep_going()) return abandon();

  rt->record_pool_job(r->job, r->parent, r->site, r->thread, r->queued, r->started, r->finished);
  // Each step's JS continuation is a MakeCallback of its own (recorded for traces only).
  rt->make_callback(
      CallbackKind::fs_step, Phase::poll, r->site, r->parent, r->scheduled, [] {}, true);
  if (!rt->keep_going()) return abandon();

  const std::int64_t result = r->result;
  switch (r->step) {
    case Step::open:
      if (result < 0) return rt->finish_read_file(std::move(owned));
      r->step = Step::fstat;
      break;
    case Step::fstat:
      if (result < 0) {
        r->step = Step::close;
        break;
      }
      r->size = r->regular ? r->st_size : 0;
      r->step = Step::read;
      break;
    case Step::read:
      if (result < 0) {
        r->step = Step::close;
        break;
      }
      r->pos += static_cast<std::size_t>(result);
      if (r->pos == r->size || result == 0) r->step = Step::close;
      break;
    case Step::close:
      return rt->finish_read_file(std::move(owned));
  }
  rt->submit_fs_step(std::move(owned));
}

void Runtime::finish_read_file(std::unique_ptr<ReadFileReq> r) {
  --in_flight_;
  read_file_latency_.record(static_cast<std::uint64_t>((hrtime() - r->scheduled).count()));
  make_callback(CallbackKind::read_file, Phase::poll, r->site, r->parent, r->scheduled,
                r->callback);
}

// ---------------------------------------------------------------------------------------
// Close callbacks: a TCP handle that is closed at once, as net.Socket#destroy() closes
// its handle (lib/net.js: this._handle.close(() => this.emit('close'))). uv_close queues it
// on the loop's closing handles; the callback runs in the close phase of this iteration.

struct Runtime::CloseReq {
  Runtime* rt = nullptr;
  Task callback;
  Site site = 0;
  CallbackId parent = kNoCallback;
  Nanos scheduled{0};
};

void Runtime::close_handle(Task cb, Site site) {
  if (dead_) return;
  auto c = std::make_unique<CloseReq>();
  c->rt = this;
  c->callback = std::move(cb);
  c->site = site;
  c->parent = current_;
  c->scheduled = hrtime();
  auto handle = uv::Handle<uv_tcp_t>::make(loop_.get());
  handle->data = c.release();  // freed by on_handle_closed
  ++in_flight_;
  handle.close(on_handle_closed);
}

void Runtime::on_handle_closed(uv_tcp_t* h) {
  std::unique_ptr<CloseReq> c(static_cast<CloseReq*>(h->data));
  Runtime* rt = c->rt;
  --rt->in_flight_;
  rt->enter_phase(Phase::close);
  if (!rt->keep_going()) return;
  rt->make_callback(CallbackKind::close, Phase::close, c->site, c->parent, c->scheduled,
                    c->callback);
}

}  // namespace nodelab::runtime
