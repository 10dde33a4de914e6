# Warnings applied to conveyor's own targets (not to third-party headers).
add_library(conveyor_warnings INTERFACE)
target_compile_options(conveyor_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
