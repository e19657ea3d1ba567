#pragma once
// A YAML node held by value in headers that yaml-cpp's should not follow: scenario.hpp is
// included by every op of every lab, and yaml-cpp's headers are most of what such a
// translation unit would otherwise compile. Only files that parse include <yaml-cpp/yaml.h>.

#include <memory>
#include <string>

namespace YAML {
class Node;
}

namespace nodelab::script {

class YamlNode {
 public:
  YamlNode();                     // an undefined node
  YamlNode(const YAML::Node& n);  // NOLINT(google-explicit-constructor): a node is a node
  YamlNode(const YamlNode& other);
  YamlNode& operator=(const YamlNode& other);
  YamlNode(YamlNode&&) noexcept;
  YamlNode& operator=(YamlNode&&) noexcept;
  ~YamlNode();

  const YAML::Node& get() const { return *node_; }
  operator const YAML::Node&() const { return *node_; }  // NOLINT(google-explicit-constructor)

 private:
  std::unique_ptr<YAML::Node> node_;
};

// A scenario's `params:` entry (or a variant's override of one).
struct Param {
  std::string name;
  YamlNode value;  // a scalar
};

}  // namespace nodelab::script
