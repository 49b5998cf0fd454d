# install() rules and the exported CMake package:
#   find_package(snakepit CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE snakepit::snakepit)
# The Python worker package (with generated stubs) is installed to
# <prefix>/share/snakepit/python, where the library looks for it at run time.
include(CMakePackageConfigHelpers)

install(TARGETS snakepit EXPORT snakepitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/snakepit" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY "${SNAKEPIT_BUILD_PYTHONPATH}/snakepit_worker"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/snakepit/python"
  PATTERN "__pycache__" EXCLUDE
  PATTERN ".copied" EXCLUDE)
install(EXPORT snakepitTargets NAMESPACE snakepit:: DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/snakepit")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/snakepitConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/snakepitConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/snakepit")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/snakepitConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/snakepitConfig.cmake" "${PROJECT_BINARY_DIR}/snakepitConfigVersion.cmake"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/snakepit")
