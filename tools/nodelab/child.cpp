#include "nodelab/child.hpp"

#include "all_labs.hpp"

#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace nodelab::driver {

std::vector<std::string> labs() {
  std::vector<std::string> out;
  for (const auto& lab : labs::all())
    out.push_back(lab.id);
  return out;
}

std::string lab_binary(const std::string& lab) {
  char buf[4096];
  size_t size = sizeof buf;
  if (uv_exepath(buf, &size) != 0) return {};
  const auto p = std::filesystem::path(std::string(buf, size)).parent_path() / ("lab-" + lab);
  std::error_code ec;
  return std::filesystem::exists(p, ec) ? p.string() : std::string();
}

ChildResult capture(const std::vector<std::string>& argv) {
  ChildResult r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[65536];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    r.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

nlohmann::json run_json(const std::vector<std::string>& argv) {
  const ChildResult r = capture(argv);
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception&) {
    throw std::runtime_error(argv[0] + " did not print a JSON document (exit " +
                             std::to_string(r.exit_code) + ")");
  }
}

}  // namespace nodelab::driver
