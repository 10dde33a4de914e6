#pragma once
#include <memory>
#include <thread>
#include <vector>

#include "serve/server_state.hpp"

namespace conveyor::serve {

// The HTTP/1.1 front end on Boost.Beast: one event loop (io_context) per thread, keep-alive connections
// holding no thread, header and body read under their own timeouts and size caps.
class HttpFrontEnd {
 public:
  // Binds host:port (0: any free port); throws std::runtime_error naming the address when it cannot.
  // Its threads run on `cpus` (empty: unpinned).
  HttpFrontEnd(ServerState& state, const std::string& host, int port, int threads, const std::vector<int>& cpus);
  ~HttpFrontEnd();
  int port() const;
  void stop_accepting();
  // Lets responses being written finish (2 s at most), closes every connection and joins the threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::serve
