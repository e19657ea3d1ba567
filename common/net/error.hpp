#pragma once
// The error objects Node's networking code hands to 'error' listeners, with the fields a lab
// prints (lib/internal/errors.js):
//   UVExceptionWithHostPort  a failed connect: message "connect ECONNREFUSED 127.0.0.1:PORT",
//                            code and errno from libuv, syscall "connect"
//   UVException              a failed read or write: "read ECONNRESET", syscall "read"
//   ConnResetException       'socket hang up' (the peer closed before the response), code
//                            ECONNRESET, no errno
//   AbortError               name 'AbortError', code 'ABORT_ERR', message 'The operation was
//                            aborted' (what an aborted AbortSignal destroys a request with)

#include <string>
#include <string_view>

#include "runtime/js_error.hpp"

namespace nodelab::net {

struct NetError {
  std::string name = "Error";
  std::string code;     // ECONNREFUSED, ECONNRESET, ABORT_ERR, ...
  std::string message;  // as err.message prints
  int errno_ = 0;       // libuv's negative errno (err.errno); 0 when the error has none
  std::string syscall;  // err.syscall; empty when none
  std::string reason;   // AbortError: the signal's reason (err.cause), as the caller gave it

  // The JavaScript error, to throw (an 'error' event without a listener): Node prints these
  // as "NAME: MESSAGE", the code being a property, not part of the name.
  runtime::JsError js() const { return {name, "", message}; }
};

// A libuv failure of `syscall` (rc < 0); with a port, "SYSCALL CODE HOST:PORT".
NetError uv_exception(int rc, std::string_view syscall, std::string_view host = {}, int port = 0);
NetError conn_reset(std::string message);  // ConnResetException
NetError abort_error(std::string reason = {});

}  // namespace nodelab::net
