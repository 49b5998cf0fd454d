# install() rules and the exported CMake package:
#   find_package(snakepit CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE snakepit::snakepit)
#
# Installed tree (relative to the prefix; lib/ and share/ follow GNUInstallDirs):
#   include/snakepit/*.h                public headers (no gRPC/protobuf header)
#   lib/libsnakepit.a                   the static library, or with SNAKEPIT_SHARED
#   lib/libsnakepit.so.0.1.0            the shared one (and its .so.0.1, .so links)
#   lib/cmake/snakepit/                 snakepitConfig.cmake, ...ConfigVersion.cmake,
#                                       snakepitTargets*.cmake
#   share/snakepit/python/snakepit_worker/   the Python worker package with its
#                                       generated stubs (_gen/), .pyc files only
#                                       for the free-threaded interpreter if one
#                                       was found, and the native transport's modules
#                                       (_native<EXT_SUFFIX>, one per interpreter)
#
# The prefix is not fixed at build time: snakepitConfig.cmake computes where
# the worker package is from its own location and hands that path to the
# consumer's program (see cmake/snakepitConfig.cmake.in), so an install with
# `cmake --install build --prefix /anywhere`, or a tree moved after
# installing, still starts workers with no SNAKEPIT_PYTHONPATH set.
include(CMakePackageConfigHelpers)

set(SNAKEPIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/snakepit")
set(SNAKEPIT_INSTALL_PYTHONDIR "${CMAKE_INSTALL_DATADIR}/snakepit/python")

# gRPC and protobuf are PRIVATE dependencies; being a static archive, the
# export lists them as $<LINK_ONLY:...>, so consumers link them without
# seeing their headers.
install(TARGETS snakepit EXPORT snakepitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET snakepit_cli)
  install(TARGETS snakepit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/snakepit" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY "${SNAKEPIT_BUILD_PYTHONPATH}/snakepit_worker"
  DESTINATION "${SNAKEPIT_INSTALL_PYTHONDIR}"
  PATTERN "__pycache__" EXCLUDE
  PATTERN "*.pyc" EXCLUDE
  PATTERN ".copied" EXCLUDE
  PATTERN "_native.*" EXCLUDE)
get_property(_snakepit_native_targets GLOBAL PROPERTY SNAKEPIT_NATIVE_TARGETS)
foreach(_target IN LISTS _snakepit_native_targets)
  install(TARGETS ${_target} LIBRARY DESTINATION "${SNAKEPIT_INSTALL_PYTHONDIR}/snakepit_worker")
endforeach()
# Byte-compiled for the free-threaded interpreter, in place: 3.13t runs
# code compiled from source with mortal constants that its threads contend
# on, and workers started from a read-only tree (or with
# PYTHONDONTWRITEBYTECODE=1) never write the .pyc files that fix it
# (docs/free-threading.md). Compiled after copying, so each .pyc records
# its installed source's time stamp; DESTDIR is honoured. The .pyc files
# are not in install_manifest.txt.
if(SNAKEPIT_FT_PYTHON)
  install(CODE "
    cmake_path(APPEND CMAKE_INSTALL_PREFIX \"${SNAKEPIT_INSTALL_PYTHONDIR}/snakepit_worker\" OUTPUT_VARIABLE _snakepit_pkg)
    message(STATUS \"Byte-compiling: \$ENV{DESTDIR}\${_snakepit_pkg} for ${SNAKEPIT_FT_PYTHON}\")
    execute_process(COMMAND \"${SNAKEPIT_FT_PYTHON}\" -m compileall -q \"\$ENV{DESTDIR}\${_snakepit_pkg}\"
      COMMAND_ERROR_IS_FATAL ANY)")
endif()
install(EXPORT snakepitTargets NAMESPACE snakepit:: DESTINATION "${SNAKEPIT_INSTALL_CMAKEDIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/snakepitConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/snakepitConfig.cmake"
  INSTALL_DESTINATION "${SNAKEPIT_INSTALL_CMAKEDIR}"
  PATH_VARS SNAKEPIT_INSTALL_PYTHONDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/snakepitConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/snakepitConfig.cmake" "${PROJECT_BINARY_DIR}/snakepitConfigVersion.cmake"
  DESTINATION "${SNAKEPIT_INSTALL_CMAKEDIR}")

# pkg-config (cmake/snakepit.pc.in), for builds without CMake:
#   c++ -std=c++20 app.cc $(pkg-config --cflags --libs snakepit)
# The static archive needs gRPC, protobuf and cpp-httplib at link time, so they are in
# Requires (plain `--libs` then links them); a shared library links them
# itself, so there they are Requires.private. The public headers need
# Abseil, nlohmann_json and spdlog either way.
set(SNAKEPIT_PC_REQUIRES
  "absl_status absl_statusor absl_strings absl_time absl_synchronization nlohmann_json spdlog")
set(SNAKEPIT_PC_REQUIRES_PRIVATE "")
get_target_property(_snakepit_type snakepit TYPE)
if(_snakepit_type STREQUAL "STATIC_LIBRARY")
  string(APPEND SNAKEPIT_PC_REQUIRES " grpc++ protobuf cpp-httplib")
else()
  set(SNAKEPIT_PC_REQUIRES_PRIVATE "grpc++ protobuf cpp-httplib")
endif()
set(SNAKEPIT_PC_CFLAGS "")
file(RELATIVE_PATH SNAKEPIT_PC_PREFIX_FROM_PCDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" SNAKEPIT_PC_PREFIX_FROM_PCDIR "${SNAKEPIT_PC_PREFIX_FROM_PCDIR}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/snakepit.pc.in" "${PROJECT_BINARY_DIR}/snakepit.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/snakepit.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")

# A Debian package of the install tree (cpack -G DEB in the build folder;
# tests/install/run_deb_test.sh). Depends are what the library, the CLI and
# the worker need at run time and what a consumer's find_package(snakepit)
# looks for (the -dev packages of the public and link-time dependencies);
# grpcio is only the fallback transport, hence Recommends.
set(CPACK_PACKAGE_NAME "snakepit")
set(CPACK_PACKAGE_VENDOR "the snakepit-cpp authors")
set(CPACK_PACKAGE_CONTACT "the snakepit-cpp authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
# The prefix the library was configured for, so that its compiled-in
# fallback path (docs/configuration.md) is where the package puts the worker
# package: configure with -DCMAKE_INSTALL_PREFIX=/usr for a distribution.
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "python3, libgrpc++-dev, protobuf-compiler-grpc, libprotobuf-dev, libprotoc-dev, protobuf-compiler, libabsl-dev, libspdlog-dev, nlohmann-json3-dev, libcpp-httplib-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-grpcio, python3-protobuf")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
