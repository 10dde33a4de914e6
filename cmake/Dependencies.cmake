# Every dependency comes from Debian 12 packages installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)
find_package(Protobuf REQUIRED)   # before ONNX: its targets reference protobuf
find_package(ONNX REQUIRED)
# Debian's dnnl-config.cmake insists on OpenCL (its GPU runtime); the CPU library needs none of it.
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
find_library(DNNL_LIBRARY dnnl REQUIRED)
add_library(DNNL::dnnl SHARED IMPORTED)
set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION ${DNNL_LIBRARY}
                                            INTERFACE_INCLUDE_DIRECTORIES ${DNNL_INCLUDE_DIR})
find_package(OpenCV REQUIRED COMPONENTS core imgcodecs imgproc dnn)
find_package(TBB REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc)  # text.wordpiece: Unicode categories, lower-casing, NFD
find_package(CLI11 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(fmt REQUIRED)
find_package(Boost 1.74 REQUIRED)         # serve: Beast and Asio (header-only)
find_package(gRPC CONFIG REQUIRED)        # serve: grpc++ and grpc_cpp_plugin
find_package(PkgConfig REQUIRED)
pkg_check_modules(HWLOC REQUIRED IMPORTED_TARGET hwloc)
if(CONVEYOR_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CONVEYOR_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
