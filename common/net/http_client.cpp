// http.request, ClientRequest and http.Agent (lib/_http_client.js, lib/_http_agent.js); the
// rules are listed in http_client.hpp and docs/node-semantics.md ("HTTP client and Agent").

#include "net/http_client.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace nodelab::net {

namespace http = boost::beast::http;
using runtime::hrtime;
using runtime::Nanos;

namespace {
std::uint64_t next_request_id = 1;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

std::string_view header(const Headers& h, std::string_view name) {
  for (const auto& [k, v] : h)
    if (iequals(k, name)) return v;
  return {};
}

// ---------------------------------------------------------------------------------------
// One client socket with its HTTP state: net.Socket + its parser + socket._httpMessage.

struct ClientConnection : std::enable_shared_from_this<ClientConnection> {
  explicit ClientConnection(runtime::Runtime& r) : rt(r) {}

  runtime::Runtime& rt;
  std::shared_ptr<Socket> sock;
  std::weak_ptr<Agent*> agent;  // empty for `agent: false`, expired once the agent is gone
  std::string name;             // the agent's origin key
  std::shared_ptr<ClientRequest> req;
  std::optional<http::response_parser<http::string_body>> parser;
  std::string in;  // bytes read, not yet consumed by the parser
  Nanos connect_start{-1};
  Nanos connected{-1};
  std::uint64_t served = 0;      // requests given this socket
  bool last_keep_alive = false;  // the last request it served allowed keep-alive
  // The response being delivered: IncomingMessage's readable side.
  std::vector<std::string> chunks;  // before the first flow
  bool flow_scheduled = false;
  bool flowing = false;
  bool end_scheduled = false;

  Agent* agent_ptr() const {
    auto a = agent.lock();
    return a ? *a : nullptr;
  }
  void install();
  void on_data(std::string_view bytes);
  void parse();
  void deliver(std::string chunk);
  void message_complete();
  void schedule_end();
  void on_end_nt();
  void on_free_nt();
  void on_eof();
  void on_close(bool had_error);
  void reset_response(const ClientRequest& r);
};

void ClientConnection::reset_response(const ClientRequest& r) {
  parser.emplace();
  parser->eager(true);
  parser->header_limit(
      static_cast<std::uint32_t>(std::min<std::size_t>(r.options_.max_header_bytes, UINT32_MAX)));
  parser->body_limit(r.options_.max_body_bytes);
  if (iequals(r.options_.method, "HEAD")) parser->skip(true);
  chunks.clear();
  flow_scheduled = flowing = end_scheduled = false;
}

// The listeners Agent#createSocket (installListeners) and tickOnSocket put on a socket.
void ClientConnection::install() {
  sock->on.connect = [this] {
    connected = hrtime();
    if (req && req->conn_raw_ == this) {
      req->timing_.connected = connected;
      req->timing_.sent = connected;  // the request waited in the socket's write buffer
    }
  };
  sock->on.data = [this](std::string_view b) { on_data(b); };
  sock->on.eof = [this] { on_eof(); };
  sock->on.error = [this](const NetError& e) {
    // socketErrorListener: the request gets the error; on a free socket,
    // freeSocketErrorListener only destroys it (done).
    if (req && req->conn_raw_ == this) req->emit_error(e);
  };
  sock->on.timeout = [this] {
    if (req && req->conn_raw_ == this) {
      if (req->on.timeout) req->on.timeout();
      return;
    }
    // Agent onTimeout: a free socket that times out is destroyed.
    if (!req) sock->destroy();
  };
  // The socket's 'close' handler owns the connection until the socket is gone.
  sock->on.close = [self = shared_from_this()](bool had_error) { self->on_close(had_error); };
}

void ClientConnection::on_data(std::string_view bytes) {
  if (!req || req->conn_raw_ != this || !parser) {
    // Bytes nobody asked for (on a free socket): the parser is gone, Node destroys it.
    sock->destroy();
    return;
  }
  if (req->timing_.first_byte.count() < 0) req->timing_.first_byte = hrtime();
  in.append(bytes);
  parse();
}

void ClientConnection::parse() {
  const std::shared_ptr<ClientRequest> r = req;  // a handler may drop the connection's hold
  while (parser && !parser->is_done()) {
    boost::beast::error_code ec;
    const std::size_t n = parser->put(boost::asio::buffer(in.data(), in.size()), ec);
    in.erase(0, n);
    if (ec == http::error::need_more) ec = {};
    if (ec) {
      // Node: socketOnData's parser error destroys the socket with an HPE_* error.
      NetError e;
      e.code = ec == http::error::body_limit     ? "HPE_BODY_LIMIT"
               : ec == http::error::header_limit ? "HPE_HEADER_OVERFLOW"
                                                 : "HPE_INVALID";
      e.message = "Parse Error: " + ec.message();
      parser.reset();
      sock->destroy(e);
      return;
    }
    if (parser->is_header_done() && !r->res_) {
      const auto& m = parser->get();
      IncomingMessage res;
      res.status_code = static_cast<int>(m.result_int());
      res.status_message = std::string(m.reason());
      res.http_version = m.version();
      res.keep_alive = m.keep_alive();
      for (const auto& f : m)
        res.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      // parserOnIncomingClient: the server must say keep-alive for the socket to be reused.
      if (r->should_keep_alive_ && !res.keep_alive) r->should_keep_alive_ = false;
      r->res_ = std::move(res);
      r->timing_.response = hrtime();
      if (!r->res_dumped_ && r->on.response) r->on.response(*r->res_);
      if (!parser) return;  // the handler destroyed the request
    }
    if (auto& body = parser->get().body(); !body.empty()) deliver(std::exchange(body, {}));
    if (n == 0) break;
  }
  if (parser && parser->is_done()) message_complete();
}

void ClientConnection::deliver(std::string chunk) {
  req->body_bytes_ += chunk.size();
  if (req->res_dumped_) return;
  if (flowing) {
    if (req->on.data) req->on.data(chunk);
    return;
  }
  chunks.push_back(std::move(chunk));
  if (flow_scheduled) return;
  flow_scheduled = true;
  // res.on('data') resumes the stream on process.nextTick (resume_ then flow()).
  rt.next_tick(
      [self = shared_from_this(), r = req] {
        if (self->req != r) return;
        self->flowing = true;
        for (auto& c : std::exchange(self->chunks, {})) {
          if (r->res_dumped_) break;
          if (r->on.data) r->on.data(c);
        }
        if (r->res_complete_ && !self->end_scheduled) self->schedule_end();
      },
      req->options_.site);
}

void ClientConnection::message_complete() {
  parser.reset();
  req->res_complete_ = true;
  // push(null): once the buffered chunks are delivered, 'end' on nextTick (endReadableNT).
  if (flowing) {
    schedule_end();
  } else if (!flow_scheduled) {
    // No body: resume_ still runs first, then endReadableNT.
    flow_scheduled = true;
    rt.next_tick(
        [self = shared_from_this(), r = req] {
          if (self->req != r) return;
          self->flowing = true;
          if (!self->end_scheduled) self->schedule_end();
        },
        req->options_.site);
  }
}

void ClientConnection::schedule_end() {
  end_scheduled = true;
  rt.next_tick(
      [self = shared_from_this(), r = req] {
        if (self->req == r) self->on_end_nt();
      },
      req->options_.site);
}

// res 'end': responseOnEnd first (it was added before the user's listener), then the user's.
void ClientConnection::on_end_nt() {
  const std::shared_ptr<ClientRequest> r = req;
  r->timing_.end = hrtime();
  if (!r->should_keep_alive_) {
    sock->destroy();  // destroySoon(): the request's 'close' comes with the socket's
  } else {
    // responseKeepAlive: the request is done; 'close' and the socket's 'free' on nextTick.
    r->destroyed_ = true;
    rt.next_tick(
        [self = shared_from_this(), r] {
          if (self->req == r) self->on_free_nt();
        },
        r->options_.site);
  }
  if (!r->res_dumped_ && r->on.end) r->on.end();
}

// emitFreeNT: req 'close', then socket 'free' (the Agent's handler).
void ClientConnection::on_free_nt() {
  const std::shared_ptr<ClientRequest> r = std::move(req);
  const bool keep_alive = r->should_keep_alive_;
  last_keep_alive = keep_alive;
  r->emit_close();
  Agent* a = agent_ptr();
  if (a == nullptr) {
    sock->destroy();
    return;
  }
  a->on_free(shared_from_this(), keep_alive);
}

// socketOnEnd (on nextTick after the EOF read).
void ClientConnection::on_eof() {
  if (req && req->conn_raw_ == this) {
    if (parser && parser->need_eof()) {
      boost::beast::error_code ec;
      parser->put_eof(ec);  // a body delimited by the connection's end is complete
      if (!ec && parser->is_done()) {
        if (auto& body = parser->get().body(); !body.empty()) deliver(std::exchange(body, {}));
        message_complete();
      }
    }
    if (!req->res_ && !sock->had_error()) {
      sock->mark_error();
      req->emit_error(conn_reset("socket hang up"));
    }
  }
  sock->destroy();
}

// The socket closed: the Agent's onClose (removeSocket) first, then socketCloseListener.
void ClientConnection::on_close(bool had_error) {
  if (Agent* a = agent_ptr()) a->remove_socket(shared_from_this());
  const std::shared_ptr<ClientRequest> r = std::move(req);
  parser.reset();
  if (!r) return;
  if (r->conn_raw_ != this) return;  // assigned but 'socket' not emitted: onSocketNT decides
  r->destroyed_ = true;
  if (r->res_) {
    if (!r->res_complete_) {
      r->res_dumped_ = true;
      if (r->on.aborted) r->on.aborted();  // res.destroy(connResetException('aborted'))
    }
  } else if (!had_error && !r->errored_) {
    r->emit_error(conn_reset("socket hang up"));
  }
  r->emit_close();
}

// ---------------------------------------------------------------------------------------
// Agent

Agent::Agent(runtime::Runtime& rt, AgentOptions options)
    : rt_(rt), options_(options), alive_(std::make_shared<Agent*>(this)) {
  if (options_.max_sockets == 0) options_.max_sockets = kUnlimited;  // `|| Infinity`
  if (options_.max_free_sockets == 0) options_.max_free_sockets = 256;
}

Agent::~Agent() {
  *alive_ = nullptr;
  for (auto& [name, o] : origins_) {
    for (auto& c : o.sockets)
      c->sock->force_close();
    for (auto& c : o.free)
      c->sock->force_close();
  }
}

std::string Agent::name_of(const std::string& host, std::uint16_t port) {
  return fmt::format("{}:{}:", host.empty() ? "localhost" : host, port);
}

AgentStats Agent::stats() const {
  AgentStats s = stats_;
  s.queue_length = s.active_sockets = s.free_sockets = 0;
  for (const auto& [name, o] : origins_) {
    s.queue_length += o.requests.size();
    s.active_sockets += o.sockets.size();
    s.free_sockets += o.free.size();
  }
  return s;
}

void Agent::destroy() {
  std::vector<std::shared_ptr<ClientConnection>> all;
  for (auto& [name, o] : origins_) {
    all.insert(all.end(), o.free.begin(), o.free.end());
    all.insert(all.end(), o.sockets.begin(), o.sockets.end());
  }
  for (auto& c : all)
    c->sock->destroy();
}

void Agent::add_request(const std::shared_ptr<ClientRequest>& req) {
  const std::string& name = req->agent_name_;
  Origin& o = origins_[name];
  std::shared_ptr<ClientConnection> conn;
  while (!o.free.empty() && o.free.front()->sock->destroyed())
    o.free.erase(o.free.begin());
  if (!o.free.empty()) {
    if (options_.scheduling == AgentOptions::Scheduling::fifo) {
      conn = o.free.front();
      o.free.erase(o.free.begin());
    } else {
      conn = o.free.back();
      o.free.pop_back();
    }
  }
  const std::size_t sock_len = o.free.size() + o.sockets.size();
  if (conn) {
    // reuseSocket: ref() it again; the request knows it got a used one.
    conn->sock->ref();
    req->reused_ = true;
    ++stats_.reuses;
    set_request_socket(req, conn);
    o.sockets.push_back(conn);
    ++total_socket_count_;
  } else if (sock_len < options_.max_sockets && total_socket_count_ < options_.max_total_sockets) {
    conn = create_socket(name, req->options_.host, req->options_.port, req->options_.site);
    set_request_socket(req, conn);
  } else {
    req->queued_ = true;
    ++stats_.queued;
    o.requests.push_back(req);
    stats_.queue_peak = std::max(stats_.queue_peak, o.requests.size());
    sample_queue();
  }
}

void Agent::sample_queue() {
  std::size_t n = 0;
  for (const auto& [name, o] : origins_)
    n += o.requests.size();
  rt_.sample("agent queue", static_cast<double>(n));
}

std::shared_ptr<ClientConnection> Agent::create_socket(const std::string& name,
                                                       const std::string& host, std::uint16_t port,
                                                       runtime::Site site) {
  auto conn = std::make_shared<ClientConnection>(rt_);
  conn->agent = alive_;
  conn->name = name;
  conn->connect_start = hrtime();
  conn->sock = Socket::connect(rt_, host, port, site);
  conn->install();
  // createConnection({...req options, ...agent options}): the agent's timeout; a request's
  // own comes with setRequestSocket.
  if (options_.timeout.count() > 0) conn->sock->set_timeout(options_.timeout);
  origins_[name].sockets.push_back(conn);
  ++total_socket_count_;
  ++stats_.sockets_created;
  return conn;
}

void Agent::set_request_socket(const std::shared_ptr<ClientRequest>& req,
                               const std::shared_ptr<ClientConnection>& conn) {
  req->on_socket(conn);
  const auto agent_timeout = options_.timeout;
  if (!req->options_.timeout || *req->options_.timeout == agent_timeout) return;
  conn->sock->set_timeout(*req->options_.timeout);
}

// The Agent's 'free' handler.
void Agent::on_free(const std::shared_ptr<ClientConnection>& conn, bool keep_alive) {
  Socket& s = *conn->sock;
  if (!s.writable()) {
    s.destroy();
    return;
  }
  Origin& o = origins_[conn->name];
  if (!o.requests.empty()) {
    std::shared_ptr<ClientRequest> req = std::move(o.requests.front());
    o.requests.pop_front();
    sample_queue();
    ++stats_.handoffs;
    set_request_socket(req, conn);
    return;
  }
  if (!keep_alive || !options_.keep_alive) {
    s.destroy();
    return;
  }
  const std::size_t free_len = o.free.size();
  const std::size_t count = free_len + o.sockets.size();
  if (total_socket_count_ > options_.max_total_sockets || count > options_.max_sockets ||
      free_len >= options_.max_free_sockets) {
    s.destroy();
    return;
  }
  // keepSocketAlive: unref'd (a pooled socket does not keep the process alive), the agent's
  // timeout.
  s.unref();
  if (s.timeout() != options_.timeout) s.set_timeout(options_.timeout);
  remove_socket(conn);
  o.free.push_back(conn);
}

// removeSocket: out of sockets (and of the free list once it is not writable); a queued
// request then gets a new connection.
void Agent::remove_socket(const std::shared_ptr<ClientConnection>& conn) {
  auto found = origins_.find(conn->name);
  if (found == origins_.end()) return;
  Origin& o = found->second;
  auto drop = [&](std::vector<std::shared_ptr<ClientConnection>>& v) {
    auto it = std::find(v.begin(), v.end(), conn);
    if (it == v.end()) return;
    v.erase(it);
    // Node decrements for either list (a free socket that closes counts twice; as Node).
    if (total_socket_count_ > 0) --total_socket_count_;
  };
  drop(o.sockets);
  if (!conn->sock->writable()) drop(o.free);

  std::shared_ptr<ClientRequest> req;
  std::string name;
  if (!o.requests.empty()) {
    req = o.requests.front();
    name = conn->name;
  } else {
    // Another origin's queued request, if that origin has no socket at all (Node's loop
    // looks at the first origin with a queue only).
    for (auto& [n, other] : origins_) {
      if (other.requests.empty()) continue;
      if (!other.sockets.empty()) break;
      req = other.requests.front();
      name = n;
      break;
    }
  }
  if (!req) return;
  // createSocket, then the new socket's 'free' gives it to the first queued request.
  auto fresh = create_socket(name, req->options_.host, req->options_.port, req->options_.site);
  on_free(fresh, false);
}

// ---------------------------------------------------------------------------------------
// ClientRequest

ClientRequest::ClientRequest(Private, runtime::Runtime& rt, RequestOptions options,
                             RequestHandlers handlers)
    : on(std::move(handlers)), rt_(rt), options_(std::move(options)), id_(next_request_id++) {}

ClientRequest::~ClientRequest() {
  if (abort_listener_ != 0) options_.signal.remove_listener(abort_listener_);
}

std::shared_ptr<ClientRequest> request(runtime::Runtime& rt, RequestOptions options,
                                       RequestHandlers on) {
  auto req = std::make_shared<ClientRequest>(ClientRequest::Private{}, rt, std::move(options),
                                             std::move(on));
  req->start();
  return req;
}

void ClientRequest::start() {
  timing_.created = hrtime();
  if (options_.host == "localhost") options_.host = "127.0.0.1";
  Agent* agent = options_.agent;
  // A keep-alive request only when the agent would ever reuse the socket.
  should_keep_alive_ = agent != nullptr &&
                       (agent->options().keep_alive || agent->options().max_sockets != kUnlimited);
  if (options_.signal) {
    // addAbortSignal: an aborted signal destroys the request with an AbortError.
    std::weak_ptr<ClientRequest> weak = shared_from_this();
    auto on_abort = [weak, signal = options_.signal] {
      if (auto self = weak.lock()) self->destroy(abort_error(signal.reason()));
    };
    if (options_.signal.aborted()) {
      on_abort();
    } else {
      abort_listener_ = options_.signal.add_listener(on_abort);
    }
  }
  if (agent != nullptr) {
    agent_name_ = Agent::name_of(options_.host, options_.port);
    agent->add_request(shared_from_this());
    return;
  }
  auto conn = std::make_shared<ClientConnection>(rt_);
  conn->connect_start = hrtime();
  conn->sock = Socket::connect(rt_, options_.host, options_.port, options_.site);
  conn->install();
  if (options_.timeout) conn->sock->set_timeout(*options_.timeout);  // net.connect({timeout})
  on_socket(conn);
}

// req.onSocket(socket): the rest on process.nextTick.
void ClientRequest::on_socket(const std::shared_ptr<ClientConnection>& conn) {
  conn->req = shared_from_this();
  rt_.next_tick([self = shared_from_this(), conn] { self->on_socket_nt(conn); }, options_.site);
}

void ClientRequest::on_socket_nt(const std::shared_ptr<ClientConnection>& conn) {
  if (conn->req.get() != this) return;
  if (destroyed_) {
    // onSocketNT of a request destroyed before it got its socket.
    conn->req.reset();
    Agent* agent = conn->agent_ptr();
    auto finish = [self = shared_from_this()] {
      NetError err = self->error_ ? *self->error_ : conn_reset("socket hang up");
      self->emit_error(err);
      self->emit_close();
    };
    if (agent != nullptr && !conn->sock->destroyed()) {
      // socket.emit('free'): to the next queued request, else pooled as its last request
      // (socket._httpMessage) allows.
      agent->on_free(conn, conn->last_keep_alive);
      finish();
    } else {
      // finished(socket.destroy(err)): the request's 'error' and 'close' wait for the socket.
      conn->sock->on.close = [conn, finish](bool) {
        if (Agent* a = conn->agent_ptr()) a->remove_socket(conn);
        finish();
      };
      conn->sock->destroy();
    }
    return;
  }
  // tickOnSocket
  conn_ = conn;
  conn_raw_ = conn.get();
  socket_id_ = conn->sock->id();
  ++conn->served;
  conn->in.clear();
  conn->reset_response(*this);
  if (conn->served == 1) {
    timing_.connect_start = conn->connect_start;
    timing_.connected = conn->connected;
  }
  timing_.socket = hrtime();
  if (on.socket) on.socket();
  if (destroyed_ || conn_raw_ == nullptr) return;  // destroyed by a 'socket' listener
  conn->sock->write(serialize());                  // req._flush()
  if (!conn->sock->connecting() && !conn->sock->destroyed()) timing_.sent = hrtime();
}

std::string ClientRequest::serialize() const {
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", options_.method, options_.path);
  if (header(options_.headers, "host").empty())
    out += fmt::format("Host: {}:{}\r\n", options_.host, options_.port);
  for (const auto& [k, v] : options_.headers)
    out += fmt::format("{}: {}\r\n", k, v);
  if (header(options_.headers, "connection").empty())
    out += should_keep_alive_ ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  if (!options_.body.empty() && header(options_.headers, "content-length").empty())
    out += fmt::format("Content-Length: {}\r\n", options_.body.size());
  out += "\r\n";
  out += options_.body;
  return out;
}

void ClientRequest::destroy(std::optional<NetError> err) {
  if (destroyed_) return;
  destroyed_ = true;
  if (res_) res_dumped_ = true;  // res._dump(): no more response data
  error_ = err;
  if (auto conn = conn_.lock()) conn->sock->destroy(std::move(err));  // this.socket?.destroy(err)
}

void ClientRequest::emit_error(const NetError& err) {
  if (closed_) return;
  errored_ = true;
  if (on.error) {
    on.error(err);
    return;
  }
  throw runtime::JsThrow(err.js());  // emit('error') without a listener
}

void ClientRequest::emit_close() {
  if (closed_) return;
  closed_ = true;
  destroyed_ = true;
  timing_.closed = hrtime();
  if (abort_listener_ != 0) {
    options_.signal.remove_listener(abort_listener_);
    abort_listener_ = 0;
  }
  conn_.reset();
  conn_raw_ = nullptr;
  // The last event: the handlers go (they may hold this request).
  auto h = std::exchange(on, {});
  if (h.close) h.close();
}

}  // namespace nodelab::net
