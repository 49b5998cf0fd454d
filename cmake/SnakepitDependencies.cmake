# Every dependency comes from Debian's packages (see scripts/setup.sh).
# Protobuf ships no CMake config on Debian: module mode first.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)

find_program(SNAKEPIT_GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)
