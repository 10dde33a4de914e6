#pragma once
#include <gtest/gtest.h>

#include <string>

#include "conveyor/config/pipeline_config.hpp"

namespace conveyor::test {

// 1-based number of the first line of `text` containing `marker` (fails the test when there is none), so
// that expected lines come from the test's own YAML rather than from counting by hand.
inline int line_containing(const std::string& text, const std::string& marker) {
  const std::size_t at = text.find(marker);
  if (at == std::string::npos) {
    ADD_FAILURE() << "marker '" << marker << "' not in the test YAML";
    return -1;
  }
  int line = 1;
  for (std::size_t i = 0; i < at; ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

// Parses `yaml` as "pipeline.yaml" and returns the ConfigError it raises (fails the test if none).
inline ConfigError parse_error(const std::string& yaml) {
  try {
    parse_pipeline_config(yaml, "pipeline.yaml");
  } catch (const ConfigError& error) {
    return error;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "expected a ConfigError, got another exception: " << error.what();
    return ConfigError("", 0, "", "");
  }
  ADD_FAILURE() << "expected a ConfigError, the YAML parsed:\n" << yaml;
  return ConfigError("", 0, "", "");
}

}  // namespace conveyor::test
