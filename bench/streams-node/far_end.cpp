// The lab's far end as a process of its own, so Node's pipeline can be measured against the
// very code the lab's pipeline writes to (labs/streams/peer.cpp: Boost.Asio, one connection on
// 127.0.0.1:<ephemeral>, reading as fast as it can, 64 KiB at a time). Prints the port, then,
// after the writer's EOF, the bytes it received:
//
//   build/bin/streams-far-end        -> 41234\n ... 1073741824\n
//   node bench/streams-node/pipeline.js BYTES HWM SOURCE --far-end 41234
#include <cstdio>
#include <future>

#include "streams/peer.hpp"

int main() {
  std::promise<std::uint64_t> received;
  nodelab::streams::Peer::Options o;
  o.kind = nodelab::streams::Peer::Kind::tcp;
  o.on_eof = [&received](std::uint64_t n) { received.set_value(n); };
  nodelab::streams::Peer peer(std::move(o));
  std::printf("%u\n", static_cast<unsigned>(peer.port()));
  std::fflush(stdout);
  peer.start();
  std::printf("%llu\n", static_cast<unsigned long long>(received.get_future().get()));
  return 0;
}
