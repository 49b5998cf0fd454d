// Force-included into every C++ file of a ThreadSanitizer build
// (cmake/SnakepitWarnings.cmake): makes protobuf's MapFieldBase take the
// layout the prebuilt libprotobuf has.
//
// Why: google/protobuf/map_field.h adds two members to MapFieldBase when
// __SANITIZE_THREAD__ is defined. Debian's libprotobuf, and the generated
// code this project builds uninstrumented (cmake/SnakepitProto.cmake), have
// the layout without them, so an instrumented file that set a field of a
// message holding a map wrote it where the library read another field
// (ExecuteRequest's command arrived as its args_json). Including the
// header once here, with the macro hidden, fixes the layout for every
// file; its include guard keeps it so.
#ifndef SNAKEPIT_CMAKE_TSAN_PROTOBUF_LAYOUT_H_
#define SNAKEPIT_CMAKE_TSAN_PROTOBUF_LAYOUT_H_

#pragma push_macro("__SANITIZE_THREAD__")
#undef __SANITIZE_THREAD__
#include <google/protobuf/map_field.h>
#pragma pop_macro("__SANITIZE_THREAD__")

#endif  // SNAKEPIT_CMAKE_TSAN_PROTOBUF_LAYOUT_H_
