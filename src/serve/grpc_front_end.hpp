#pragma once
#include <memory>
#include <string>
#include <vector>

#include "serve/server_state.hpp"

namespace conveyor::serve {

// The gRPC front end: inference.GRPCInferenceService on grpc++'s asynchronous API, one completion queue
// per thread.
class GrpcFrontEnd {
 public:
  // Binds host:port (0: any free port); throws std::runtime_error naming the address when it cannot.
  // Its completion-queue threads run on `cpus` (empty: unpinned); grpc++'s own threads are its own.
  GrpcFrontEnd(ServerState& state, const std::string& host, int port, int threads, const std::vector<int>& cpus);
  ~GrpcFrontEnd();
  int port() const;
  // Stops taking calls, lets calls being answered finish (2 s at most), joins the threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conveyor::serve
