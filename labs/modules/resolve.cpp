#include "modules/resolve.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <variant>
#include <vector>

namespace nodelab::modules {
namespace {

using Json = nlohmann::ordered_json;  // "exports" conditions are tried in the file's key order

// ---------------------------------------------------------------------------------------------
// JSON.parse's errors, as V8 (Node 20's) words them: a package.json that does not parse gives
// Node's error with V8's message. A small recursive-descent check of the JSON grammar that stops
// where V8 stops; the text that passes it is then parsed by nlohmann.

class JsonSyntax {
 public:
  explicit JsonSyntax(std::string_view source) : s_(source) {}

  // The message JSON.parse(source) throws, or nothing when SOURCE is valid JSON.
  std::optional<std::string> check() {
    try {
      skip_ws();
      value();
      skip_ws();
      if (pos_ < s_.size()) {
        throw "Unexpected non-whitespace character after JSON at position " + std::to_string(pos_);
      }
    } catch (const std::string& message) {
      return message;
    }
    return std::nullopt;
  }

 private:
  [[noreturn]] void fail_at(const std::string& what) {
    throw what + " in JSON at position " + std::to_string(pos_);
  }
  [[noreturn]] void unexpected() {
    if (pos_ >= s_.size()) throw std::string("Unexpected end of JSON input");
    const char c = s_[pos_];
    if (c == '"') fail_at("Unexpected string");
    if (c == '-' || (c >= '0' && c <= '9')) fail_at("Unexpected number");
    // V8's context: the whole text up to 21 characters, else 10 characters either side.
    constexpr std::size_t kContext = 10;
    const std::string token = "Unexpected token '" + std::string(1, c) + "', ";
    const std::size_t n = s_.size();
    if (n <= 2 * kContext + 1) throw token + "\"" + std::string(s_) + "\" is not valid JSON";
    if (pos_ < kContext) {
      throw token + "\"" + std::string(s_.substr(0, pos_ + kContext)) + "\"... is not valid JSON";
    }
    if (pos_ < n - kContext) {
      throw token + "...\"" + std::string(s_.substr(pos_ - kContext, 2 * kContext)) +
          "\"... is not valid JSON";
    }
    throw token + "...\"" + std::string(s_.substr(pos_ - kContext)) + "\" is not valid JSON";
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_ws() {
    while (!at_end() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }

  void value() {
    if (at_end()) unexpected();
    const char c = s_[pos_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return string();
    if (c == '-' || digit(c)) return number();
    if (c == 't') return literal("true");
    if (c == 'f') return literal("false");
    if (c == 'n') return literal("null");
    unexpected();
  }
  void literal(std::string_view word) {
    for (const char w : word) {
      if (at_end() || s_[pos_] != w) unexpected();
      ++pos_;
    }
  }
  void object() {
    ++pos_;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return;
    }
    if (peek() != '"') fail_at("Expected property name or '}'");
    while (true) {
      string();
      skip_ws();
      if (peek() != ':') fail_at("Expected ':' after property name");
      ++pos_;
      skip_ws();
      value();
      skip_ws();
      if (peek() == '}') {
        ++pos_;
        return;
      }
      if (peek() != ',') fail_at("Expected ',' or '}' after property value");
      ++pos_;
      skip_ws();
      if (peek() != '"') fail_at("Expected double-quoted property name");
    }
  }
  void array() {
    ++pos_;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return;
    }
    while (true) {
      value();
      skip_ws();
      if (peek() == ']') {
        ++pos_;
        return;
      }
      if (peek() != ',') fail_at("Expected ',' or ']' after array element");
      ++pos_;
      skip_ws();
    }
  }
  void string() {
    ++pos_;
    while (true) {
      if (at_end()) fail_at("Unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return;
      }
      if (c < 0x20) fail_at("Bad control character in string literal");
      if (c == '\\') {
        ++pos_;
        if (at_end()) fail_at("Unterminated string");
        const char e = s_[pos_];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            ++pos_;
            if (!std::isxdigit(static_cast<unsigned char>(peek()))) {
              if (at_end()) fail_at("Unterminated string");
              fail_at("Bad Unicode escape");
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          fail_at("Bad escaped character");
        }
      }
      ++pos_;
    }
  }
  void number() {
    if (peek() == '-') {
      ++pos_;
      if (!digit(peek())) fail_at("No number after minus sign");
    }
    if (peek() == '0') {
      ++pos_;
      if (digit(peek())) fail_at("Unexpected number");
    } else {
      while (digit(peek()))
        ++pos_;
    }
    if (peek() == '.') {
      ++pos_;
      if (!digit(peek())) fail_at("Unterminated fractional number");
      while (digit(peek()))
        ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digit(peek())) fail_at("Exponent part is missing a number");
      while (digit(peek()))
        ++pos_;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// JSON.stringify of a string (ERR_INVALID_PACKAGE_TARGET's target, the hint).
std::string quote(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// "TEXT" as a template literal writes it (most of Node's messages), no escaping.
std::string plain_quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix);
}
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix);
}

std::string replace_all(std::string text, char from, std::string_view to) {
  std::string out;
  for (const char c : text) {
    if (c == from) {
      out += to;
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Node 20.20.2's builtins (require('module').builtinModules), and those only reachable with the
// node: scheme.

const std::set<std::string, std::less<>>& builtins_without_scheme() {
  static const std::set<std::string, std::less<>> names{"_http_agent",
                                                        "_http_client",
                                                        "_http_common",
                                                        "_http_incoming",
                                                        "_http_outgoing",
                                                        "_http_server",
                                                        "_stream_duplex",
                                                        "_stream_passthrough",
                                                        "_stream_readable",
                                                        "_stream_transform",
                                                        "_stream_wrap",
                                                        "_stream_writable",
                                                        "_tls_common",
                                                        "_tls_wrap",
                                                        "assert",
                                                        "assert/strict",
                                                        "async_hooks",
                                                        "buffer",
                                                        "child_process",
                                                        "cluster",
                                                        "console",
                                                        "constants",
                                                        "crypto",
                                                        "dgram",
                                                        "diagnostics_channel",
                                                        "dns",
                                                        "dns/promises",
                                                        "domain",
                                                        "events",
                                                        "fs",
                                                        "fs/promises",
                                                        "http",
                                                        "http2",
                                                        "https",
                                                        "inspector",
                                                        "inspector/promises",
                                                        "module",
                                                        "net",
                                                        "os",
                                                        "path",
                                                        "path/posix",
                                                        "path/win32",
                                                        "perf_hooks",
                                                        "process",
                                                        "punycode",
                                                        "querystring",
                                                        "readline",
                                                        "readline/promises",
                                                        "repl",
                                                        "stream",
                                                        "stream/consumers",
                                                        "stream/promises",
                                                        "stream/web",
                                                        "string_decoder",
                                                        "sys",
                                                        "timers",
                                                        "timers/promises",
                                                        "tls",
                                                        "trace_events",
                                                        "tty",
                                                        "url",
                                                        "util",
                                                        "util/types",
                                                        "v8",
                                                        "vm",
                                                        "wasi",
                                                        "worker_threads",
                                                        "zlib"};
  return names;
}

bool is_builtin_with_scheme(std::string_view id) {
  return builtins_without_scheme().contains(id) || id == "test" || id == "test/reporters" ||
         id == "sea";
}

// ---------------------------------------------------------------------------------------------

struct ResolveError {
  std::string code;
  std::string message;
};

[[noreturn]] void raise(std::string code, std::string message) {
  throw ResolveError{std::move(code), std::move(message)};
}

// Where a resolution comes from, for the messages: Node's `base` (a file: URL, or none).
struct Base {
  std::string path;  // empty: no base
  bool present() const { return !path.empty(); }
  std::string imported_from() const { return present() ? " imported from " + path : ""; }
  std::string url() const { return "file://" + path; }
};

struct PackageConfig {
  bool exists = false;
  std::string pjson_path;
  std::optional<std::string> name;
  std::optional<std::string> main;
  std::string type = "none";
  Json exports;  // null: none
  Json imports;  // null unless an object
  std::string dir() const { return path_dirname(pjson_path) + "/"; }
};

enum class Flavor { esm, cjs };

struct Context {
  const Vfs& vfs;
  std::set<std::string, std::less<>> conditions;
  // package.json files read in this resolution: the parsed config, or V8's parse error.
  std::map<std::string, std::variant<PackageConfig, std::string>, std::less<>> packages;
  int package_reads = 0;
};

const std::set<std::string, std::less<>> kImportConditions{"node", "import", "module-sync",
                                                           "node-addons"};
const std::set<std::string, std::less<>> kRequireConditions{"require", "node", "module-sync",
                                                            "node-addons"};

// The package.json at PJSON_PATH (read once per resolution). A parse error is raised as the
// flavour's loader words it: CommonJS "Error parsing", ESM ERR_INVALID_PACKAGE_CONFIG with
// `while importing WHILE`.
const PackageConfig& read_package(Context& ctx, const std::string& pjson_path, Flavor flavor,
                                  const std::string& while_importing) {
  auto it = ctx.packages.find(pjson_path);
  if (it == ctx.packages.end()) {
    ++ctx.package_reads;
    PackageConfig config;
    config.pjson_path = pjson_path;
    std::variant<PackageConfig, std::string> entry = config;
    if (const std::string* text = ctx.vfs.read(pjson_path)) {
      if (auto error = JsonSyntax(*text).check()) {
        entry = *error;
      } else {
        Json json;
        try {
          json = Json::parse(*text);
        } catch (const Json::exception&) {
          // V8 takes what nlohmann refuses: invalid UTF-8 (read as U+FFFD), lone surrogates.
          raise("ERR_NODELAB_UNMODELLED",
                "the model cannot read " + pjson_path +
                    " (invalid UTF-8 or a lone surrogate escape: not modelled)");
        }
        config.exists = true;
        if (json.is_object()) {
          if (json.contains("name") && json["name"].is_string()) config.name = json["name"];
          if (json.contains("main") && json["main"].is_string()) config.main = json["main"];
          if (json.contains("type") && json["type"].is_string()) {
            const std::string type = json["type"];
            if (type == "module" || type == "commonjs") config.type = type;
          }
          if (json.contains("exports")) config.exports = json["exports"];
          if (json.contains("imports") && json["imports"].is_object()) {
            config.imports = json["imports"];
          }
        }
        entry = config;
      }
    }
    it = ctx.packages.emplace(pjson_path, std::move(entry)).first;
  }
  if (const auto* error = std::get_if<std::string>(&it->second)) {
    if (flavor == Flavor::cjs) raise("SyntaxError", "Error parsing " + pjson_path + ": " + *error);
    raise("ERR_INVALID_PACKAGE_CONFIG", "Invalid package config " + pjson_path +
                                            " while importing " + while_importing + ". " + *error);
  }
  return std::get<PackageConfig>(it->second);
}

// The nearest package.json above FILE (getPackageScopeConfig / readPackageScope): it stops
// below a node_modules directory. A config with exists == false when there is none.
PackageConfig scope_config(Context& ctx, const std::string& file, Flavor flavor,
                           const std::string& while_importing) {
  std::string dir = path_dirname(file);
  while (true) {
    if (ends_with(dir, "/node_modules")) break;
    const std::string pjson = dir == "/" ? "/package.json" : dir + "/package.json";
    const PackageConfig& config = read_package(ctx, pjson, flavor, while_importing);
    if (config.exists) return config;
    if (dir == "/") break;
    dir = path_dirname(dir);
  }
  return PackageConfig{};
}

// new URL(SPECIFIER, file://BASE_FILE).pathname for a relative or absolute SPECIFIER: dot
// segments resolved, a trailing '/' kept (a specifier ending in '/', '.' or '..' names a
// directory). The query and fragment are dropped (not modelled).
std::string url_resolve(std::string_view base_file, std::string_view specifier) {
  const auto cut = specifier.find_first_of("?#");
  if (cut != std::string_view::npos) specifier = specifier.substr(0, cut);
  const std::string joined = starts_with(specifier, "/")
                                 ? std::string(specifier)
                                 : path_dirname(base_file) + "/" + std::string(specifier);
  const std::string last = joined.substr(joined.rfind('/') + 1);
  const bool directory = ends_with(joined, "/") || last == "." || last == "..";
  std::string path = path_resolve("/", joined);
  if (directory && path != "/") path += "/";
  return path;
}

// A scheme ("x:" with x a URL scheme): what new URL(specifier) accepts on its own.
std::optional<std::string> url_scheme(std::string_view specifier) {
  if (specifier.empty() || !std::isalpha(static_cast<unsigned char>(specifier[0]))) return {};
  for (std::size_t i = 1; i < specifier.size(); ++i) {
    const char c = specifier[i];
    if (c == ':') return std::string(specifier.substr(0, i + 1));
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return {};
    }
  }
  return {};
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The segments of invalidSegmentRegEx: '.', '..', 'node_modules' (percent-encoded or not, any
// case) are "deprecated" (an error); an empty segment only warns.
bool deprecated_segment(std::string_view text) {
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find_first_of("/\\", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string seg = lower(percent_decode(text.substr(start, end - start)));
    if (seg == "." || seg == ".." || seg == "node_modules") return true;
    start = end + 1;
  }
  return false;
}

bool is_array_index(const std::string& key) {
  if (key.empty() || key.size() > 10) return false;
  if (!std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  if (key.size() > 1 && key[0] == '0') return false;
  return std::stoull(key) < 0xFFFFFFFFull;
}

[[noreturn]] void invalid_package_config(const std::string& pjson_path, const Base& base,
                                         const std::string& message) {
  raise("ERR_INVALID_PACKAGE_CONFIG", "Invalid package config " + pjson_path +
                                          (base.present() ? " while importing " + base.url() : "") +
                                          ". " + message);
}

[[noreturn]] void invalid_target(const std::string& match, const std::string& target,
                                 const std::string& pjson_path, bool internal, const Base& base) {
  const bool related = !internal && !target.empty() && !starts_with(target, "./");
  const std::string where = " in the package config " + path_dirname(pjson_path) + "/package.json" +
                            base.imported_from() +
                            (related ? "; targets must start with \"./\"" : "");
  if (match == ".") {
    raise("ERR_INVALID_PACKAGE_TARGET",
          "Invalid \"exports\" main target " + quote(target) + " defined" + where);
  }
  raise("ERR_INVALID_PACKAGE_TARGET", std::string("Invalid \"") +
                                          (internal ? "imports" : "exports") + "\" target " +
                                          quote(target) + " defined for '" + match + "'" + where);
}

[[noreturn]] void exports_not_found(const std::string& subpath, const std::string& pjson_path,
                                    const Base& base) {
  const std::string pkg = path_dirname(pjson_path) + "/package.json";
  if (subpath == ".") {
    raise("ERR_PACKAGE_PATH_NOT_EXPORTED",
          "No \"exports\" main defined in " + pkg + base.imported_from());
  }
  raise("ERR_PACKAGE_PATH_NOT_EXPORTED", "Package subpath '" + subpath +
                                             "' is not defined by \"exports\" in " + pkg +
                                             base.imported_from());
}

// resolvePackageTarget's answer: a URL (a path, or node:...), null, or undefined.
struct Target {
  enum class Kind { url, null_, undefined_ } kind = Kind::undefined_;
  std::string url;
};

std::string package_resolve(Context& ctx, const std::string& specifier, const Base& base);

Target resolve_target(Context& ctx, const Json& target, const std::string& subpath,
                      const std::string& match, const std::string& pjson_path, const Base& base,
                      bool pattern, bool internal);

Target resolve_target_string(Context& ctx, const std::string& target, const std::string& subpath,
                             const std::string& match, const std::string& pjson_path,
                             const Base& base, bool pattern, bool internal) {
  if (!subpath.empty() && !pattern && !ends_with(target, "/")) {
    invalid_target(match, target, pjson_path, internal, base);
  }
  if (!starts_with(target, "./")) {
    if (internal && !starts_with(target, "../") && !starts_with(target, "/") &&
        !url_scheme(target)) {
      const std::string bare = pattern ? replace_all(target, '*', subpath) : target + subpath;
      return {Target::Kind::url, package_resolve(ctx, bare, Base{pjson_path})};
    }
    invalid_target(match, target, pjson_path, internal, base);
  }
  if (deprecated_segment(target.substr(2))) {
    invalid_target(match, target, pjson_path, internal, base);
  }
  const std::string resolved = url_resolve(pjson_path, target);
  if (!starts_with(resolved, path_dirname(pjson_path) + "/")) {
    invalid_target(match, target, pjson_path, internal, base);
  }
  if (subpath.empty()) return {Target::Kind::url, resolved};
  if (deprecated_segment(subpath)) {
    std::string request = match + subpath;
    if (pattern) {
      request = match;
      request.replace(request.find('*'), 1, subpath);
    }
    raise("ERR_INVALID_MODULE_SPECIFIER",
          "Invalid module " + plain_quote(request) + " request is not a valid match in pattern " +
              plain_quote(match) + " for the \"" + (internal ? "imports" : "exports") +
              "\" resolution of " + pjson_path + base.imported_from());
  }
  if (pattern) return {Target::Kind::url, replace_all(resolved, '*', subpath)};
  return {Target::Kind::url, url_resolve(resolved + "x", subpath)};
}

Target resolve_target(Context& ctx, const Json& target, const std::string& subpath,
                      const std::string& match, const std::string& pjson_path, const Base& base,
                      bool pattern, bool internal) {
  if (target.is_string()) {
    return resolve_target_string(ctx, target.get<std::string>(), subpath, match, pjson_path, base,
                                 pattern, internal);
  }
  if (target.is_array()) {
    if (target.empty()) return {Target::Kind::null_, {}};
    std::optional<ResolveError> last;
    bool last_null = false;
    for (const Json& item : target) {
      Target result;
      try {
        result = resolve_target(ctx, item, subpath, match, pjson_path, base, pattern, internal);
      } catch (const ResolveError& error) {
        last = error;
        last_null = false;
        if (error.code == "ERR_INVALID_PACKAGE_TARGET") continue;
        throw;
      }
      if (result.kind == Target::Kind::undefined_) continue;
      if (result.kind == Target::Kind::null_) {
        last.reset();
        last_null = true;
        continue;
      }
      return result;
    }
    if (last) throw *last;
    return {last_null ? Target::Kind::null_ : Target::Kind::undefined_, {}};
  }
  if (target.is_object()) {
    for (const auto& [key, value] : target.items()) {
      if (is_array_index(key)) {
        invalid_package_config(pjson_path, base,
                               "\"exports\" cannot contain numeric property keys.");
      }
    }
    for (const auto& [key, value] : target.items()) {
      if (key == "default" || ctx.conditions.contains(key)) {
        Target result =
            resolve_target(ctx, value, subpath, match, pjson_path, base, pattern, internal);
        if (result.kind == Target::Kind::undefined_) continue;
        return result;
      }
    }
    return {Target::Kind::undefined_, {}};
  }
  if (target.is_null()) return {Target::Kind::null_, {}};
  invalid_target(match, target.dump(), pjson_path, internal, base);
}

// PATTERN_KEY_COMPARE: 1 when B is more specific than A (B sorts first).
int pattern_key_compare(const std::string& a, const std::string& b) {
  const auto a_star = a.find('*');
  const auto b_star = b.find('*');
  const std::size_t base_a = a_star == std::string::npos ? a.size() : a_star + 1;
  const std::size_t base_b = b_star == std::string::npos ? b.size() : b_star + 1;
  if (base_a > base_b) return -1;
  if (base_b > base_a) return 1;
  if (a_star == std::string::npos) return 1;
  if (b_star == std::string::npos) return -1;
  if (a.size() > b.size()) return -1;
  if (b.size() > a.size()) return 1;
  return 0;
}

// The best pattern key of MAP for NAME (PACKAGE_EXPORTS_RESOLVE / PACKAGE_IMPORTS_RESOLVE step
// "for each key of expansionKeys"), and the part of NAME the '*' stands for.
std::optional<std::pair<std::string, std::string>> best_pattern(const Json& map,
                                                                const std::string& name) {
  std::string best;
  std::string best_subpath;
  for (const auto& [key, value] : map.items()) {
    const auto star = key.find('*');
    if (star == std::string::npos || !starts_with(name, key.substr(0, star))) continue;
    const std::string trailer = key.substr(star + 1);
    if (name.size() >= key.size() && ends_with(name, trailer) &&
        pattern_key_compare(best, key) == 1 && key.rfind('*') == star) {
      best = key;
      best_subpath = name.substr(star, name.size() - trailer.size() - star);
    }
  }
  if (best.empty()) return std::nullopt;
  return std::pair{best, best_subpath};
}

bool exports_main_sugar(const Json& exports, const std::string& pjson_path, const Base& base) {
  if (exports.is_string() || exports.is_array()) return true;
  if (!exports.is_object()) return false;
  bool sugar = false;
  bool first = true;
  for (const auto& [key, value] : exports.items()) {
    const bool cur = key.empty() || key[0] != '.';
    if (first) {
      sugar = cur;
      first = false;
    } else if (sugar != cur) {
      invalid_package_config(
          pjson_path, base,
          "\"exports\" cannot contain some keys starting with '.' and some not. The exports "
          "object must either be an object of package subpath keys or an object of main entry "
          "condition name keys only.");
    }
  }
  return sugar;
}

std::string package_exports_resolve(Context& ctx, const std::string& pjson_path,
                                    const std::string& subpath, const PackageConfig& config,
                                    const Base& base) {
  Json exports = config.exports;
  if (exports_main_sugar(exports, pjson_path, base)) exports = Json{{".", exports}};
  if (!exports.is_object()) exports_not_found(subpath, pjson_path, base);
  if (exports.contains(subpath) && subpath.find('*') == std::string::npos &&
      !ends_with(subpath, "/")) {
    const Target result =
        resolve_target(ctx, exports[subpath], "", subpath, pjson_path, base, false, false);
    if (result.kind != Target::Kind::url) exports_not_found(subpath, pjson_path, base);
    return result.url;
  }
  if (const auto best = best_pattern(exports, subpath)) {
    const Target result = resolve_target(ctx, exports[best->first], best->second, best->first,
                                         pjson_path, base, true, false);
    if (result.kind != Target::Kind::url) exports_not_found(subpath, pjson_path, base);
    return result.url;
  }
  exports_not_found(subpath, pjson_path, base);
}

// PACKAGE_IMPORTS_RESOLVE. FLAVOR words a broken package.json; BASE is the importing file.
std::string package_imports_resolve(Context& ctx, const std::string& name, const Base& base,
                                    Flavor flavor) {
  if (name == "#" || starts_with(name, "#/") || ends_with(name, "/")) {
    raise("ERR_INVALID_MODULE_SPECIFIER", "Invalid module " + plain_quote(name) +
                                              " is not a valid internal imports specifier name" +
                                              base.imported_from());
  }
  const PackageConfig config = scope_config(ctx, base.path, flavor, base.path);
  if (config.exists) {
    const Json& imports = config.imports;
    if (imports.is_object()) {
      if (imports.contains(name) && name.find('*') == std::string::npos) {
        const Target result =
            resolve_target(ctx, imports[name], "", name, config.pjson_path, base, false, true);
        if (result.kind == Target::Kind::url) return result.url;
      } else if (const auto best = best_pattern(imports, name)) {
        const Target result = resolve_target(ctx, imports[best->first], best->second, best->first,
                                             config.pjson_path, base, true, true);
        if (result.kind == Target::Kind::url) return result.url;
      }
    }
  }
  raise("ERR_PACKAGE_IMPORT_NOT_DEFINED",
        "Package import specifier " + plain_quote(name) + " is not defined" +
            (config.exists ? " in package " + config.dir() + "package.json" : "") +
            " imported from " + base.path);
}

// The C++ legacyMainResolve of Node 20 (ESM resolution of a package without "exports").
std::string legacy_main_resolve(Context& ctx, const PackageConfig& config, const Base& base) {
  const std::string dir = path_dirname(config.pjson_path);
  std::vector<std::string> guesses;
  if (config.main) {
    const std::string main = path_resolve(dir, *config.main);
    for (const char* suffix :
         {"", ".js", ".json", ".node", "/index.js", "/index.json", "/index.node"}) {
      guesses.push_back(main + suffix);
    }
  }
  for (const char* index : {"/index.js", "/index.json", "/index.node"}) {
    guesses.push_back(dir + index);
  }
  for (const auto& guess : guesses) {
    if (ctx.vfs.stat(guess) == Vfs::Kind::file) return guess;
  }
  // Node 20's C++ legacyMainResolve names the first file it tried.
  const std::string first = config.main ? path_resolve(dir, *config.main) : dir + "/index.js";
  raise("ERR_MODULE_NOT_FOUND", "Cannot find package '" + first + "' imported from " + base.path);
}

// PACKAGE_RESOLVE (ESM): builtins, self-reference, then node_modules up the directories.
std::string package_resolve(Context& ctx, const std::string& specifier, const Base& base) {
  if (builtins_without_scheme().contains(specifier)) return "node:" + specifier;
  auto separator = specifier.find('/');
  bool valid = true;
  if (!specifier.empty() && specifier[0] == '@') {
    if (separator == std::string::npos) {
      valid = false;
    } else {
      separator = specifier.find('/', separator + 1);
    }
  }
  const std::string name = specifier.substr(0, separator);
  if (name.empty() || name[0] == '.' || name.find_first_of("%\\") != std::string::npos) {
    valid = false;
  }
  if (!valid) {
    raise("ERR_INVALID_MODULE_SPECIFIER", "Invalid module " + plain_quote(specifier) +
                                              " is not a valid package name" +
                                              base.imported_from());
  }
  const std::string subpath =
      "." + (separator == std::string::npos ? std::string() : specifier.substr(separator));

  const PackageConfig self = scope_config(ctx, base.path, Flavor::esm, base.path);
  if (self.exists && !self.exports.is_null() && self.name == name) {
    return package_exports_resolve(ctx, self.pjson_path, subpath, self, base);
  }

  std::string dir = path_dirname(base.path);
  while (true) {
    const std::string package_dir = (dir == "/" ? "" : dir) + "/node_modules/" + name;
    if (ctx.vfs.stat(package_dir) == Vfs::Kind::directory) {
      const std::string pjson = package_dir + "/package.json";
      const PackageConfig& config =
          read_package(ctx, pjson, Flavor::esm, plain_quote(specifier) + " from " + base.path);
      if (!config.exports.is_null()) {
        return package_exports_resolve(ctx, pjson, subpath, config, base);
      }
      if (subpath == ".") return legacy_main_resolve(ctx, config, base);
      return url_resolve(pjson, subpath);
    }
    if (dir == "/") break;
    dir = path_dirname(dir);
  }
  raise("ERR_MODULE_NOT_FOUND", "Cannot find package '" + name + "' imported from " + base.path);
}

// ---------------------------------------------------------------------------------------------
// CommonJS: Module._resolveFilename and its helpers.

std::string extname(std::string_view path) {
  const std::string_view last = path.substr(path.rfind('/') + 1);
  const auto dot = last.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  return std::string(last.substr(dot));
}

const std::array<const char*, 3> kCjsExtensions{".js", ".json", ".node"};

std::optional<std::string> try_file(Context& ctx, const std::string& path) {
  if (ctx.vfs.stat(path) == Vfs::Kind::file) return path;
  return std::nullopt;
}

std::optional<std::string> try_extensions(Context& ctx, const std::string& base) {
  for (const char* ext : kCjsExtensions) {
    if (auto found = try_file(ctx, base + ext)) return found;
  }
  return std::nullopt;
}

std::optional<std::string> try_package(Context& ctx, const std::string& dir) {
  const PackageConfig& config = read_package(ctx, dir + "/package.json", Flavor::cjs, "");
  if (!config.main) return try_extensions(ctx, dir + "/index");
  const std::string filename = path_resolve(dir, *config.main);
  if (auto found = try_file(ctx, filename)) return found;
  if (auto found = try_extensions(ctx, filename)) return found;
  if (auto found = try_extensions(ctx, filename + "/index")) return found;
  if (auto found = try_extensions(ctx, dir + "/index")) return found;  // DEP0128
  raise("MODULE_NOT_FOUND",
        "Cannot find module '" + filename +
            "'. Please verify that the package.json has a valid \"main\" entry");
}

// finalizeEsmResolution: an "exports"/"imports" answer must be an existing file. (Its
// encoded-separator error names the URL, file://..., where import's names the path.)
std::string finalize_esm_resolution(Context& ctx, const std::string& resolved, const Base& parent) {
  const std::string lowered = lower(resolved);
  if (lowered.find("%2f") != std::string::npos || lowered.find("%5c") != std::string::npos) {
    raise("ERR_INVALID_MODULE_SPECIFIER",
          "Invalid module " + plain_quote("file://" + resolved) +
              " must not include encoded \"/\" or \"\\\" characters" + parent.imported_from());
  }
  const std::string filename = percent_decode(resolved);
  if (auto found = try_file(ctx, filename)) return *found;
  raise("MODULE_NOT_FOUND", "Cannot find module '" + filename + "'");
}

std::vector<std::string> node_module_paths(const std::string& from) {
  std::vector<std::string> paths;
  for (std::string dir = from; dir != "/"; dir = path_dirname(dir)) {
    if (dir.substr(dir.rfind('/') + 1) != "node_modules") paths.push_back(dir + "/node_modules");
  }
  paths.push_back("/node_modules");
  return paths;
}

bool is_relative_request(std::string_view request) {
  return request == "." || request == ".." || starts_with(request, "./") ||
         starts_with(request, "../");
}

bool has_trailing_slash(std::string_view r) {
  if (r.empty()) return false;
  if (r.back() == '/') return true;
  if (r.back() != '.') return false;
  if (r.size() == 1 || r[r.size() - 2] == '/') return true;
  return r[r.size() - 2] == '.' && (r.size() == 2 || r[r.size() - 3] == '/');
}

// resolveExports: a bare request into a node_modules directory whose package has "exports".
std::optional<std::string> resolve_exports(Context& ctx, const std::string& nm_path,
                                           const std::string& request) {
  // EXPORTS_PATTERN: /^((?:@[^/\\%]+\/)?[^./\\%][^/\\%]*)(\/.*)?$/
  std::size_t i = 0;
  if (!request.empty() && request[0] == '@') {
    const auto slash = request.find('/');
    if (slash == std::string::npos || slash == 1 ||
        request.substr(1, slash - 1).find_first_of("\\%") != std::string::npos) {
      return std::nullopt;
    }
    i = slash + 1;
  }
  if (i >= request.size() || std::string_view("./\\%").find(request[i]) != std::string::npos) {
    return std::nullopt;
  }
  auto end = request.find('/', i);
  if (end == std::string::npos) end = request.size();
  if (request.substr(i, end - i).find_first_of("\\%") != std::string::npos) return std::nullopt;
  const std::string name = request.substr(0, end);
  const std::string expansion = request.substr(end);
  const std::string pkg_path = path_resolve(nm_path, name);
  const PackageConfig& config = read_package(ctx, pkg_path + "/package.json", Flavor::cjs, "");
  if (!config.exists || config.exports.is_null()) return std::nullopt;
  const std::string url =
      package_exports_resolve(ctx, pkg_path + "/package.json", "." + expansion, config, Base{});
  return finalize_esm_resolution(ctx, url, Base{});
}

std::optional<std::string> find_path(Context& ctx, const std::string& request,
                                     std::vector<std::string> paths) {
  const bool absolute = starts_with(request, "/");
  if (absolute) paths = {""};
  const bool trailing = has_trailing_slash(request);
  // A relative request that climbs out of its directory (path.normalize gives '..'): the
  // directory is not checked first.
  const std::string normalized = path_resolve("/x", request);
  const bool inside =
      !is_relative_request(request) || normalized == "/x" || starts_with(normalized, "/x/");
  for (const std::string& cur : paths) {
    if (inside && !cur.empty() && ctx.vfs.stat(cur) != Vfs::Kind::directory) continue;
    if (!absolute) {
      if (auto found = resolve_exports(ctx, cur, request)) return found;
    }
    const std::string base_path =
        absolute ? path_resolve("/", request) : path_resolve(cur, request);
    std::optional<std::string> filename;
    const Vfs::Kind rc = ctx.vfs.stat(base_path);
    if (!trailing) {
      if (rc == Vfs::Kind::file) filename = base_path;
      if (!filename) filename = try_extensions(ctx, base_path);
    }
    if (!filename && rc == Vfs::Kind::directory) filename = try_package(ctx, base_path);
    if (filename) return filename;
  }
  return std::nullopt;
}

// Module._resolveFilename(REQUEST, parent module at PARENT). HINT_CWD non-empty: the way
// the ESM loader's hint calls it, with a parent Module that has no filename: relative requests
// then resolve from the working directory HINT_CWD, the node_modules walk starts from PARENT
// itself (the file, as _nodeModulePaths(parent) is called), and neither "imports" nor
// self-reference apply.
std::string resolve_filename(Context& ctx, const std::string& request, const std::string& parent,
                             const std::string& hint_cwd = "") {
  const bool hint = !hint_cwd.empty();
  std::vector<std::string> paths;
  if (is_relative_request(request)) {
    paths = {hint ? hint_cwd : path_dirname(parent)};
  } else {
    paths = node_module_paths(hint ? parent : path_dirname(parent));
  }
  if (hint) {
    if (auto found = find_path(ctx, request, paths)) return *found;
    raise("MODULE_NOT_FOUND", "Cannot find module '" + request + "'");
  }
  if (starts_with(request, "#")) {
    const PackageConfig config = scope_config(ctx, parent, Flavor::cjs, "");
    if (config.exists && config.imports.is_object()) {
      try {
        const std::string url = package_imports_resolve(ctx, request, Base{parent}, Flavor::cjs);
        return finalize_esm_resolution(ctx, url, Base{parent});
      } catch (const ResolveError& error) {
        if (error.code == "ERR_MODULE_NOT_FOUND") {
          raise("MODULE_NOT_FOUND", "Cannot find module '" + request + "'");
        }
        throw;
      }
    }
  }
  // trySelf
  const PackageConfig self = scope_config(ctx, parent, Flavor::cjs, "");
  if (self.exists && !self.exports.is_null() && self.name) {
    std::optional<std::string> expansion;
    if (request == *self.name) {
      expansion = ".";
    } else if (starts_with(request, *self.name + "/")) {
      expansion = "." + request.substr(self.name->size());
    }
    if (expansion) {
      try {
        const std::string url =
            package_exports_resolve(ctx, self.pjson_path, *expansion, self, Base{parent});
        return finalize_esm_resolution(ctx, url, Base{parent});
      } catch (const ResolveError& error) {
        if (error.code == "ERR_MODULE_NOT_FOUND") {
          raise("MODULE_NOT_FOUND", "Cannot find module '" + request + "'");
        }
        throw;
      }
    }
  }
  if (auto found = find_path(ctx, request, paths)) return *found;
  raise("MODULE_NOT_FOUND", "Cannot find module '" + request + "'\nRequire stack:\n- " + parent);
}

// The format require() loads FILE with.
std::string require_format(Context& ctx, const std::string& file) {
  const std::string ext = extname(file);
  if (ext == ".json") return "json";
  if (ext == ".node") return "addon";
  if (ext == ".mjs") return "module";
  if (ext == ".js") {
    return scope_config(ctx, file, Flavor::cjs, "").type == "module" ? "module" : "commonjs";
  }
  return "commonjs";
}

// ESM_FILE_FORMAT, with the load's ERR_UNKNOWN_FILE_EXTENSION.
std::string import_format(Context& ctx, const std::string& file) {
  const std::string ext = extname(file);
  if (ext == ".mjs") return "module";
  if (ext == ".cjs") return "commonjs";
  if (ext == ".json") return "json";
  if (ext == ".js" || ext.empty()) {
    // "none" would be decided by the source's syntax (detection, on in 20.20.2): the lab's
    // files hold no ESM syntax, so it is CommonJS.
    return scope_config(ctx, file, Flavor::esm, file).type == "module" ? "module" : "commonjs";
  }
  raise("ERR_UNKNOWN_FILE_EXTENSION", "Unknown file extension \"" + ext + "\" for " + file);
}

Resolution finish(Context& ctx, Resolution r) {
  r.stats = ctx.vfs.counters().stats;
  r.package_reads = ctx.package_reads;
  return r;
}

// The program's working directory: the lab's programs run from /app.
constexpr const char* kWorkingDirectory = "/app";

// The hint of decorateErrorWithCommonJSHints: what require() would have found, as Node asks
// (see resolve_filename's HINT_CWD), written relative to the parent's directory or inside its
// package.
std::optional<std::string> commonjs_hint(Context& ctx, const std::string& specifier,
                                         const std::string& parent) {
  Context cjs{ctx.vfs, kRequireConditions, {}, 0};
  std::string found;
  try {
    found = resolve_filename(cjs, specifier, parent, kWorkingDirectory);
  } catch (const ResolveError&) {
    ctx.package_reads += cjs.package_reads;
    return std::nullopt;
  }
  ctx.package_reads += cjs.package_reads;
  const bool relative = is_relative_request(specifier);
  if (relative) {
    // path.posix.relative(dirname(parent), found)
    std::vector<std::string> from;
    std::vector<std::string> to;
    auto split = [](const std::string& p) {
      std::vector<std::string> parts;
      std::size_t start = 1;
      while (start <= p.size()) {
        auto end = p.find('/', start);
        if (end == std::string::npos) end = p.size();
        if (end > start) parts.push_back(p.substr(start, end - start));
        start = end + 1;
      }
      return parts;
    };
    from = split(path_dirname(parent));
    to = split(found);
    std::size_t common = 0;
    while (common < from.size() && common < to.size() && from[common] == to[common])
      ++common;
    std::string rel;
    for (std::size_t i = common; i < from.size(); ++i)
      rel += rel.empty() ? ".." : "/..";
    for (std::size_t i = common; i < to.size(); ++i)
      rel += (rel.empty() ? "" : "/") + to[i];
    found = starts_with(rel, "../") ? rel : "./" + rel;
  } else if (!specifier.empty() && specifier[0] != '/' && specifier[0] != '.') {
    const auto slash = specifier.find('/');
    const std::string pkg = specifier.substr(0, slash);
    const std::string needle = "/node_modules/" + pkg + "/";
    const auto at = found.rfind(needle);
    if (at != std::string::npos) {
      found = pkg + "/" + found.substr(at + needle.size());
    } else {
      found = "file://" + found;
    }
  }
  if (found == specifier) return std::nullopt;
  return found;
}

}  // namespace

Resolution resolve_require(const Vfs& vfs, std::string_view specifier_view,
                           std::string_view parent_view) {
  vfs.reset_counters();
  Context ctx{vfs, kRequireConditions, {}, 0};
  const std::string specifier(specifier_view);
  const std::string parent(parent_view);
  Resolution r;
  try {
    if (starts_with(specifier, "node:")) {
      if (!is_builtin_with_scheme(specifier.substr(5))) {
        raise("ERR_UNKNOWN_BUILTIN_MODULE", "No such built-in module: " + specifier);
      }
      r.path = specifier;
      r.format = "builtin";
    } else if (builtins_without_scheme().contains(specifier)) {
      r.path = specifier;
      r.format = "builtin";
    } else {
      r.path = resolve_filename(ctx, specifier, parent);
      r.format = require_format(ctx, r.path);
    }
    r.ok = true;
  } catch (const ResolveError& error) {
    r.code = error.code;
    r.message = error.message;
  }
  return finish(ctx, std::move(r));
}

Resolution resolve_import(const Vfs& vfs, std::string_view specifier_view,
                          std::string_view parent_view) {
  vfs.reset_counters();
  Context ctx{vfs, kImportConditions, {}, 0};
  std::string specifier(specifier_view);
  const std::string parent = starts_with(parent_view, "file://")
                                 ? percent_decode(parent_view.substr(7))
                                 : std::string(parent_view);
  const Base base{parent};
  Resolution r;
  try {
    std::string resolved;
    const bool path_like = starts_with(specifier, "/") || is_relative_request(specifier);
    const auto scheme = path_like ? std::nullopt : url_scheme(specifier);
    try {
      if (path_like) {
        resolved = url_resolve(parent, specifier);
      } else if (starts_with(specifier, "#")) {
        resolved = package_imports_resolve(ctx, specifier, base, Flavor::esm);
      } else if (scheme == "file:") {
        std::string rest = specifier.substr(5);
        if (starts_with(rest, "//")) rest = rest.substr(2);
        const auto slash = rest.find('/');
        resolved = url_resolve("/", slash == std::string::npos ? "/" : rest.substr(slash));
      } else if (scheme == "node:") {
        if (!is_builtin_with_scheme(specifier.substr(5))) {
          raise("ERR_UNKNOWN_BUILTIN_MODULE", "No such built-in module: " + specifier);
        }
        resolved = specifier;
      } else if (scheme) {
        raise("ERR_UNSUPPORTED_ESM_URL_SCHEME",
              "Only URLs with a scheme in: file, data, and node are supported by the default "
              "ESM loader. Received protocol '" +
                  *scheme + "'");
      } else {
        resolved = package_resolve(ctx, specifier, base);
      }
      if (!starts_with(resolved, "node:")) {
        // finalizeResolution
        const std::string lowered = lower(resolved);
        if (lowered.find("%2f") != std::string::npos || lowered.find("%5c") != std::string::npos) {
          raise("ERR_INVALID_MODULE_SPECIFIER",
                "Invalid module " + plain_quote(resolved) +
                    " must not include encoded \"/\" or \"\\\" characters" + base.imported_from());
        }
        const std::string path = percent_decode(resolved);
        const std::string probe =
            ends_with(path, "/") && path != "/" ? path.substr(0, path.size() - 1) : path;
        const Vfs::Kind kind = vfs.stat(probe);
        if (kind == Vfs::Kind::directory) {
          raise("ERR_UNSUPPORTED_DIR_IMPORT", "Directory import '" + path +
                                                  "' is not supported resolving ES modules" +
                                                  base.imported_from());
        }
        if (kind != Vfs::Kind::file) {
          raise("ERR_MODULE_NOT_FOUND", "Cannot find module '" + path + "'" + base.imported_from());
        }
        resolved = path;
      }
    } catch (ResolveError& error) {
      if (error.code == "ERR_MODULE_NOT_FOUND" || error.code == "ERR_UNSUPPORTED_DIR_IMPORT") {
        std::string hint_specifier = specifier;
        if (starts_with(hint_specifier, "file://")) {
          hint_specifier = percent_decode(hint_specifier.substr(7));
        }
        if (auto hint = commonjs_hint(ctx, hint_specifier, parent)) {
          error.message += "\nDid you mean to import " + quote(*hint) + "?";
        }
      }
      throw;
    }
    r.path = resolved;
    r.format = starts_with(resolved, "node:") ? "builtin" : import_format(ctx, resolved);
    r.ok = true;
  } catch (const ResolveError& error) {
    r.code = error.code;
    r.message = error.message;
  }
  return finish(ctx, std::move(r));
}

}  // namespace nodelab::modules
