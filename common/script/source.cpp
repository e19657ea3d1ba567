#include "script/source.hpp"

#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

namespace nodelab::script {

ScenarioError::ScenarioError(SourceLoc loc, std::string message)
    : std::runtime_error(format_error(loc, message)),
      loc_(std::move(loc)),
      message_(std::move(message)) {}

std::string format_error(const SourceLoc& loc, std::string_view message) {
  if (loc.line <= 0) return fmt::format("{}: {}", loc.file, message);
  return fmt::format("{}:{}:{}: {}", loc.file, loc.line, loc.col, message);
}

namespace {

// Validates UTF-8 and rejects control characters; returns the located problem, if any.
void check_text(std::string_view text, const std::string& file) {
  int line = 1;
  int col = 1;
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a BOM is allowed
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    if (c < 0x80) {
      if (c == '\n') {
        ++line;
        col = 1;
        ++i;
        continue;
      }
      if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
        throw ScenarioError({file, line, col},
                            fmt::format("control character U+{:04X} is not allowed in a "
                                        "scenario file",
                                        static_cast<unsigned>(c)));
      }
    } else {
      std::uint32_t cp = 0;
      if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1Fu;
      } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0Fu;
      } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07u;
      } else {
        len = 0;
      }
      bool ok = len != 0 && i + len <= text.size();
      for (std::size_t k = 1; ok && k < len; ++k) {
        const auto cc = static_cast<unsigned char>(text[i + k]);
        ok = (cc & 0xC0) == 0x80;
        cp = (cp << 6) | (cc & 0x3Fu);
      }
      // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = ok && cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
      if (!ok) {
        throw ScenarioError({file, line, col},
                            fmt::format("invalid UTF-8 (byte 0x{:02X}); scenario files are UTF-8",
                                        static_cast<unsigned>(c)));
      }
    }
    i += len;
    ++col;
  }
}

}  // namespace

std::string read_scenario_text(const std::string& path, const Limits& limits) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw ScenarioError({path}, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw ScenarioError({path}, "is a directory, not a scenario file");
  if (!S_ISREG(st.st_mode)) {
    throw ScenarioError({path},
                        "not a regular file (a device, FIFO or socket cannot be a "
                        "scenario)");
  }
  if (static_cast<std::uint64_t>(st.st_size) > limits.max_file_bytes) {
    throw ScenarioError({path}, fmt::format("file is {} bytes; the limit is {} bytes", st.st_size,
                                            limits.max_file_bytes));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ScenarioError({path}, fmt::format("cannot open: {}", std::strerror(errno)));
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw ScenarioError({path}, fmt::format("cannot read: {}", std::strerror(err)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > limits.max_file_bytes) {
      ::close(fd);
      throw ScenarioError(
          {path}, fmt::format("file is larger than the limit of {} bytes", limits.max_file_bytes));
    }
  }
  ::close(fd);
  return text;  // parse_scenario checks the text itself
}

void check_scenario_text(std::string_view text, const std::string& path) {
  check_text(text, path);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw ScenarioError({path, 1, 1},
                        "empty scenario: expected a mapping with at least `lab` and `main`");
  }
}

namespace {

// Counts a document's events and remembers where its first node is, without building it.
struct DocumentProbe : YAML::EventHandler {
  int nodes = 0;
  bool only_null = true;
  YAML::Mark first;
  void node(const YAML::Mark& m, bool is_null) {
    if (nodes++ == 0) first = m;
    only_null = only_null && is_null;
  }
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m, true); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m, false); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(m, false);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(m, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(m, false);
  }
  void OnMapEnd() override {}
};

struct ParseJob {
  const std::string* text = nullptr;
  YAML::Node doc;
  bool empty = false;
  std::optional<YAML::Mark> second;  // where a second document starts
  std::optional<YAML::Mark> stuck;   // where yaml-cpp stopped making progress
  std::exception_ptr error;
};

// yaml-cpp 0.7's LoadAll never ends on some invalid input (a stray ',' at the top: the
// parser returns the same null document forever without consuming it), so the documents
// are probed one at a time, at most two, with a check that the parser moved on.
void* parse_job(void* arg) {
  auto* job = static_cast<ParseJob*>(arg);
  try {
    std::istringstream in(*job->text);
    YAML::Parser parser(in);
    DocumentProbe first;
    if (!parser.HandleNextDocument(first)) {
      job->empty = true;
      return nullptr;
    }
    DocumentProbe second;
    if (parser.HandleNextDocument(second)) {
      if (second.only_null && first.only_null && second.first.pos == first.first.pos) {
        job->stuck = second.first;
        return nullptr;
      }
      job->second = second.nodes > 0 ? second.first : first.first;
      return nullptr;
    }
    job->doc = YAML::Load(*job->text);
  } catch (...) {
    job->error = std::current_exception();
  }
  return nullptr;
}

}  // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  ParseJob job;
  job.text = &text;
  // 512 MiB of address space; only the pages actually touched are ever backed.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, std::size_t{512} << 20);
  pthread_t thread;
  const int rc = pthread_create(&thread, &attr, parse_job, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    parse_job(&job);  // no thread to be had: parse here (the depth guard still holds)
  } else {
    pthread_join(thread, nullptr);
  }
  if (job.error) {
    try {
      std::rethrow_exception(job.error);
    } catch (const YAML::Exception& e) {
      std::string msg = e.msg;
      if (dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr) {
        msg = "YAML nested too deeply (more than 2000 levels)";
      }
      if (e.mark.is_null()) throw ScenarioError({file}, "invalid YAML: " + msg);
      throw ScenarioError({file, e.mark.line + 1, e.mark.column + 1}, "invalid YAML: " + msg);
    }
  }
  if (job.stuck) {
    throw ScenarioError({file, job.stuck->line + 1, job.stuck->column + 1},
                        "invalid YAML: unexpected character here");
  }
  if (job.second) {
    throw ScenarioError({file, job.second->line + 1, job.second->column + 1},
                        "a scenario file holds one YAML document; found a second one");
  }
  if (job.empty || !job.doc.IsDefined() || job.doc.IsNull()) {
    throw ScenarioError({file, 1, 1},
                        "empty scenario: expected a mapping with at least `lab` and `main`");
  }
  return job.doc;
}

SourceLoc loc_of(const YAML::Node& n, const std::string& file) {
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return {file};
  return {file, m.line + 1, m.column + 1};
}

namespace {
const std::regex kInt(R"([-+]?[0-9]+)");
const std::regex kOct(R"(0o[0-7]+)");
const std::regex kHex(R"(0x[0-9a-fA-F]+)");
const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
const std::regex kInf(R"([-+]?\.(inf|Inf|INF))");
const std::regex kNan(R"(\.(nan|NaN|NAN))");
}  // namespace

ScalarType scalar_type(const YAML::Node& n) {
  if (n.IsNull()) return ScalarType::null;
  if (!n.IsScalar() || n.Tag() != "?") return ScalarType::string;  // quoted or tagged
  const std::string& s = n.Scalar();
  if (s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "~") return ScalarType::null;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return ScalarType::boolean;
  }
  if (s.size() > 64) return ScalarType::string;
  if (std::regex_match(s, kInt) || std::regex_match(s, kOct) || std::regex_match(s, kHex)) {
    return ScalarType::integer;
  }
  if (std::regex_match(s, kFloat) || std::regex_match(s, kInf) || std::regex_match(s, kNan)) {
    return ScalarType::floating;
  }
  return ScalarType::string;
}

std::string_view scalar_type_name(ScalarType t) {
  switch (t) {
    case ScalarType::null:
      return "null";
    case ScalarType::boolean:
      return "a boolean";
    case ScalarType::integer:
      return "an integer";
    case ScalarType::floating:
      return "a number";
    case ScalarType::string:
      return "a string";
  }
  return "?";
}

std::string_view node_kind_name(const YAML::Node& n) {
  if (n.IsSequence()) return "a sequence";
  if (n.IsMap()) return "a mapping";
  return scalar_type_name(scalar_type(n));
}

std::optional<double> scalar_number(const YAML::Node& n) {
  const ScalarType t = scalar_type(n);
  const std::string& s = n.Scalar();
  if (t == ScalarType::integer) {
    // strtoull saturates instead of throwing; the limits checks catch the huge ones.
    if (s.rfind("0o", 0) == 0) return static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, 8));
    if (s.rfind("0x", 0) == 0) {
      return static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, 16));
    }
    return std::strtod(s.c_str(), nullptr);
  }
  if (t == ScalarType::floating) {
    if (std::regex_match(s, kNan)) return std::numeric_limits<double>::quiet_NaN();
    if (std::regex_match(s, kInf)) {
      return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                         : std::numeric_limits<double>::infinity();
    }
    return std::strtod(s.c_str(), nullptr);
  }
  return std::nullopt;
}

std::optional<std::int64_t> scalar_integer(const YAML::Node& n) {
  const auto v = scalar_number(n);
  if (!v || scalar_type(n) != ScalarType::integer) {
    // 1e3 or 2.0 are whole numbers too; accept them when exact.
    if (!v || !std::isfinite(*v) || *v != std::trunc(*v)) return std::nullopt;
  }
  if (*v > 9.0e18 || *v < -9.0e18) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

}  // namespace nodelab::script
