#include "net/error.hpp"

#include <uv.h>

#include <fmt/format.h>

namespace nodelab::net {

NetError uv_exception(int rc, std::string_view syscall, std::string_view host, int port) {
  NetError e;
  e.code = uv_err_name(rc);
  e.errno_ = rc;
  e.syscall = std::string(syscall);
  e.message = port != 0 ? fmt::format("{} {} {}:{}", syscall, e.code, host, port)
                        : fmt::format("{} {}", syscall, e.code);
  return e;
}

NetError conn_reset(std::string message) {
  NetError e;
  e.code = "ECONNRESET";
  e.message = std::move(message);
  return e;
}

NetError abort_error(std::string reason) {
  NetError e;
  e.name = "AbortError";
  e.code = "ABORT_ERR";
  e.message = "The operation was aborted";
  e.reason = std::move(reason);
  return e;
}

}  // namespace nodelab::net
