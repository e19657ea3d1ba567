#include "script/yaml_node.hpp"

#include <yaml-cpp/yaml.h>

namespace nodelab::script {

YamlNode::YamlNode() : node_(std::make_unique<YAML::Node>(YAML::NodeType::Undefined)) {}
YamlNode::YamlNode(const YAML::Node& n) : node_(std::make_unique<YAML::Node>(n)) {}
YamlNode::YamlNode(const YamlNode& other) : node_(std::make_unique<YAML::Node>(*other.node_)) {}
YamlNode& YamlNode::operator=(const YamlNode& other) {
  if (this != &other) node_ = std::make_unique<YAML::Node>(*other.node_);
  return *this;
}
YamlNode::YamlNode(YamlNode&&) noexcept = default;
YamlNode& YamlNode::operator=(YamlNode&&) noexcept = default;
YamlNode::~YamlNode() = default;

}  // namespace nodelab::script
