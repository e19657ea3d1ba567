// The `downstream:` block: the services the scenario's calls reach, each a real HTTP/1.1
// server on 127.0.0.1 (common/peers/downstream.hpp): in a thread of the lab's process, or with
// `process: true` as the `nodelab-downstream` process. Unlike the other labs' blocks, it runs
// FIRST: its op is put at the head of `main`, so every service is listening before the main
// script's first op (the twin spawns the same processes at the same point, synchronously).
// The services stop when the run ends (IoWorld's destructor; the twin's exit closes their
// stdin, which stops them).

#include <fmt/format.h>

#include "async/io_world.hpp"
#include "async/ops.hpp"
#include "script/parser.hpp"
#include "script/scenario.hpp"

namespace nodelab::async {

namespace {

constexpr std::size_t kMaxServices = 8;

class DownstreamOp final : public script::Op {
 public:
  explicit DownstreamOp(std::shared_ptr<ServiceSpecs> specs) : specs_(std::move(specs)) {}
  std::string_view name() const override { return "downstream"; }
  script::Flow run(const script::Exec& ex) const override {
    ex.interp.extension<IoWorld>();  // starts every service, before the main script's ops
    return {};
  }
  std::string describe() const override {
    std::vector<std::string> names;
    for (const auto& s : specs_->services)
      names.push_back(s.name);
    return fmt::format("downstream {}", fmt::join(names, ", "));
  }
  void emit_twin(script::TwinWriter& w) const override {
    use_io_twin(w);
    const std::string exe = peers::downstream_executable();
    for (const auto& s : specs_->services) {
      std::vector<std::string> args;
      for (const auto& a : downstream_args(s.options))
        args.push_back(script::js_string(a));
      w.line(fmt::format("__downstream({}, {}, [{}]);", script::js_string(s.name),
                         script::js_string(exe), fmt::join(args, ", ")));
    }
  }

 private:
  std::shared_ptr<ServiceSpecs> specs_;
};

ServiceSpec parse_service(script::Parser& p, const std::string& name, const YAML::Node& v) {
  const std::string where = "downstream." + name;
  script::Fields f =
      p.fields(v, where,
               {"latency", "capacity", "queue_limit", "error_rate", "fail_for_ms", "slow_start_ms",
                "notice_disconnect", "seed", "max_connections", "process"});
  ServiceSpec s;
  s.name = name;
  peers::DownstreamOptions& o = s.options;
  if (f.has("latency")) {
    const std::string text = f.string("latency");
    std::string error;
    const auto l = peers::Latency::parse(text, error);
    if (!l) {
      p.fail(f.get("latency"), fmt::format("`latency` of `{}`: {}", where, error));
    }
    o.latency = *l;
  }
  o.capacity = static_cast<std::uint32_t>(f.integer("capacity", 0, 100'000, 0));
  o.queue_limit = static_cast<std::uint32_t>(f.integer("queue_limit", 0, 1'000'000, 0));
  o.error_rate = f.number_in("error_rate", 0, 1, 0);
  o.fail_for_ms = static_cast<std::uint32_t>(f.integer("fail_for_ms", 0, 600'000, 0));
  o.slow_start_ms = static_cast<std::uint32_t>(f.integer("slow_start_ms", 0, 600'000, 0));
  if (o.slow_start_ms > 0 && o.capacity == 0) {
    p.fail(f.get("slow_start_ms"), "`slow_start_ms` ramps the capacity up: it needs `capacity`");
  }
  o.notice_disconnect = f.boolean("notice_disconnect", true);
  o.seed = static_cast<std::uint64_t>(f.integer("seed", 0, std::int64_t{1} << 53, 1));
  o.max_connections = static_cast<std::uint32_t>(f.integer("max_connections", 1, 1 << 20, 4096));
  s.process = f.boolean("process", false);
  return s;
}

}  // namespace

void add_downstream_block(script::OpRegistry& r) {
  r.add_block("downstream", [](script::Parser& p, const YAML::Node& v, script::Scenario& s) {
    if (!v.IsMap() || v.size() == 0) {
      p.fail(v,
             "`downstream` is a mapping from a service name to its settings "
             "(`api: { latency: fixed:20, capacity: 8 }`)");
    }
    if (v.size() > kMaxServices) {
      p.fail(v, fmt::format("at most {} services in `downstream`", kMaxServices));
    }
    auto specs = std::make_shared<ServiceSpecs>();
    for (const auto& kv : v) {
      const std::string name = p.identifier(kv.first, "a downstream service name");
      for (const auto& other : specs->services) {
        if (other.name == name) p.fail(kv.first, fmt::format("service '{}' declared twice", name));
      }
      // `api: {}` or `api:` alone: every setting at its default.
      const YAML::Node settings = kv.second.IsNull() ? YAML::Node(YAML::NodeType::Map) : kv.second;
      specs->services.push_back(parse_service(p, name, settings));
    }
    s.blocks["downstream"] = specs;
    // At the head of main, not at its end as other blocks: the services listen before the
    // first call.
    auto op = std::make_unique<DownstreamOp>(specs);
    const script::SourceLoc where = p.loc(v);
    op->line = where.line;
    op->col = where.col;
    op->site = p.register_site(op.get());
    s.main.insert(s.main.begin(), std::move(op));
  });
}

}  // namespace nodelab::async
