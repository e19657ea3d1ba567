#include "events/event_emitter.hpp"

#include <algorithm>

#include "runtime/js_number.hpp"

namespace nodelab::events {

std::string max_listeners_warning(std::size_t count, std::string_view event,
                                  std::string_view class_name, double max) {
  std::string m = "Possible EventEmitter memory leak detected. ";
  m += std::to_string(count);
  m += ' ';
  m += event;
  m += " listeners added to [";
  m += class_name;
  m += "]. MaxListeners is ";
  m += runtime::js_number_to_string(max);
  m += ". Use emitter.setMaxListeners() to increase limit";
  return m;
}

runtime::JsError err_unhandled_error(std::string_view inspected) {
  return runtime::JsError{"Error", "ERR_UNHANDLED_ERROR",
                          "Unhandled error. (" + std::string(inspected) + ")"};
}

namespace {
// An array index as Reflect.ownKeys sees one: a canonical decimal integer below 2^32 - 1.
bool is_array_index(const std::string& key) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return false;
  for (const char c : key) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoull(key) < 4294967295ULL;
}
}  // namespace

std::vector<std::string> own_keys_order(std::vector<std::string> keys) {
  std::vector<std::string> indices;
  std::vector<std::string> names;
  for (auto& k : keys)
    (is_array_index(k) ? indices : names).push_back(std::move(k));
  std::sort(indices.begin(), indices.end(), [](const std::string& a, const std::string& b) {
    return std::stoull(a) < std::stoull(b);
  });
  indices.insert(indices.end(), std::make_move_iterator(names.begin()),
                 std::make_move_iterator(names.end()));
  return indices;
}

}  // namespace nodelab::events
