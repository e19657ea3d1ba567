#pragma once
// Node 20's HTTP client on the runtime's loop: http.request() / ClientRequest
// (lib/_http_client.js), IncomingMessage (lib/_http_incoming.js) and http.Agent
// (lib/_http_agent.js). Responses are parsed by Boost.Beast's response_parser fed with the
// bytes uv_read delivers; requests are written as a request line and headers.
//
// The Agent (per origin "host:port:"):
//   addRequest  a free socket of the origin is reused (lifo: the most recently freed; fifo:
//               the oldest), else a new connection if sockets + free < maxSockets and
//               totalSocketCount < maxTotalSockets, else the request waits in requests[name]
//   'free'      (the response was consumed: responseOnEnd, then emitFreeNT on nextTick) the
//               first queued request gets the socket; with none queued the socket goes to
//               the free list if keepAlive and the response allowed it (maxFreeSockets,
//               maxSockets), unref'd (an idle pooled socket does not keep the process alive)
//               and with the agent's timeout; otherwise it is destroyed
//   close       a socket that closes leaves the agent (removeSocket); if requests are queued
//               for its origin a new connection is made for the first of them
// A request's 'socket' comes on process.nextTick after the agent assigns a socket (onSocket),
// so a queued request's agent wait is the time until a socket is freed for it.
//
// ClientRequest events, in Node's order:
//   'socket' (nextTick after assignment), 'response' (in the poll callback that parsed the
//   header), 'data' chunks (the first read's on nextTick: resume_; later reads' at once),
//   'end' (nextTick: endReadableNT), 'close' (nextTick after 'end' on a kept-alive socket:
//   emitFreeNT; in the close phase when the socket is closed instead).
//   Errors: a failed connect or read destroys the socket with its error: 'error' on nextTick,
//   'close' in the close phase. The peer closing before a response: 'error' "socket hang up"
//   (ECONNRESET). destroy(err) / an aborted signal (AbortError): the socket is destroyed (the
//   server sees the disconnect), 'error', then 'close'; a request still queued in the agent
//   stays queued until a socket is free for it, then passes the socket on and errors (Node's
//   onSocketNT). The timeout option emits 'timeout' after that long without socket activity
//   and does not abort the request.
// An 'error' with no error handler is thrown, as EventEmitter#emit throws it.
//
// Use (from JS context: the main script or a runtime callback):
//   net::Agent agent(rt, net::AgentOptions::global());
//   auto req = net::request(rt, {.port = port, .agent = &agent},
//                           {.response = [](const net::IncomingMessage& m) {...},
//                            .data = [](std::string_view chunk) {...},
//                            .end = [] {...}});
// Keep the Agent alive as long as the runtime runs; its destructor closes its sockets.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/abort.hpp"
#include "net/error.hpp"
#include "net/socket.hpp"
#include "runtime/runtime.hpp"

namespace nodelab::net {

using Headers = std::vector<std::pair<std::string, std::string>>;
// The value of header `name` (case-insensitive), or empty.
std::string_view header(const Headers& h, std::string_view name);

inline constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

struct AgentOptions {
  bool keep_alive = false;
  std::chrono::milliseconds keep_alive_msecs{1000};
  std::size_t max_sockets = kUnlimited;  // per origin (Agent.defaultMaxSockets: Infinity)
  std::size_t max_free_sockets = 256;
  std::size_t max_total_sockets = kUnlimited;
  enum class Scheduling : std::uint8_t { lifo, fifo } scheduling = Scheduling::lifo;
  std::chrono::milliseconds timeout{0};  // set on free sockets; 0 = none

  // http.globalAgent in Node 20 (lib/_http_agent.js): keepAlive, lifo, timeout 5000.
  static AgentOptions global() {
    AgentOptions o;
    o.keep_alive = true;
    o.timeout = std::chrono::milliseconds(5000);
    return o;
  }
};

struct AgentStats {
  std::uint64_t sockets_created = 0;  // connections made
  std::uint64_t reuses = 0;           // requests given a free socket (req.reusedSocket)
  std::uint64_t handoffs = 0;         // queued requests given a socket freed by another
  std::uint64_t queued = 0;           // requests that waited in requests[name]
  std::size_t queue_peak = 0;         // the longest requests[name] reached
  std::size_t queue_length = 0;       // now, all origins
  std::size_t active_sockets = 0;     // sockets[name], all origins
  std::size_t free_sockets = 0;       // freeSockets[name], all origins
  std::uint64_t destroyed_free = 0;   // free sockets closed (timeout, peer closed, errors)
};

class ClientRequest;
struct ClientConnection;

class Agent {
 public:
  explicit Agent(runtime::Runtime& rt, AgentOptions options = {});
  ~Agent();  // closes its sockets without running JS
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  const AgentOptions& options() const { return options_; }
  AgentStats stats() const;
  // agent.destroy(): destroys every socket, in use or free (JS context).
  void destroy();

 private:
  friend class ClientRequest;
  friend struct ClientConnection;
  struct Origin {
    std::vector<std::shared_ptr<ClientConnection>> sockets;
    std::vector<std::shared_ptr<ClientConnection>> free;
    std::deque<std::shared_ptr<ClientRequest>> requests;
  };
  void add_request(const std::shared_ptr<ClientRequest>& req);
  std::shared_ptr<ClientConnection> create_socket(const std::string& name, const std::string& host,
                                                  std::uint16_t port, runtime::Site site);
  void set_request_socket(const std::shared_ptr<ClientRequest>& req,
                          const std::shared_ptr<ClientConnection>& conn);
  void on_free(const std::shared_ptr<ClientConnection>& conn, bool keep_alive);
  // The requests queued for a socket, over every origin: a sample (`agent queue`) that
  // --trace and --html graph.
  void sample_queue();
  void remove_socket(const std::shared_ptr<ClientConnection>& conn);
  static std::string name_of(const std::string& host, std::uint16_t port);

  runtime::Runtime& rt_;
  AgentOptions options_;
  std::map<std::string, Origin> origins_;
  std::size_t total_socket_count_ = 0;
  AgentStats stats_;
  std::shared_ptr<Agent*> alive_;  // connections hold a weak_ptr: null once the agent is gone
};

struct RequestOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string method = "GET";
  std::string path = "/";
  Headers headers;
  std::string body;  // sent with a Content-Length
  // The agent; null is `agent: false`: a connection of its own, closed after the response.
  Agent* agent = nullptr;
  std::optional<std::chrono::milliseconds> timeout;  // socket idle time before 'timeout'
  AbortSignal signal;
  std::size_t max_body_bytes = 64u << 20;    // a longer response body is an error
  std::size_t max_header_bytes = 16u << 10;  // Node's --max-http-header-size default
  runtime::Site site = 0;                    // recorded as the scheduler of the callbacks
};

struct IncomingMessage {
  int status_code = 0;
  std::string status_message;
  Headers headers;  // in the order received
  unsigned http_version = 11;
  bool keep_alive = false;  // the response lets the connection be reused
};

struct RequestHandlers {
  std::function<void()> socket;
  std::function<void(const IncomingMessage&)> response;
  std::function<void(std::string_view)> data;  // res 'data'
  std::function<void()> end;                   // res 'end'
  std::function<void()> aborted;               // res 'aborted': the body was cut off
  std::function<void()> timeout;
  std::function<void(const NetError&)> error;
  std::function<void()> close;
};

// The moments of one request on runtime::hrtime()'s clock (Nanos(-1): did not happen).
struct RequestTiming {
  runtime::Nanos created{-1};        // http.request()
  runtime::Nanos socket{-1};         // 'socket' emitted
  runtime::Nanos connect_start{-1};  // a new connection was started for it
  runtime::Nanos connected{-1};      // ... and completed
  runtime::Nanos sent{-1};           // its bytes went to a connected socket
  runtime::Nanos first_byte{-1};     // the first byte of the response was read
  runtime::Nanos response{-1};       // 'response'
  runtime::Nanos end{-1};            // 'end'
  runtime::Nanos closed{-1};         // 'close'

  static runtime::Nanos span(runtime::Nanos a, runtime::Nanos b) {
    return a.count() >= 0 && b.count() >= 0 ? b - a : runtime::Nanos(-1);
  }
  // From request() to 'socket': the wait in the agent's queue (plus one nextTick).
  runtime::Nanos agent_wait() const { return span(created, socket); }
  runtime::Nanos connect_time() const { return span(connect_start, connected); }
  // From the request on the wire to the response's first byte.
  runtime::Nanos ttfb() const { return span(sent, first_byte); }
  runtime::Nanos total() const { return span(created, closed); }
};

class ClientRequest : public std::enable_shared_from_this<ClientRequest> {
  struct Private {};

 public:
  ClientRequest(Private, runtime::Runtime& rt, RequestOptions options, RequestHandlers on);
  ~ClientRequest();
  ClientRequest(const ClientRequest&) = delete;
  ClientRequest& operator=(const ClientRequest&) = delete;

  RequestHandlers on;

  // req.destroy(err): JS context. Without an error, the request fails with "socket hang up".
  void destroy(std::optional<NetError> err = std::nullopt);
  bool destroyed() const { return destroyed_; }
  bool closed() const { return closed_; }
  bool queued() const { return queued_; }         // it waited in the agent's queue
  bool reused_socket() const { return reused_; }  // req.reusedSocket
  std::uint64_t socket_id() const { return socket_id_; }
  std::uint64_t id() const { return id_; }
  const RequestOptions& options() const { return options_; }
  const RequestTiming& timing() const { return timing_; }
  const std::optional<IncomingMessage>& response() const { return res_; }
  bool response_complete() const { return res_complete_; }
  std::uint64_t body_bytes() const { return body_bytes_; }

 private:
  friend class Agent;
  friend struct ClientConnection;
  friend std::shared_ptr<ClientRequest> request(runtime::Runtime&, RequestOptions, RequestHandlers);
  void start();
  void on_socket(const std::shared_ptr<ClientConnection>& conn);  // req.onSocket
  void on_socket_nt(const std::shared_ptr<ClientConnection>& conn);
  void emit_error(const NetError& err);
  void emit_close();
  std::string serialize() const;

  runtime::Runtime& rt_;
  RequestOptions options_;
  std::uint64_t id_;
  std::string agent_name_;
  // req.socket, once 'socket' was emitted. Weak: the connection holds the request
  // (socket._httpMessage), and the socket's close handler holds the connection.
  std::weak_ptr<ClientConnection> conn_;
  const ClientConnection* conn_raw_ = nullptr;  // which one, for identity checks
  std::optional<IncomingMessage> res_;
  std::optional<NetError> error_;  // req[kError]
  RequestTiming timing_;
  AbortSignal::ListenerId abort_listener_ = 0;
  std::uint64_t socket_id_ = 0;
  std::uint64_t body_bytes_ = 0;
  bool should_keep_alive_ = false;
  bool destroyed_ = false;
  bool closed_ = false;
  bool errored_ = false;
  bool queued_ = false;
  bool reused_ = false;
  bool res_complete_ = false;
  bool res_dumped_ = false;
};

// http.request(options): JS context. The request is sent at once (req.end()).
std::shared_ptr<ClientRequest> request(runtime::Runtime& rt, RequestOptions options,
                                       RequestHandlers on);

}  // namespace nodelab::net
