#pragma once
// Where a callback ran: the main script, one of Node's two JS queues, or one of libuv's
// uv_run phases (src/unix/core.c: timers, pending, idle, prepare, poll, check, close).
// One table drives the enum, the printed names, the parser, and how every report shows a
// phase (libuv UV_HANDLE_TYPE_MAP): its timeline lane (--trace, --html), the lane's colour on
// a white page, and the terminal's SGR colour (report/style.cpp). Lanes are in this order;
// an `if_used` lane is drawn only when a callback ran there. The page's colours are the
// terminal's palette (bold, cyan, magenta, yellow, bright red, grey, blue, green, red)
// darkened for white.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nodelab::runtime {

//   X(id, name, lane, colour, sgr)
#define NODELAB_PHASE_MAP(X)                         \
  X(main, "main", always, "#6b5b95", "1")            \
  X(next_tick, "nextTick", always, "#1b9aaa", "36")  \
  X(microtask, "microtask", always, "#b4479c", "35") \
  X(timers, "timers", always, "#d08c00", "33")       \
  X(pending, "pending", always, "#e4572e", "91")     \
  X(idle, "idle", if_used, "#8a8a8a", "90")          \
  X(prepare, "prepare", if_used, "#8a8a8a", "90")    \
  X(poll, "poll", always, "#2f6fdb", "34")           \
  X(check, "check", always, "#2e9e44", "32")         \
  X(close, "close", always, "#c0392b", "31")

enum class Phase : std::uint8_t {
#define X(id, name, lane, colour, sgr) id,
  NODELAB_PHASE_MAP(X)
#undef X
};

inline constexpr std::array<std::string_view, 10> kPhaseNames = {
#define X(id, name, lane, colour, sgr) name,
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

// When a phase's timeline lane is drawn.
enum class LaneShown : std::uint8_t { always, if_used };

struct PhaseLook {
  LaneShown lane;
  std::string_view colour;  // the lane's bars on a white page (CSS colour)
  std::string_view sgr;     // the terminal's Select Graphic Rendition parameters
};

inline constexpr std::array<PhaseLook, kPhaseNames.size()> kPhaseLooks = {{
#define X(id, name, lane, colour, sgr) {LaneShown::lane, colour, sgr},
    NODELAB_PHASE_MAP(X)
#undef X
}};

constexpr const PhaseLook& phase_look(Phase p) {
  return kPhaseLooks[static_cast<std::size_t>(p)];
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
  X(message, "MessagePort 'message'")   \
  X(process_event, "process event")

enum class CallbackKind : std::uint8_t {
#define X(id, name) id,
  NODELAB_CALLBACK_KIND_MAP(X)
#undef X
};

inline constexpr std::array<std::string_view, 16> kCallbackKindNames = {
#define X(id, name) name,
    NODELAB_CALLBACK_KIND_MAP(X)
#undef X
};

constexpr std::string_view kind_name(CallbackKind k) {
  return kCallbackKindNames[static_cast<std::size_t>(k)];
}

}  // namespace nodelab::runtime
