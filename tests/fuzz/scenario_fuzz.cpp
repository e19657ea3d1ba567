// libFuzzer target over the scenario loader and validator: any bytes, loaded as a scenario of
// each lab (event-loop, emitter), must either load or fail with a located ScenarioError:
// never crash, hang, or exhaust memory (the limits of common/script/limits.hpp). A loaded
// scenario's Node twin is emitted too, for every declared variant.
//
//   build/fuzz/bin/fuzz-scenario CORPUS_DIR SEED_DIRS...   (see tests/fuzz/CMakeLists.txt)

#include <cstddef>
#include <cstdint>
#include <string>

#include "emitter/world.hpp"
#include "script/scenario.hpp"
#include "script/shared_ops.hpp"
#include "script/twin.hpp"

namespace {

const nodelab::script::OpRegistry& registry(int which) {
  static const auto event_loop = nodelab::script::shared_registry("event-loop");
  static const auto emitter = nodelab::emitter::registry();
  return which == 0 ? event_loop : emitter;
}

void load(const std::string& text, int which, const std::string& variant) {
  using namespace nodelab::script;
  try {
    const Scenario s = parse_scenario(text, "fuzz.yaml", registry(which), {}, variant);
    (void)emit_twin(s);
    if (variant.empty()) {
      for (const auto& v : s.variants) load(text, which, v.name);
    }
  } catch (const ScenarioError&) {
    // A located rejection is the expected outcome for most inputs.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Both labs: `lab:` decides which one accepts it; the other must reject it cleanly.
  load(text, 0, {});
  load(text, 1, {});
  return 0;
}
