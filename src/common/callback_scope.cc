#include "common/callback_scope.h"

namespace snakepit::internal {
namespace {

thread_local int t_depth = 0;

}  // namespace

LibraryCallbackScope::LibraryCallbackScope() { ++t_depth; }
LibraryCallbackScope::~LibraryCallbackScope() { --t_depth; }
bool LibraryCallbackScope::Active() { return t_depth > 0; }

}  // namespace snakepit::internal
