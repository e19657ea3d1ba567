#pragma once
// Node 20's http.Server on the runtime's loop (lib/_http_server.js, lib/net.js Server): a
// listening uv_tcp_t, one connection per accepted socket, each request parsed by Boost.Beast's
// request_parser from the bytes uv_read delivers, the response written as a status line and
// headers (Content-Length for end(body) alone, chunked after write()).
//
// What a lab sees, in Node's order:
//   connection      accepted in a poll callback (onconnection); beyond maxConnections the
//                   socket is destroyed at once (counted as rejected)
//   'request'       the listener(req, res) runs in the poll callback that parsed the header
//   req 'data'      body chunks, as parsed; req 'end' on nextTick once the body is complete
//   res.end()       writes the response; 'finish' on nextTick, then res 'close' on nextTick;
//                   the connection then waits for the next request (keep-alive, idle time
//                   keepAliveTimeout: 5 s), or is ended if either side said Connection: close
//   disconnect      the client went away before the response finished (its FIN: socketOnEnd
//                   with httpAllowHalfOpen false, or a reset): req 'aborted' at once, then res
//                   'close' and req 'close' when the socket has closed (close phase)
//   close()         stops listening and closes idle connections (Node >= 19); busy ones
//                   finish their response with Connection: close; 'close' on nextTick once no
//                   connection is left
//   bad input       a parse error answers 400 (431 for a header over the limit, 413 for a
//                   body over the limit) with Connection: close, as socketOnError does
// The listening handle keeps the loop alive (the process does not exit while a server
// listens); so do its connections.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "net/http_client.hpp"
#include "net/socket.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::net {

struct ServerOptions {
  std::size_t max_connections = 1024;                  // server.maxConnections
  std::size_t max_header_bytes = 16u << 10;            // --max-http-header-size
  std::size_t max_body_bytes = 1u << 20;               // a longer request body is answered 413
  std::chrono::milliseconds keep_alive_timeout{5000};  // server.keepAliveTimeout
  runtime::Site site = 0;
};

struct ServerStats {
  std::uint64_t connections = 0;  // accepted and kept
  std::uint64_t rejected = 0;     // dropped over maxConnections
  std::uint64_t requests = 0;
  std::uint64_t reused = 0;   // requests on a connection that served one before (keep-alive)
  std::uint64_t aborted = 0;  // requests whose client left before the response finished
  std::uint64_t bad_requests = 0;
  std::size_t open_connections = 0;
  std::size_t peak_connections = 0;
};

class ServerRequest {
 public:
  std::string method;
  std::string url;
  Headers headers;
  unsigned http_version = 11;
  bool keep_alive = true;  // what the client asked for
  std::uint64_t socket_id = 0;
  std::uint16_t remote_port = 0;
  std::string body;  // the body so far, when no 'data' handler takes it

  struct Handlers {
    std::function<void(std::string_view)> data;
    std::function<void()> end;
    std::function<void()> aborted;
    std::function<void()> close;
  } on;
  bool complete() const { return complete_; }
  bool aborted() const { return aborted_; }

 private:
  friend struct ServerConnection;
  bool complete_ = false;
  bool aborted_ = false;
  bool closed_ = false;
};

class ServerResponse {
 public:
  int status_code = 200;
  // res.setHeader before the head is written.
  void set_header(std::string name, std::string value);
  // res.writeHead(status, headers).
  void write_head(int status, const Headers& headers = {});
  void write(std::string_view chunk);
  void end(std::string_view chunk = {});
  // res.destroy(): the connection is destroyed (the client sees it closed).
  void destroy();

  bool headers_sent() const { return head_sent_; }
  bool writable_ended() const { return ended_; }
  bool finished() const { return finished_; }  // writableFinished ('finish' emitted)

  struct Handlers {
    std::function<void()> finish;
    std::function<void()> close;
  } on;

 private:
  friend struct ServerConnection;
  std::string head(bool chunked, std::size_t content_length);
  std::weak_ptr<struct ServerConnection> conn_;
  Headers headers_;
  bool head_sent_ = false;
  bool chunked_ = false;
  bool ended_ = false;
  bool finished_ = false;
  bool closed_ = false;
  bool last_ = false;  // Connection: close
};

using RequestListener = std::function<void(const std::shared_ptr<ServerRequest>&,
                                           const std::shared_ptr<ServerResponse>&)>;

class HttpServer : public Closable {
 public:
  HttpServer(runtime::Runtime& rt, RequestListener listener, ServerOptions options = {});
  ~HttpServer();  // closes everything left without running JS
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // server.listen(port, host): binds at once; 0 or libuv's error. Port 0: an ephemeral one.
  int listen(std::uint16_t port = 0, const std::string& host = "127.0.0.1");
  std::uint16_t port() const { return port_; }
  bool listening() const { return static_cast<bool>(listen_); }
  // server.close(cb): JS context.
  void close(std::function<void()> on_close = {});
  void close_idle_connections();
  void close_all_connections();
  ServerStats stats() const;
  const ServerOptions& options() const { return options_; }
  void force_close() noexcept override;

 private:
  friend struct ServerConnection;
  static void on_connection(uv_stream_t* s, int status);
  void accept();
  void connection_closed(const std::shared_ptr<ServerConnection>& c);
  void emit_close_if_drained();

  runtime::Runtime& rt_;
  RequestListener listener_;
  ServerOptions options_;
  uv::Handle<uv_tcp_t> listen_;
  std::uint16_t port_ = 0;
  std::set<std::shared_ptr<ServerConnection>> connections_;
  std::function<void()> on_close_;
  bool closing_ = false;
  bool close_emitted_ = false;
  bool tracked_ = false;
  ServerStats stats_;
  std::shared_ptr<HttpServer*> alive_;
};

}  // namespace nodelab::net
