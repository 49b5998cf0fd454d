// LibraryCallbackScope: marks the current thread as running application
// code that the library called: a call's completion callback or an event
// handler. Such a thread is one the library may have to wait for (a gRPC
// callback thread, a timer thread, the event thread), so an entry point
// that waits for those threads (PoolManager::shutdown, its destructor)
// asks Active() first and, when true, does that waiting on a thread of its
// own instead of deadlocking.
//
// Threading: thread-local; nesting is allowed.
#ifndef SNAKEPIT_SRC_COMMON_CALLBACK_SCOPE_H_
#define SNAKEPIT_SRC_COMMON_CALLBACK_SCOPE_H_

namespace snakepit::internal {

class LibraryCallbackScope {
 public:
  LibraryCallbackScope();
  ~LibraryCallbackScope();
  LibraryCallbackScope(const LibraryCallbackScope&) = delete;
  LibraryCallbackScope& operator=(const LibraryCallbackScope&) = delete;

  // Whether the calling thread is inside a scope.
  static bool Active();
};

}  // namespace snakepit::internal

#endif  // SNAKEPIT_SRC_COMMON_CALLBACK_SCOPE_H_
