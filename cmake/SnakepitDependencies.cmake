# Every dependency comes from Debian's packages (see scripts/setup.sh).
# Protobuf ships no CMake config on Debian: module mode first.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)

find_program(SNAKEPIT_GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)
# The metrics endpoint's HTTP server and `snakepit inspect --url`'s client:
# Debian's libcpp-httplib-dev, a compiled library with a pkg-config file
# (its Cflags select the build's TLS and compression options: they must be
# used to match its ABI) and no CMake config.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SNAKEPIT_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
