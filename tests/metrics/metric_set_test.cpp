// metrics::MetricSet: the dotted-path store behind --json, expect.metrics and {placeholders}.

#include "metrics/metric_set.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include <nlohmann/json.hpp>

using nodelab::metrics::MetricSet;

TEST_CASE("metric_set.set_then_get") {
  MetricSet m;
  CHECK_FALSE(m.has("eventLoopDelay.p99_ms"));
  CHECK_FALSE(m.get("eventLoopDelay.p99_ms").has_value());
  m.set("eventLoopDelay.p99_ms", 12.5);
  CHECK(m.has("eventLoopDelay.p99_ms"));
  REQUIRE(m.get("eventLoopDelay.p99_ms").has_value());
  CHECK(*m.get("eventLoopDelay.p99_ms") == 12.5);
  // A prefix of a path is not a metric.
  CHECK_FALSE(m.has("eventLoopDelay"));
}

TEST_CASE("metric_set.overwrite_keeps_one_entry_in_its_place") {
  MetricSet m;
  m.set("a.x", 1);
  m.set("b.y", 2);
  m.set("a.x", 3);
  REQUIRE(m.entries().size() == 2);
  // The first set decides the position (the JSON and the report keep the table's order).
  CHECK(m.entries()[0].path == "a.x");
  CHECK(m.entries()[0].value == 3.0);
  CHECK(m.entries()[1].path == "b.y");
  CHECK(*m.get("a.x") == 3.0);
  // Overwriting with "not measured" is allowed, and back again.
  m.set("a.x", std::nullopt);
  CHECK(m.has("a.x"));
  CHECK_FALSE(m.get("a.x").has_value());
  m.set("a.x", 0.0);
  CHECK(m.get("a.x") == 0.0);
}

TEST_CASE("metric_set.null_values_are_present_but_unmeasured") {
  MetricSet m;
  m.set("timerDrift.max_ms", std::nullopt);
  // has(): the metric exists in this run's table; get(): it has no value (no samples).
  CHECK(m.has("timerDrift.max_ms"));
  CHECK_FALSE(m.get("timerDrift.max_ms").has_value());
  const nlohmann::json j = m.to_json();
  REQUIRE(j.contains("timerDrift"));
  REQUIRE(j["timerDrift"].contains("max_ms"));
  CHECK(j["timerDrift"]["max_ms"].is_null());
}

TEST_CASE("metric_set.to_json_nests_by_dots") {
  MetricSet m;
  m.set("eventLoopDelay.p99_ms", 12.5);
  m.set("eventLoopDelay.count", 3);
  m.set("threadpool.queueWait.p50_ms", 0.25);
  m.set("threadpool.queueWait.max_ms", std::nullopt);
  m.set("threadpool.size", 4);
  m.set("flat", 7);
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "eventLoopDelay": {"p99_ms": 12.5, "count": 3},
    "threadpool": {"queueWait": {"p50_ms": 0.25, "max_ms": null}, "size": 4},
    "flat": 7
  })");
  CHECK(m.to_json() == expected);
  CHECK(m.to_json()["threadpool"]["queueWait"]["p50_ms"].get<double>() == 0.25);
}

TEST_CASE("metric_set.empty_set_is_an_empty_object") {
  const MetricSet m;
  CHECK(m.entries().empty());
  CHECK(m.to_json().is_object());
  CHECK(m.to_json().empty());
}

// Regression: "a" and "a.b" made to_json() throw nlohmann's type_error 305 (a number cannot
// also hold a key), which would escape from --json. A clash is a lab's programming error, so
// set() rejects it, in either order, and to_json() never sees one.
TEST_CASE("metric_set.a_path_cannot_prefix_another") {
  MetricSet m;
  m.set("a", 1);
  CHECK_THROWS_AS(m.set("a.b", 2), std::logic_error);
  MetricSet n;
  n.set("a.b", 2);
  CHECK_THROWS_AS(n.set("a", 1), std::logic_error);
  // "ab" merely shares characters with "a": no clash.
  CHECK_NOTHROW(m.set("ab", 3));
  CHECK_NOTHROW(m.to_json());
}
