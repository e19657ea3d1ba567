#include "cli/step.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "report/run_report.hpp"
#include "runtime/recorder.hpp"
#include "runtime/stop.hpp"

namespace nodelab::cli {

using runtime::Phase;

namespace {

std::string thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
    digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

}  // namespace

StepDigest StepTracker::advance(const runtime::Recorder& rec) {
  StepDigest d;
  // Look-alike callbacks (kind and scenario line) together, in the order they first ran.
  struct Group {
    std::string label;
    std::uint64_t count = 0;
  };
  std::vector<Group> groups;
  std::map<std::pair<runtime::CallbackKind, std::uint32_t>, std::size_t> index;
  const auto& records = rec.callbacks();
  for (; records_seen_ < records.size(); ++records_seen_) {
    const runtime::CallbackRecord& c = records[records_seen_];
    if (c.internal) {
      ++d.internal;
      continue;
    }
    ++d.callbacks;
    const auto key = std::make_pair(c.kind, c.site);
    const auto it = index.find(key);
    if (it != index.end()) {
      ++groups[it->second].count;
    } else {
      index.emplace(key, groups.size());
      groups.push_back({report::describe_callback(c, scenario_), 1});
    }
  }
  // Past the recorder's limit callbacks are counted, not kept (none of them is a record).
  const std::uint64_t unstored = rec.callback_count() - records.size();
  if (unstored > unstored_) {
    d.callbacks += unstored - unstored_;
    groups.push_back({"(not recorded: past the recorder's limit)", unstored - unstored_});
    unstored_ = unstored;
  }
  callbacks_ += d.callbacks;

  constexpr std::size_t kShown = 5;
  std::uint64_t rest = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (i >= kShown) {
      rest += groups[i].count;
      continue;
    }
    if (!d.ran.empty()) d.ran += ", ";
    d.ran += groups[i].count == 1 ? groups[i].label
                                  : thousands(groups[i].count) + " × " + groups[i].label;
  }
  if (rest > 0) {
    d.ran += fmt::format(", and {} more callback{} of {} other kind{}", thousands(rest),
                         rest == 1 ? "" : "s", groups.size() - kShown,
                         groups.size() - kShown == 1 ? "" : "s");
  }
  return d;
}

Stepper::Stepper(runtime::Runtime& rt, const script::Scenario& s, const report::Style& st)
    : rt_(rt), scenario_(s), st_(st), tracker_(s) {
  if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // keys at once, no echo; ^C works
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  rt_.on_phase = [this](Phase p, std::uint32_t iteration) { pause(p, iteration); };
}

Stepper::~Stepper() {
  rt_.on_phase = nullptr;
  if (raw_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
}

bool Stepper::usable(std::string* why) {
  if (::isatty(STDIN_FILENO) == 0) {
    *why =
        "--step reads keys from a terminal, and stdin is not one (use --trace for a timeline "
        "you can step through offline)";
    return false;
  }
  if (::isatty(STDOUT_FILENO) == 0) {
    *why = "--step draws on the terminal, and stdout is not one";
    return false;
  }
  return true;
}

int Stepper::read_key() {
  for (;;) {
    if (runtime::stop_requested() != runtime::StopReason::none) return -1;
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&fd, 1, 200) <= 0) continue;  // wake up now and then to notice ^C
    char c = 0;
    if (::read(STDIN_FILENO, &c, 1) != 1) return -1;
    if (c == '\x1b') {  // arrow keys: ESC [ C (right) / ESC [ D (left)
      char seq[2] = {0, 0};
      if (::read(STDIN_FILENO, seq, 2) == 2 && seq[0] == '[') {
        if (seq[1] == 'C') return 'n';
        if (seq[1] == 'D') return 'b';
      }
      continue;
    }
    return c;
  }
}

void Stepper::pause(Phase p, std::uint32_t iteration) {  // the snapshot records both
  // One stop per phase of an iteration (poll and close call the hook once per callback).
  if (p == last_phase_ && iteration == last_iteration_) return;
  last_phase_ = p;
  last_iteration_ = iteration;
  const StepDigest since = tracker_.advance(rt_.recorder());
  const bool quiet = since.callbacks == 0;
  if (quiet && last_stop_quiet_ && !history_.empty()) {
    // Nothing the user wrote ran since the last stop, nor before it: fold this one.
    ++folded_stops_;
    ++folded_total_;
    if (iteration != folded_last_iteration_) ++folded_iterations_;
    folded_last_iteration_ = iteration;
    folded_internal_ += since.internal;
    return;
  }
  last_stop_quiet_ = quiet;
  Screen screen{rt_.snapshot(),     since,           tracker_.callbacks_so_far(), folded_stops_,
                folded_iterations_, folded_internal_};
  folded_stops_ = 0;
  folded_iterations_ = 0;
  folded_last_iteration_ = 0xffffffffu;
  folded_internal_ = 0;
  history_.push_back(std::move(screen));
  std::size_t at = history_.size() - 1;
  show(at);
  for (;;) {
    const int key = read_key();
    if (key < 0) return;  // ^C or a ceiling: the runtime stops on its own
    if (key == 'q' || key == 'Q') {
      runtime::request_stop(runtime::StopReason::quit);
      return;
    }
    if (key == 'b' || key == 'B') {
      if (at > 0) show(--at);
      continue;
    }
    if (key == '\n' || key == '\r' || key == ' ' || key == 'n') {
      if (at + 1 < history_.size()) {
        show(++at);  // forward through history already seen
        continue;
      }
      return;  // at the newest state: run on to the next boundary
    }
  }
}

std::string Stepper::site_label(std::uint32_t site) const {
  if (site == 0 || site >= scenario_.sites.size() || scenario_.sites[site] == nullptr) {
    return "(runtime)";
  }
  const script::Op* op = scenario_.sites[site];
  return fmt::format("{} (line {})", op->describe(), op->line);
}

void Stepper::show(std::size_t index) const {
  const Screen& screen = history_[index];
  const runtime::StateSnapshot& s = screen.state;
  std::string out = st_.color() ? "\x1b[2J\x1b[H" : "\n";
  const bool newest = index + 1 == history_.size();
  out += st_.bold(fmt::format("lab-{} --step · {} · step {}/{}{}", scenario_.lab, scenario_.name,
                              index + 1, history_.size(), newest ? "" : " (history)")) +
         "\n";

  // Where we are in uv_run's iteration.
  static constexpr Phase kCycle[] = {Phase::timers, Phase::pending, Phase::idle, Phase::prepare,
                                     Phase::poll,   Phase::check,   Phase::close};
  std::string cycle;
  if (s.phase == Phase::main) {
    cycle = st_.phase(Phase::main, "[main script done, queues drained]") + "  -> the loop starts";
  } else {
    for (const Phase p : kCycle) {
      if (!cycle.empty()) cycle += " -> ";
      const std::string name(runtime::phase_name(p));
      cycle += p == s.phase ? st_.phase(p, "[" + name + "]") : st_.dim(name);
    }
  }
  out += fmt::format("iteration {} · {} · +{:.3f} ms · {} callback{} so far\n{}\n", s.iteration,
                     s.phase == Phase::prepare ? "prepare (poll is next)"
                                               : std::string(runtime::phase_name(s.phase)),
                     runtime::to_ms(s.t), thousands(screen.callbacks_so_far),
                     screen.callbacks_so_far == 1 ? "" : "s", cycle);

  // What happened since the previous screen: the folded quiet stops, then what ran.
  const auto width = static_cast<std::size_t>(std::max(60, report::terminal_width(stdout)));
  if (screen.folded_stops > 0) {
    std::string internal;
    if (screen.folded_internal > 0) {
      internal =
          fmt::format(" (the runtime ran {} internal fs step{} meanwhile)",
                      thousands(screen.folded_internal), screen.folded_internal == 1 ? "" : "s");
    }
    out += st_.dim(report::wrap_text(
               fmt::format("folded {} look-alike stop{} over {} loop iteration{}: no JS callback "
                           "ran{}",
                           screen.folded_stops, screen.folded_stops == 1 ? "" : "s",
                           screen.folded_iterations, screen.folded_iterations == 1 ? "" : "s",
                           internal),
               width - 2, 2)) +
           "\n";
  }
  if (screen.since.callbacks > 0) {
    out += st_.bold("ran:") + " " + report::wrap_text(screen.since.ran, width - 5, 5) + "\n";
  } else {
    out += st_.dim("ran: no JS callback since the last screen") + "\n";
  }
  out += "\n";

  auto queue = [&](std::string_view name, std::size_t count,
                   const std::vector<runtime::QueuedView>& items) {
    std::string line = fmt::format("  {:<12} ", name);
    if (count == 0) return line + st_.dim("empty") + "\n";
    line += fmt::format("{} queued: ", count);
    for (std::size_t i = 0; i < items.size(); ++i) {
      line += (i ? ", " : "") + site_label(items[i].site);
    }
    if (count > items.size()) line += fmt::format(", ... {} more", count - items.size());
    return line + "\n";
  };

  std::string timers = fmt::format("  {:<12} ", "timers");
  if (s.timer_lists.empty()) {
    timers += st_.dim("no lists") + "\n";
  } else {
    for (std::size_t i = 0; i < s.timer_lists.size(); ++i) {
      const auto& l = s.timer_lists[i];
      timers += fmt::format("{}{} ms list (id {}): {} timer{}, due +{:.1f} ms: ",
                            i ? "  " + std::string(13, ' ') : "", l.msecs, l.id, l.count,
                            l.count == 1 ? "" : "s", l.due_ms);
      for (std::size_t k = 0; k < l.sites.size(); ++k) {
        timers += (k ? ", " : "") + site_label(l.sites[k]);
      }
      timers += "\n";
    }
  }
  out += timers;
  out += queue("immediates", s.immediate_count, s.immediates);
  out += queue("nextTick", s.next_tick_count, s.next_ticks);
  out += queue("microtasks", s.microtask_count, s.microtasks);

  std::size_t running = 0;
  std::size_t done = 0;
  for (const auto& j : s.pool) {
    running += j.running && !j.completed ? 1 : 0;
    done += j.completed ? 1 : 0;
  }
  out += fmt::format("  {:<12} {} threads · {} running · {} queued{}\n", "threadpool", s.pool_size,
                     running, s.pool.size() - running - done,
                     done ? fmt::format(" · {} done, callback next", done) : "");
  for (const auto& j : s.pool) {
    const char* state = j.completed ? "done   " : j.running ? "running" : "queued ";
    out += fmt::format("  {:<12}   {} {} {} (queued at +{:.1f} ms)\n", "", state, j.what,
                       site_label(j.site), j.queued_ms);
  }
  out += fmt::format("  {:<12} ", "handles");
  for (std::size_t i = 0; i < s.handles.size(); ++i) {
    const auto& h = s.handles[i];
    std::string state = h.closing ? "closing" : h.active ? "active" : "inactive";
    state += h.ref ? ", ref'd" : ", unref'd";
    out += fmt::format("{}{} ({})\n", i ? std::string(15, ' ') : "", h.name,
                       h.active && h.ref ? st_.bold(state) : st_.dim(state));
  }
  if (!s.recent_logs.empty()) {
    out += fmt::format("  {:<12} ", "last logged");
    for (std::size_t i = 0; i < s.recent_logs.size(); ++i) {
      out += (i ? std::string(15, ' ') : "") + "> " + s.recent_logs[i] + "\n";
    }
  }
  out += "\n" + st_.dim("Enter/space/n: next   b: back   q: quit with the metrics so far") + "\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace nodelab::cli
