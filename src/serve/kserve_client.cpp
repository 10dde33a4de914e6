#include "serve/kserve_client.hpp"

#include "serve/kserve_grpc_client.hpp"
#include "serve/kserve_http_client.hpp"

namespace conveyor::serve {

std::unique_ptr<KServeClient> make_kserve_client(const KServeUrl& url, const ClientOptions& options) {
  if (url.protocol == Protocol::kGrpc) return std::make_unique<KServeGrpcClient>(url, options);
  return std::make_unique<KServeHttpClient>(url, options);
}

}  // namespace conveyor::serve
