#include "api/model_bytes.hpp"

#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace conveyor {

std::string read_model_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error("model '" + path.string() + "' is not a regular file (a directory or a device?)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open model '" + path.string() + "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read model '" + path.string() + "'");
  if (bytes.str().size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::runtime_error("'" + path.string() + "' is larger than 2 GiB; store weights as external data");
  return bytes.str();
}

}  // namespace conveyor
