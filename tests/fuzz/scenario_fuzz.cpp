// libFuzzer target over the scenario loader and validator: any bytes, loaded as a scenario of
// each lab of NODELAB_LABS (labs::all()), must either load or fail with a located
// ScenarioError: never crash, hang, or exhaust memory (the limits of common/script/limits.hpp). A
// loaded scenario's Node twin is emitted too, for every declared variant.
//
//   build/fuzz/bin/fuzz-scenario CORPUS_DIR SEED_DIRS...   (see tests/fuzz/CMakeLists.txt)

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "all_labs.hpp"
#include "script/scenario.hpp"
#include "script/twin.hpp"

namespace {

const std::vector<nodelab::script::OpRegistry>& registries() {
  static const std::vector<nodelab::script::OpRegistry> all = [] {
    std::vector<nodelab::script::OpRegistry> v;
    for (const auto& lab : nodelab::labs::all())
      v.push_back(lab.make_registry());
    return v;
  }();
  return all;
}

const nodelab::script::OpRegistry& registry(std::size_t which) {
  return registries()[which];
}

void load(const std::string& text, std::size_t which, const std::string& variant) {
  using namespace nodelab::script;
  try {
    const Scenario s = parse_scenario(text, "fuzz.yaml", registry(which), {}, variant);
    (void)emit_twin(s);
    if (variant.empty()) {
      for (const auto& v : s.variants)
        load(text, which, v.name);
    }
  } catch (const ScenarioError&) {
    // A located rejection is the expected outcome for most inputs.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Every lab: `lab:` decides which one accepts it; the others must reject it cleanly.
  for (std::size_t which = 0; which < registries().size(); ++which)
    load(text, which, {});
  return 0;
}
