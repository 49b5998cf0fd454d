# The free-threaded CPython (3.13t) that the tests needing one run with,
# and that the native worker transport is also built for:
# SNAKEPIT_FREE_THREADED_PYTHON when set, else the one
# tools/build_free_threaded_python.sh builds, if it is there
# (${SNAKEPIT_CACHE_DIR:-$HOME/.cache/snakepit-cpp}/cpython-3.13t/bin/python3.13t).
# Those tests skip when there is none.
#
# Sets SNAKEPIT_FT_PYTHON (empty when there is none) and, with it,
# SNAKEPIT_FT_INCLUDE_DIR and SNAKEPIT_FT_EXT_SUFFIX for building extension
# modules it can import.
set(SNAKEPIT_FT_PYTHON "")
if(SNAKEPIT_FREE_THREADED_PYTHON)
  set(_ft_candidate "${SNAKEPIT_FREE_THREADED_PYTHON}")
elseif(DEFINED ENV{SNAKEPIT_CACHE_DIR} AND NOT "$ENV{SNAKEPIT_CACHE_DIR}" STREQUAL "")
  set(_ft_candidate "$ENV{SNAKEPIT_CACHE_DIR}/cpython-3.13t/bin/python3.13t")
else()
  set(_ft_candidate "$ENV{HOME}/.cache/snakepit-cpp/cpython-3.13t/bin/python3.13t")
endif()

if(EXISTS "${_ft_candidate}")
  execute_process(
    COMMAND "${_ft_candidate}" -I -S -c
      "import sysconfig; print(sysconfig.get_config_var('Py_GIL_DISABLED') or 0); print(sysconfig.get_path('include')); print(sysconfig.get_config_var('EXT_SUFFIX'))"
    OUTPUT_VARIABLE _ft_answer OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _ft_result ERROR_QUIET)
  string(REPLACE "\n" ";" _ft_answer "${_ft_answer}")
  list(LENGTH _ft_answer _ft_fields)
  if(_ft_result EQUAL 0 AND _ft_fields EQUAL 3)
    list(GET _ft_answer 0 _ft_gil_disabled)
    if(_ft_gil_disabled EQUAL 1)
      set(SNAKEPIT_FT_PYTHON "${_ft_candidate}")
      list(GET _ft_answer 1 SNAKEPIT_FT_INCLUDE_DIR)
      list(GET _ft_answer 2 SNAKEPIT_FT_EXT_SUFFIX)
    endif()
  endif()
endif()

if(SNAKEPIT_FT_PYTHON)
  message(STATUS "Free-threaded Python: ${SNAKEPIT_FT_PYTHON}")
  # tools/build_free_threaded_python.sh records the patches it applied
  # beside bin/. Without them, a 3.13t worker starts slowly on a busy
  # machine (tools/patches/cpython-3.13-critical-section-reentry.patch).
  get_filename_component(_ft_prefix "${SNAKEPIT_FT_PYTHON}" REALPATH)
  get_filename_component(_ft_prefix "${_ft_prefix}" DIRECTORY)
  get_filename_component(_ft_prefix "${_ft_prefix}" DIRECTORY)
  if(NOT EXISTS "${_ft_prefix}/snakepit-patches")
    message(STATUS "  not built with tools/patches: its workers start slowly while the cores are busy "
                   "(tools/build_free_threaded_python.sh rebuilds it; docs/free-threading.md)")
  endif()
elseif(SNAKEPIT_FREE_THREADED_PYTHON)
  message(FATAL_ERROR "SNAKEPIT_FREE_THREADED_PYTHON=${SNAKEPIT_FREE_THREADED_PYTHON} is not a free-threaded "
                      "Python that runs (tools/build_free_threaded_python.sh builds one)")
else()
  message(STATUS "Free-threaded Python: none at ${_ft_candidate}; those tests skip "
                 "(tools/build_free_threaded_python.sh builds it)")
endif()

# The build-tree worker package, byte-compiled for the free-threaded
# interpreter. CPython 3.13t leaves the constants of code compiled from
# source mortal, so threads running the same function all update one shared
# reference count per constant: two CPU-bound calls of the showcase's
# cpu_loop took 3x the CPU each. Code loaded from .pyc files has immortal
# constants and runs in parallel at full speed (docs/free-threading.md).
if(SNAKEPIT_FT_PYTHON)
  add_custom_command(
    OUTPUT "${_py_pkg}/.compiled-ft"
    COMMAND "${SNAKEPIT_FT_PYTHON}" -m compileall -q "${_py_pkg}"
    COMMAND ${CMAKE_COMMAND} -E touch "${_py_pkg}/.compiled-ft"
    DEPENDS "${_py_pkg}/.copied"
    COMMENT "Byte-compiling the worker package for ${SNAKEPIT_FT_PYTHON}")
  add_custom_target(snakepit_python_ft_bytecode ALL DEPENDS "${_py_pkg}/.compiled-ft")
  add_dependencies(snakepit_python_ft_bytecode snakepit_python)
endif()
