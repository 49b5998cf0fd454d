# Generates the snakepit.v1 stubs:
#  - C++ into ${SNAKEPIT_GEN_DIR} (compiled into the snakepit_proto object library);
#  - Python into the build-tree worker package,
#    ${SNAKEPIT_BUILD_PYTHONPATH}/snakepit_worker/_gen, next to a copy of python/snakepit_worker.
# The build-tree package is what tests and examples run; the installed one is a copy of it.
set(SNAKEPIT_PROTO_ROOT "${PROJECT_SOURCE_DIR}/proto")
set(SNAKEPIT_PROTO "${SNAKEPIT_PROTO_ROOT}/snakepit/v1/worker.proto")
set(SNAKEPIT_GEN_DIR "${PROJECT_BINARY_DIR}/gen")
set(SNAKEPIT_BUILD_PYTHONPATH "${PROJECT_BINARY_DIR}/python")
set(_py_pkg "${SNAKEPIT_BUILD_PYTHONPATH}/snakepit_worker")

set(_cc_out
  "${SNAKEPIT_GEN_DIR}/snakepit/v1/worker.pb.cc" "${SNAKEPIT_GEN_DIR}/snakepit/v1/worker.pb.h"
  "${SNAKEPIT_GEN_DIR}/snakepit/v1/worker.grpc.pb.cc" "${SNAKEPIT_GEN_DIR}/snakepit/v1/worker.grpc.pb.h")
add_custom_command(
  OUTPUT ${_cc_out}
  COMMAND ${CMAKE_COMMAND} -E make_directory "${SNAKEPIT_GEN_DIR}"
  COMMAND protobuf::protoc -I "${SNAKEPIT_PROTO_ROOT}"
          --cpp_out "${SNAKEPIT_GEN_DIR}" --grpc_out "${SNAKEPIT_GEN_DIR}"
          "--plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>" "${SNAKEPIT_PROTO}"
  DEPENDS "${SNAKEPIT_PROTO}"
  COMMENT "Generating C++ stubs for snakepit.v1")

add_library(snakepit_proto OBJECT ${_cc_out})
target_include_directories(snakepit_proto PUBLIC "$<BUILD_INTERFACE:${SNAKEPIT_GEN_DIR}>")
target_link_libraries(snakepit_proto PUBLIC gRPC::grpc++ protobuf::libprotobuf)
set_target_properties(snakepit_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)
# Under ThreadSanitizer the generated code is built uninstrumented, like the
# prebuilt gRPC and protobuf libraries it is part of: it instantiates gRPC's
# callback-API templates, whose call state the calling thread sets up and a
# gRPC thread completes after a hand-off inside libgrpc that TSan cannot see
# (docs/reliability.md, "Sanitizers").
if(SNAKEPIT_SANITIZER STREQUAL "thread")
  target_compile_options(snakepit_proto PRIVATE -fno-sanitize=thread)
endif()

file(GLOB _py_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/python/snakepit_worker/*.py"
     "${PROJECT_SOURCE_DIR}/python/snakepit_worker/*.json" "${PROJECT_SOURCE_DIR}/python/snakepit_worker/py.typed")
set(_py_out "${_py_pkg}/_gen/snakepit/v1/worker_pb2.py" "${_py_pkg}/_gen/snakepit/v1/worker_pb2_grpc.py")
# The package folder is refreshed, not recreated: the native transport's
# modules (python/native) are built into it and must survive.
add_custom_command(
  OUTPUT ${_py_out} "${_py_pkg}/.copied"
  COMMAND ${CMAKE_COMMAND} -DPACKAGE=${_py_pkg} -P "${PROJECT_SOURCE_DIR}/cmake/CleanWorkerPackage.cmake"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_py_pkg}/_gen"
  COMMAND ${CMAKE_COMMAND} -E copy ${_py_sources} "${_py_pkg}/"
  COMMAND protobuf::protoc -I "${SNAKEPIT_PROTO_ROOT}"
          --python_out "${_py_pkg}/_gen" --grpc_python_out "${_py_pkg}/_gen"
          "--plugin=protoc-gen-grpc_python=${SNAKEPIT_GRPC_PYTHON_PLUGIN}" "${SNAKEPIT_PROTO}"
  COMMAND ${CMAKE_COMMAND} -E touch "${_py_pkg}/.copied"
  DEPENDS "${SNAKEPIT_PROTO}" ${_py_sources} "${PROJECT_SOURCE_DIR}/cmake/CleanWorkerPackage.cmake"
  COMMENT "Assembling the Python worker package in ${SNAKEPIT_BUILD_PYTHONPATH}")
add_custom_target(snakepit_python ALL DEPENDS ${_py_out} "${_py_pkg}/.copied")
