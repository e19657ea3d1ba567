#pragma once
// The async lab's op registry: the shared runtime's ops, plus the lab's promises,
// callbacks, cancellation and network ops (each family in its own file, added here).

#include <cstdint>
#include <set>
#include <string>
#include "metrics/metric_set.hpp"
#include "script/interpreter.hpp"

#include "script/parser.hpp"
#include "script/registry.hpp"

namespace nodelab::async {

script::OpRegistry registry();

// Named promises, then/catch/finally, the combinators and the `ticks` chain (promise_ops.cpp).
void add_promise_ops(script::OpRegistry& r);
// process_ops.cpp: process.on('unhandledRejection' | 'rejectionHandled'); rejections.*
void add_process_ops(script::OpRegistry& r);
void collect_process_metrics(script::Interpreter& interp, metrics::MetricSet& out);
// callbacks.cpp: an API with an error-first callback and its caller; errback.*
void add_callback_ops(script::OpRegistry& r);
void collect_callback_metrics(script::Interpreter& interp, metrics::MetricSet& out);
// AbortController, AbortSignal.timeout/.any, 'abort' listeners, timers/promises setTimeout,
// events.once on a minimal EventEmitter (abort_ops.cpp); signals.*, emitter.*, once.*
void add_abort_ops(script::OpRegistry& r);
void collect_abort_metrics(script::Interpreter& interp, metrics::MetricSet& out);
// The I/O ops (io_world.hpp): the `downstream:` block (downstream.cpp) and `calls`
// (calls.cpp), with the io metrics.
void add_downstream_block(script::OpRegistry& r);
void add_calls(script::OpRegistry& r);
void add_asio_calls(script::OpRegistry& r);  // asio_calls.cpp
void add_io(script::OpRegistry& r);
// A service name an op uses: checked against the block once the file is parsed.
void note_service_use(script::Parser& p, const std::string& name, const YAML::Node& at);
// The `fail:` of `calls` and `asioCalls`: which calls (1..count) the service answers with
// `status` after `ms`, through the query string (`path_for`).
struct FailSpec {
  std::set<std::int64_t> calls;
  std::int64_t status = 500;
  std::int64_t ms = 10;
  std::string path_for(std::int64_t call) const;  // "/?id=N", plus the failure when scripted
};
FailSpec parse_fail(script::Parser& p, const YAML::Node& v, std::int64_t count);

}  // namespace nodelab::async
