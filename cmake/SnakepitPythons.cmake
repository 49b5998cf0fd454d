# The interpreters the native worker transport (snakepit_worker._native,
# python/native) is built for: SNAKEPIT_DEFAULT_PYTHON (Debian's
# /usr/bin/python3), always, and the free-threaded CPython (3.13t) of
# cmake/SnakepitFreeThreaded.cmake, SNAKEPIT_FT_PYTHON, when there is one.
option(SNAKEPIT_BUILD_NATIVE_TRANSPORT "Build the native worker transport (snakepit_worker._native)" ON)

# snakepit_python_config(<python> <prefix>): asks <python> (sysconfig) for
# what an extension module needs: <prefix>_INCLUDE (its headers),
# <prefix>_EXT_SUFFIX (".cpython-311-x86_64-linux-gnu.so"), <prefix>_TAG
# (a target-name-safe SOABI, "cpython_311_x86_64_linux_gnu") and
# <prefix>_FREE_THREADED. <prefix>_INCLUDE is "" when Python.h is missing.
function(snakepit_python_config python prefix)
  execute_process(
    COMMAND "${python}" -c "import sysconfig as s; print(s.get_paths()['include']); print(s.get_config_var('EXT_SUFFIX')); print(s.get_config_var('SOABI')); print(int(bool(s.get_config_var('Py_GIL_DISABLED'))))"
    OUTPUT_VARIABLE output RESULT_VARIABLE result ERROR_VARIABLE error OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${python} could not report its sysconfig: ${error}")
  endif()
  string(REPLACE "\n" ";" lines "${output}")
  list(GET lines 0 include)
  list(GET lines 1 suffix)
  list(GET lines 2 soabi)
  list(GET lines 3 free_threaded)
  if(NOT EXISTS "${include}/Python.h")
    set(include "")
  endif()
  string(MAKE_C_IDENTIFIER "${soabi}" tag)
  set(${prefix}_INCLUDE "${include}" PARENT_SCOPE)
  set(${prefix}_EXT_SUFFIX "${suffix}" PARENT_SCOPE)
  set(${prefix}_TAG "${tag}" PARENT_SCOPE)
  set(${prefix}_FREE_THREADED "${free_threaded}" PARENT_SCOPE)
endfunction()
