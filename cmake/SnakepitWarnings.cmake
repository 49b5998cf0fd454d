# snakepit_strict(target): the warning set for the project's own code.
# Generated protobuf code does not get it (it is not ours to fix).
# SNAKEPIT_THREAD_SAFETY (clang only) adds -Wthread-safety, so every
# ABSL_GUARDED_BY and ABSL_EXCLUSIVE_LOCKS_REQUIRED is checked at compile
# time (scripts/check_thread_safety.sh, run by scripts/test.sh).
option(SNAKEPIT_THREAD_SAFETY "Check lock annotations with clang's -Wthread-safety" OFF)
if(SNAKEPIT_THREAD_SAFETY AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SNAKEPIT_THREAD_SAFETY needs clang (CMAKE_CXX_COMPILER=clang++)")
endif()
function(snakepit_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
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
elseif(SNAKEPIT_SANITIZER STREQUAL "fuzzer")
  # libFuzzer builds (scripts/fuzz.sh): coverage for everything, ASan+UBSan;
  # the fuzz targets add -fsanitize=fuzzer themselves.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(NOT SNAKEPIT_SANITIZER STREQUAL "")
  message(FATAL_ERROR "SNAKEPIT_SANITIZER must be '', 'address', 'thread' or 'fuzzer', not '${SNAKEPIT_SANITIZER}'")
endif()
