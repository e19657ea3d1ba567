#pragma once
// Where a callback ran: the main script, one of Node's two JS queues, or one of libuv's
// uv_run phases (src/unix/core.c: timers, pending, idle, prepare, poll, check, close).
// One table drives the enum, the printed names and the parser (libuv UV_HANDLE_TYPE_MAP).

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nodelab::runtime {

#define NODELAB_PHASE_MAP(X) \
  X(main, "main")            \
  X(next_tick, "nextTick")   \
  X(microtask, "microtask")  \
  X(timers, "timers")        \
  X(pending, "pending")      \
  X(idle, "idle")            \
  X(prepare, "prepare")      \
  X(poll, "poll")            \
  X(check, "check")          \
  X(close, "close")

enum class Phase : std::uint8_t {
#define X(id, name) id,
  NODELAB_PHASE_MAP(X)
#undef X
};

inline constexpr std::array<std::string_view, 10> kPhaseNames = {
#define X(id, name) name,
    NODELAB_PHASE_MAP(X)
#undef X
};

constexpr std::string_view phase_name(Phase p) {
  return kPhaseNames[static_cast<std::size_t>(p)];
}

inline std::optional<Phase> parse_phase(std::string_view s) {
  for (std::size_t i = 0; i < kPhaseNames.size(); ++i) {
    if (kPhaseNames[i] == s) return static_cast<Phase>(i);
  }
  return std::nullopt;
}

// True for the libuv phases, false for main and the two JS queues that drain between
// macrotasks.
constexpr bool is_loop_phase(Phase p) {
  return p >= Phase::timers;
}

// What kind of JS function a callback is: decides its label and, when it throws, whether
// Node treats the throw as an uncaught exception or as a promise rejection.
#define NODELAB_CALLBACK_KIND_MAP(X)    \
  X(main, "main script")                \
  X(timeout, "setTimeout")              \
  X(interval, "setInterval")            \
  X(immediate, "setImmediate")          \
  X(next_tick, "process.nextTick")      \
  X(promise, "promise reaction")        \
  X(queue_microtask, "queueMicrotask")  \
  X(await_resume, "await continuation") \
  X(read_file, "fs.readFile")           \
  X(fs_step, "fs request")              \
  X(threadpool, "threadpool task")      \
  X(close, "close callback")            \
  X(warning, "process 'warning'")       \
  X(io, "I/O callback")                 \
  X(message, "MessagePort 'message'")

enum class CallbackKind : std::uint8_t {
#define X(id, name) id,
  NODELAB_CALLBACK_KIND_MAP(X)
#undef X
};

inline constexpr std::array<std::string_view, 15> kCallbackKindNames = {
#define X(id, name) name,
    NODELAB_CALLBACK_KIND_MAP(X)
#undef X
};

constexpr std::string_view kind_name(CallbackKind k) {
  return kCallbackKindNames[static_cast<std::size_t>(k)];
}

}  // namespace nodelab::runtime
