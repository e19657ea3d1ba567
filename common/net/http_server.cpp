// http.Server (lib/_http_server.js); the rules are listed in http_server.hpp.

#include "net/http_server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace nodelab::net {

namespace http = boost::beast::http;
using runtime::CallbackKind;
using runtime::Phase;

namespace {
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The Date header, as utcDate() writes it.
std::string http_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return {buf, n};
}
}  // namespace

// One accepted connection: the socket, its parser and the request being answered.
struct ServerConnection : std::enable_shared_from_this<ServerConnection> {
  ServerConnection(runtime::Runtime& r, std::weak_ptr<HttpServer*> s)
      : rt(r), server(std::move(s)) {}

  runtime::Runtime& rt;
  std::weak_ptr<HttpServer*> server;
  std::shared_ptr<Socket> sock;
  std::optional<http::request_parser<http::string_body>> parser;
  std::string in;
  std::shared_ptr<ServerRequest> req;
  std::shared_ptr<ServerResponse> res;
  std::uint64_t served = 0;
  bool failed = false;  // answered a parse error: nothing more is read

  HttpServer* srv() const {
    auto s = server.lock();
    return s ? *s : nullptr;
  }
  runtime::Site site() const {
    HttpServer* s = srv();
    return s ? s->options_.site : 0;
  }
  bool busy() const { return res && !res->finished_; }
  // The last event of a request or response: its handlers go with it (they may hold it).
  template <class T>
  static void emit_close(T& x) {
    if (x.closed_) return;
    x.closed_ = true;
    auto h = std::exchange(x.on, {});
    if (h.close) h.close();
  }
  void install();
  void parse();
  void bad_request(const boost::beast::error_code& ec);
  void response_done();
  void on_eof();
  void on_close();
};

void ServerConnection::install() {
  sock->on.data = [this](std::string_view b) {
    if (failed) return;
    in.append(b);
    // Bytes of the next requests wait while a response is being written: at most one
    // request's worth (header and body limits), or the client is flooding.
    if (HttpServer* s = srv();
        s != nullptr && busy() &&
        in.size() > s->options_.max_header_bytes + s->options_.max_body_bytes) {
      ++s->stats_.bad_requests;
      failed = true;
      in.clear();
      sock->destroy();
      return;
    }
    parse();
  };
  sock->on.eof = [this] { on_eof(); };
  sock->on.timeout = [this] {
    if (!busy()) sock->destroy();  // keepAliveTimeout on an idle connection
  };
  sock->on.close = [self = shared_from_this()](bool) { self->on_close(); };
}

void ServerConnection::parse() {
  const std::shared_ptr<ServerConnection> keep = shared_from_this();
  HttpServer* s = srv();
  while (s != nullptr && !sock->destroyed()) {
    if (!parser) {
      // The next request waits until the current response is finished (no pipelining
      // overlap), and for its bytes.
      if (busy() || in.empty()) return;
      parser.emplace();
      parser->header_limit(static_cast<std::uint32_t>(
          std::min<std::size_t>(s->options_.max_header_bytes, UINT32_MAX)));
      parser->body_limit(s->options_.max_body_bytes);
    }
    boost::beast::error_code ec;
    const std::size_t n = parser->put(boost::asio::buffer(in.data(), in.size()), ec);
    in.erase(0, n);
    if (ec == http::error::need_more) ec = {};
    if (ec) {
      bad_request(ec);
      return;
    }
    if (parser->is_header_done() && !req) {
      const auto& m = parser->get();
      req = std::make_shared<ServerRequest>();
      req->method = std::string(m.method_string());
      req->url = std::string(m.target());
      req->http_version = m.version();
      req->keep_alive = m.keep_alive();
      req->socket_id = sock->id();
      req->remote_port = sock->remote_port();
      for (const auto& f : m)
        req->headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      res = std::make_shared<ServerResponse>();
      res->conn_ = weak_from_this();
      res->last_ = !req->keep_alive || s->closing_;
      ++s->stats_.requests;
      if (served++ > 0) ++s->stats_.reused;
      sock->set_timeout(std::chrono::milliseconds(0));  // busy: no keep-alive timeout
      parser->eager(true);
      const auto q = req;
      const auto r = res;
      if (s->listener_) s->listener_(q, r);  // 'request'
      s = srv();
      if (s == nullptr || !parser || req != q) return;
    }
    if (req) {
      if (auto& body = parser->get().body(); !body.empty()) {
        std::string chunk = std::exchange(body, {});
        if (req->on.data) {
          req->on.data(chunk);
        } else {
          req->body += chunk;
        }
        if (!parser) return;
      }
    }
    if (parser->is_done()) {
      parser.reset();
      req->complete_ = true;
      rt.next_tick(
          [q = req] {
            if (!q->aborted_ && q->on.end) q->on.end();
          },
          site());
      return;  // the next request is parsed once this response is finished
    }
    if (n == 0) return;
  }
}

// socketOnError: an answer, then the connection ends.
void ServerConnection::bad_request(const boost::beast::error_code& ec) {
  failed = true;
  parser.reset();
  in.clear();
  if (HttpServer* s = srv()) ++s->stats_.bad_requests;
  const char* line = ec == http::error::header_limit ? "431 Request Header Fields Too Large"
                     : ec == http::error::body_limit ? "413 Payload Too Large"
                                                     : "400 Bad Request";
  if (!busy()) sock->write(fmt::format("HTTP/1.1 {}\r\nConnection: close\r\n\r\n", line));
  sock->end();
}

// resOnFinish: the connection waits for the next request, or ends.
void ServerConnection::response_done() {
  const bool last = res->last_;
  req.reset();
  HttpServer* s = srv();
  if (last || s == nullptr) {
    sock->end();
    return;
  }
  if (s->closing_) {
    sock->end();  // closeIdleConnections: it is idle now
    return;
  }
  sock->set_timeout(s->options_.keep_alive_timeout);
  parse();  // a request that came in the meantime
}

// socketOnEnd: httpAllowHalfOpen is false, so an unfinished request is aborted.
void ServerConnection::on_eof() {
  if (busy() && req && !req->aborted_) {
    req->aborted_ = true;
    if (HttpServer* s = srv()) ++s->stats_.aborted;
    if (req->on.aborted) req->on.aborted();
  }
  sock->end();
}

void ServerConnection::on_close() {
  const auto self = shared_from_this();
  if (busy() && req && !req->aborted_) {
    // A reset rather than a FIN: abortIncoming all the same.
    req->aborted_ = true;
    if (HttpServer* s = srv()) ++s->stats_.aborted;
    if (req->on.aborted) req->on.aborted();
  }
  const auto q = std::move(req);
  const auto r = std::move(res);
  if (r) emit_close(*r);  // onServerResponseClose
  if (q && !q->closed_) rt.next_tick([q] { emit_close(*q); }, site());
  parser.reset();
  if (HttpServer* s = srv()) s->connection_closed(self);
}

// ---------------------------------------------------------------------------------------
// ServerResponse

void ServerResponse::set_header(std::string name, std::string value) {
  if (head_sent_) return;
  for (auto& [k, v] : headers_) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers_.emplace_back(std::move(name), std::move(value));
}

void ServerResponse::write_head(int status, const Headers& headers) {
  if (head_sent_) return;
  status_code = status;
  for (const auto& [k, v] : headers)
    set_header(k, v);
}

std::string ServerResponse::head(bool chunked, std::size_t content_length) {
  head_sent_ = true;
  chunked_ = chunked;
  const auto r = http::obsolete_reason(static_cast<http::status>(status_code));
  const std::string_view reason(r.data(), r.size());
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status_code,
                                reason.empty() ? std::string_view("unknown") : reason);
  for (const auto& [k, v] : headers_)
    out += fmt::format("{}: {}\r\n", k, v);
  if (header(headers_, "date").empty()) out += fmt::format("Date: {}\r\n", http_date());
  if (header(headers_, "connection").empty()) {
    auto c = conn_.lock();
    HttpServer* s = c ? c->srv() : nullptr;
    if (last_ || s == nullptr) {
      out += "Connection: close\r\n";
    } else {
      out += fmt::format("Connection: keep-alive\r\nKeep-Alive: timeout={}\r\n",
                         s->options().keep_alive_timeout.count() / 1000);
    }
  } else if (iequals(header(headers_, "connection"), "close")) {
    last_ = true;
  }
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (header(headers_, "content-length").empty()) {
    out += fmt::format("Content-Length: {}\r\n", content_length);
  }
  out += "\r\n";
  return out;
}

void ServerResponse::write(std::string_view chunk) {
  if (ended_) return;
  auto c = conn_.lock();
  if (!c || c->sock->destroyed()) return;
  std::string out;
  if (!head_sent_) out = head(true, 0);
  if (!chunk.empty()) {
    if (chunked_) {
      out += fmt::format("{:x}\r\n", chunk.size());
      out.append(chunk);
      out += "\r\n";
    } else {
      out.append(chunk);
    }
  }
  c->sock->write(std::move(out));
}

void ServerResponse::end(std::string_view chunk) {
  if (ended_) return;
  ended_ = true;
  auto c = conn_.lock();
  if (!c || c->sock->destroyed()) return;
  std::string out;
  if (!head_sent_) {
    out = head(false, chunk.size());
    out.append(chunk);
  } else if (chunked_) {
    if (!chunk.empty()) {
      out += fmt::format("{:x}\r\n", chunk.size());
      out.append(chunk);
      out += "\r\n";
    }
    out += "0\r\n\r\n";
  } else {
    out.append(chunk);
  }
  c->sock->write(std::move(out));
  // 'finish', then 'close' (emitCloseNT), each on nextTick; then the connection moves on.
  c->rt.next_tick(
      [c, self = c->res] {
        if (!self || c->res != self || c->sock->destroyed()) return;
        self->finished_ = true;
        if (self->on.finish) self->on.finish();
        // The response's 'close', then the request's (it is done: clearIncoming).
        c->rt.next_tick(
            [self, q = c->req] {
              ServerConnection::emit_close(*self);
              if (q) ServerConnection::emit_close(*q);
            },
            c->site());
        c->response_done();
      },
      c->site());
}

void ServerResponse::destroy() {
  if (auto c = conn_.lock()) c->sock->destroy();
}

// ---------------------------------------------------------------------------------------
// HttpServer

HttpServer::HttpServer(runtime::Runtime& rt, RequestListener listener, ServerOptions options)
    : rt_(rt),
      listener_(std::move(listener)),
      options_(options),
      alive_(std::make_shared<HttpServer*>(this)) {}

HttpServer::~HttpServer() {
  *alive_ = nullptr;
  force_close();
}

int HttpServer::listen(std::uint16_t port, const std::string& host) {
  if (listen_) return UV_EADDRINUSE;
  if (const int rc = listen_.init(rt_.loop()); rc != 0) return rc;
  listen_->data = this;
  sockaddr_in addr{};
  int rc = uv_ip4_addr(host == "localhost" ? "127.0.0.1" : host.c_str(), port, &addr);
  if (rc == 0) rc = uv_tcp_bind(listen_.get(), reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc == 0) rc = uv_listen(listen_.stream(), 511, &HttpServer::on_connection);
  if (rc != 0) {
    listen_.close();
    return rc;
  }
  sockaddr_storage a{};
  int len = sizeof a;
  uv_tcp_getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(reinterpret_cast<const sockaddr_in*>(&a)->sin_port);
  if (!tracked_) {
    tracked_ = true;
    track(rt_, this);
  }
  closing_ = false;
  close_emitted_ = false;
  return 0;
}

void HttpServer::on_connection(uv_stream_t* s, int status) {
  auto* self = static_cast<HttpServer*>(s->data);
  if (status < 0) return;
  self->rt_.io_callback(Phase::poll, CallbackKind::io, self->options_.site,
                        [self] { self->accept(); });
}

// onconnection
void HttpServer::accept() {
  if (!listen_) return;
  auto sock = Socket::accept(rt_, listen_.stream(), options_.site);
  if (!sock) return;
  if (connections_.size() >= options_.max_connections) {
    ++stats_.rejected;
    sock->destroy();  // over maxConnections: dropped
    return;
  }
  auto c = std::make_shared<ServerConnection>(rt_, alive_);
  c->sock = std::move(sock);
  c->install();
  connections_.insert(c);
  ++stats_.connections;
  stats_.peak_connections = std::max(stats_.peak_connections, connections_.size());
}

void HttpServer::connection_closed(const std::shared_ptr<ServerConnection>& c) {
  connections_.erase(c);
  emit_close_if_drained();
}

void HttpServer::emit_close_if_drained() {
  if (!closing_ || close_emitted_ || !connections_.empty()) return;
  close_emitted_ = true;
  if (tracked_) {
    tracked_ = false;
    untrack(rt_, this);
  }
  rt_.next_tick(
      [alive = alive_] {
        HttpServer* s = *alive;
        if (s == nullptr) return;
        if (auto cb = std::exchange(s->on_close_, {})) cb();
      },
      options_.site);
}

void HttpServer::close(std::function<void()> on_close) {
  if (on_close) on_close_ = std::move(on_close);
  closing_ = true;
  listen_.close();
  close_idle_connections();
  emit_close_if_drained();
}

void HttpServer::close_idle_connections() {
  std::vector<std::shared_ptr<ServerConnection>> idle;
  for (const auto& c : connections_)
    if (!c->busy()) idle.push_back(c);
  for (auto& c : idle)
    c->sock->destroy();
}

void HttpServer::close_all_connections() {
  const std::vector<std::shared_ptr<ServerConnection>> all(connections_.begin(),
                                                           connections_.end());
  for (const auto& c : all)
    c->sock->destroy();
}

ServerStats HttpServer::stats() const {
  ServerStats s = stats_;
  s.open_connections = connections_.size();
  return s;
}

void HttpServer::force_close() noexcept {
  listen_.close();
  const std::vector<std::shared_ptr<ServerConnection>> all(connections_.begin(),
                                                           connections_.end());
  connections_.clear();
  for (const auto& c : all)
    c->sock->force_close();
  if (tracked_) {
    tracked_ = false;
    untrack(rt_, this);
  }
}

}  // namespace nodelab::net
