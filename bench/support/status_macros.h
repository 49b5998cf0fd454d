// Early returns on a failed absl::Status / absl::StatusOr, for the bench
// programs' set-up code (the library's own macros are internal to src/).
#ifndef SNAKEPIT_BENCH_SUPPORT_STATUS_MACROS_H_
#define SNAKEPIT_BENCH_SUPPORT_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define BENCH_CONCAT_INNER(a, b) a##b
#define BENCH_CONCAT(a, b) BENCH_CONCAT_INNER(a, b)

// `lhs` = the value of `expr` (a StatusOr), or return its status.
#define BENCH_ASSIGN_OR_RETURN(lhs, expr) BENCH_ASSIGN_OR_RETURN_IMPL(BENCH_CONCAT(bench_or_, __LINE__), lhs, expr)
#define BENCH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(*tmp)

#define BENCH_RETURN_IF_ERROR(expr)                                   \
  do {                                                                \
    if (absl::Status bench_s = (expr); !bench_s.ok()) return bench_s; \
  } while (false)

#endif  // SNAKEPIT_BENCH_SUPPORT_STATUS_MACROS_H_
