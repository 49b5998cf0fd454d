# snakepit_strict(target): the warning set for the project's own code.
# Generated protobuf code does not get it (it is not ours to fix).
# SNAKEPIT_THREAD_SAFETY (clang only) adds -Wthread-safety, so every
# ABSL_GUARDED_BY and ABSL_EXCLUSIVE_LOCKS_REQUIRED is checked at compile
# time (scripts/check_thread_safety.sh, run by scripts/test.sh).
option(SNAKEPIT_THREAD_SAFETY "Check lock annotations with clang's -Wthread-safety" OFF)
if(SNAKEPIT_THREAD_SAFETY AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SNAKEPIT_THREAD_SAFETY needs clang (CMAKE_CXX_COMPILER=clang++)")
endif()
#
# -Werror is for this project's own builds (its CI, scripts/build.sh): on
# by default only when snakepit is the top-level project. Built as a
# sub-project (FetchContent, add_subdirectory) with another compiler or
# other flags, a new warning must not break the parent's build.
option(SNAKEPIT_WERROR "Treat the project's warnings as errors (default: ON when top-level)" ${PROJECT_IS_TOP_LEVEL})
function(snakepit_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wnon-virtual-dtor)
  if(SNAKEPIT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # GCC 12 and 13 at -O3 (CMake's Release) report -Wrestrict on libstdc++'s
  # own std::string code inlined into ours (GCC bug 105329, e.g. in
  # src/profile/worker_site.cc): a false positive, kept as a warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14)
    target_compile_options(${target} PRIVATE -Wno-error=restrict)
  endif()
  if(SNAKEPIT_THREAD_SAFETY)
    target_compile_options(${target} PRIVATE -Wthread-safety -Wthread-safety-beta)
  endif()
endfunction()

# Sanitizers apply to everything built here, so that instrumented code calls
# instrumented code wherever we control both sides.
if(SNAKEPIT_SANITIZER STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SNAKEPIT_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # GCC 12+ warns that TSan does not model std::atomic_thread_fence
  # (-Wtsan), an error under -Werror. The shared-memory ring's fences
  # (src/shm/shm_ring.cc) order stores and loads of atomics against a peer
  # in another process, which TSan cannot see either way: they stay, and
  # so does every check TSan does make.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
    add_compile_options(-Wno-tsan)
  endif()
  # Protobuf's map fields must have the prebuilt library's layout in every
  # file: cmake/tsan/protobuf_layout.h says why.
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/tsan/protobuf_layout.h>")
elseif(SNAKEPIT_SANITIZER STREQUAL "fuzzer")
  # libFuzzer builds (scripts/fuzz.sh): coverage for everything, ASan+UBSan;
  # the fuzz targets add -fsanitize=fuzzer themselves.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT SNAKEPIT_SANITIZER STREQUAL "")
  message(FATAL_ERROR "SNAKEPIT_SANITIZER must be '', 'address', 'thread' or 'fuzzer', not '${SNAKEPIT_SANITIZER}'")
endif()
