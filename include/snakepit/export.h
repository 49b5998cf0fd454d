// SNAKEPIT_EXPORT marks the public API: the classes, structs and functions
// declared in include/snakepit/. A shared libsnakepit (CMake option
// SNAKEPIT_SHARED) is compiled with -fvisibility=hidden and
// -fvisibility-inlines-hidden, so these are the only symbols it exports;
// gRPC, protobuf and every internal class stay out of its dynamic symbol
// table. For the static library and for programs using either, the
// attribute changes nothing (ELF imports and exports alike).
#ifndef SNAKEPIT_EXPORT_H_
#define SNAKEPIT_EXPORT_H_

// SNAKEPIT_NO_EXPORT keeps a member of an exported class out of the
// dynamic symbol table: one that only the library calls, and whose
// signature names an internal type (StreamReader's constructor).
#if defined(__GNUC__) || defined(__clang__)
#define SNAKEPIT_EXPORT __attribute__((visibility("default")))
#define SNAKEPIT_NO_EXPORT __attribute__((visibility("hidden")))
#else
#define SNAKEPIT_EXPORT
#define SNAKEPIT_NO_EXPORT
#endif

#endif  // SNAKEPIT_EXPORT_H_
