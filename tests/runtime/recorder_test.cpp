// runtime::Recorder: iteration numbering from the phase sequence, and the memory limits.

#include "runtime/recorder.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace nodelab::runtime;

namespace {

CallbackId begin_in(Recorder& rec, Phase p, CallbackKind k = CallbackKind::timeout) {
  CallbackRecord r;
  r.phase = p;
  r.kind = k;
  return rec.begin(r);
}

}  // namespace

TEST_CASE("recorder.main_script_is_iteration_zero") {
  Recorder rec;
  CHECK(rec.iteration() == 0);
  const CallbackId main = begin_in(rec, Phase::main, CallbackKind::main);
  CHECK(main == kMainCallback);
  // The JS queues drain inside whatever ran before them: they never move the iteration.
  rec.enter_phase(Phase::next_tick);
  rec.enter_phase(Phase::microtask);
  CHECK(rec.iteration() == 0);
  REQUIRE(rec.find(main) != nullptr);
  CHECK(rec.find(main)->iteration == 0);
}

TEST_CASE("recorder.iteration_advances_when_the_phase_moves_back") {
  Recorder rec;
  // uv_run order: timers, pending, idle, prepare, poll, check, close.
  rec.enter_phase(Phase::timers);
  CHECK(rec.iteration() == 1);  // the first loop phase starts iteration 1
  rec.enter_phase(Phase::prepare);
  rec.enter_phase(Phase::poll);
  rec.enter_phase(Phase::poll);  // several poll callbacks: same phase, same iteration
  rec.enter_phase(Phase::check);
  rec.enter_phase(Phase::close);
  CHECK(rec.iteration() == 1);
  // close -> timers: the loop went round.
  rec.enter_phase(Phase::timers);
  CHECK(rec.iteration() == 2);
  rec.enter_phase(Phase::prepare);
  rec.enter_phase(Phase::check);
  // check -> prepare (no timer ran in between): the next iteration all the same.
  rec.enter_phase(Phase::prepare);
  CHECK(rec.iteration() == 3);
  // A callback begun now is stamped with the current iteration.
  const CallbackId id = begin_in(rec, Phase::prepare);
  CHECK(rec.find(id)->iteration == 3);
}

TEST_CASE("recorder.next_tick_and_microtask_do_not_advance") {
  Recorder rec;
  rec.enter_phase(Phase::check);
  CHECK(rec.iteration() == 1);
  // nextTick and microtask sort before every loop phase in the enum; had they counted as
  // phases, check -> nextTick would look like the loop going round.
  rec.enter_phase(Phase::next_tick);
  rec.enter_phase(Phase::microtask);
  rec.enter_phase(Phase::next_tick);
  CHECK(rec.iteration() == 1);
  // ... and they do not reset the "last phase" either: close after check is the same
  // iteration.
  rec.enter_phase(Phase::close);
  CHECK(rec.iteration() == 1);
  rec.enter_phase(Phase::main);
  CHECK(rec.iteration() == 1);
}

TEST_CASE("recorder.pending_right_after_poll_stays_in_the_same_iteration") {
  Recorder rec;
  rec.enter_phase(Phase::prepare);
  rec.enter_phase(Phase::poll);
  CHECK(rec.iteration() == 1);
  // uv_run's "up to 8 more rounds" of pending callbacks right after poll.
  rec.enter_phase(Phase::pending);
  CHECK(rec.iteration() == 1);
  rec.enter_phase(Phase::pending);
  CHECK(rec.iteration() == 1);
  // ... then check of the same iteration, not of a new one.
  rec.enter_phase(Phase::check);
  CHECK(rec.iteration() == 1);
  rec.enter_phase(Phase::close);
  // Pending at the top of the next iteration (after close) does start a new one.
  rec.enter_phase(Phase::pending);
  CHECK(rec.iteration() == 2);
  rec.enter_phase(Phase::prepare);
  CHECK(rec.iteration() == 2);
}

TEST_CASE("recorder.ids_are_dense_and_records_keep_their_fields") {
  Recorder rec;
  CHECK(rec.next_id() == 0);
  CallbackRecord r;
  r.parent = 7;
  r.site = 3;
  r.phase = Phase::poll;
  r.kind = CallbackKind::read_file;
  r.start = Nanos(100);
  const CallbackId a = rec.begin(r);
  const CallbackId b = rec.begin(r);
  CHECK(a == 0);
  CHECK(b == 1);
  CHECK(rec.next_id() == 2);
  rec.end(a, Nanos(250));
  REQUIRE(rec.find(a) != nullptr);
  CHECK(rec.find(a)->id == a);
  CHECK(rec.find(a)->parent == 7);
  CHECK(rec.find(a)->site == 3);
  CHECK(rec.find(a)->kind == CallbackKind::read_file);
  CHECK(rec.find(a)->end == Nanos(250));
  CHECK(rec.find(b)->end == Nanos(0));
  CHECK(rec.find(99) == nullptr);
}

TEST_CASE("recorder.past_max_callbacks_it_counts_but_stops_storing") {
  Recorder rec(RecorderLimits{3, 100});
  for (int i = 0; i < 3; ++i)
    begin_in(rec, Phase::check);
  CHECK_FALSE(rec.callbacks_truncated());
  const CallbackId fourth = begin_in(rec, Phase::check);
  const CallbackId fifth = begin_in(rec, Phase::check);
  // Ids keep counting, so parents and logs can still refer to them ...
  CHECK(fourth == 3);
  CHECK(fifth == 4);
  CHECK(rec.callback_count() == 5);
  // ... but only the first three records are kept.
  CHECK(rec.callbacks().size() == 3);
  CHECK(rec.callbacks_truncated());
  CHECK(rec.find(fourth) == nullptr);
  rec.end(fifth, Nanos(1));  // ending an unstored record is harmless
  CHECK(rec.callbacks().size() == 3);
}

TEST_CASE("recorder.past_max_logs_it_counts_but_stops_storing") {
  Recorder rec(RecorderLimits{100, 2});
  rec.add_log("a", kMainCallback, Nanos(1));
  rec.add_log("b", kMainCallback, Nanos(2));
  CHECK_FALSE(rec.logs_truncated());
  rec.add_log("c", kMainCallback, Nanos(3));
  CHECK(rec.log_count() == 3);
  REQUIRE(rec.logs().size() == 2);
  CHECK(rec.logs()[0].text == "a");
  CHECK(rec.logs()[1].text == "b");
  CHECK(rec.logs_truncated());
  CHECK_FALSE(rec.callbacks_truncated());
}

TEST_CASE("recorder.work_spans_are_bounded_by_max_callbacks") {
  Recorder rec(RecorderLimits{2, 2});
  for (std::uint32_t i = 1; i <= 4; ++i)
    rec.add_work_span(WorkSpan{kMainCallback, 0, i});
  REQUIRE(rec.work_spans().size() == 2);
  CHECK(rec.work_spans()[0].thread == 1);
  CHECK(rec.work_spans()[1].thread == 2);
}
