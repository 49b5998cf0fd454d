# cmake -DPACKAGE=<build>/python/snakepit_worker -P CleanWorkerPackage.cmake
# Removes everything in the build-tree worker package except the native
# transport's modules (_native<EXT_SUFFIX>, built there by python/native),
# so that a file deleted from python/snakepit_worker does not linger.
file(GLOB entries LIST_DIRECTORIES true "${PACKAGE}/*" "${PACKAGE}/.copied")
foreach(entry IN LISTS entries)
  get_filename_component(name "${entry}" NAME)
  if(NOT name MATCHES "^_native\\.")
    file(REMOVE_RECURSE "${entry}")
  endif()
endforeach()
