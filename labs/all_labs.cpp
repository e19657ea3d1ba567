#include "all_labs.hpp"

#include "nodelab/lab_list.hpp"

namespace nodelab::labs {

const std::vector<cli::LabSpec>& all() {
  static const std::vector<cli::LabSpec> labs = [] {
    std::vector<cli::LabSpec> v;
#define NODELAB_ADD_LAB_SPEC(ident, id) v.push_back(spec_##ident());
    NODELAB_LAB_LIST(NODELAB_ADD_LAB_SPEC)
#undef NODELAB_ADD_LAB_SPEC
    return v;
  }();
  return labs;
}

const cli::LabSpec* find(std::string_view id) {
  for (const auto& lab : all()) {
    if (lab.id == id) return &lab;
  }
  return nullptr;
}

}  // namespace nodelab::labs
