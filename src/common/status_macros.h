// Early-return helpers for absl::Status / absl::StatusOr, in the Abseil style.
#ifndef SNAKEPIT_SRC_COMMON_STATUS_MACROS_H_
#define SNAKEPIT_SRC_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` is not OK.
#define SNAKEPIT_RETURN_IF_ERROR(expr)          \
  do {                                          \
    if (absl::Status _st = (expr); !_st.ok()) { \
      return _st;                               \
    }                                           \
  } while (false)

#define SNAKEPIT_CONCAT_INNER_(a, b) a##b
#define SNAKEPIT_CONCAT_(a, b) SNAKEPIT_CONCAT_INNER_(a, b)

// `lhs` = value of the StatusOr `expr`, or return its status.
#define SNAKEPIT_ASSIGN_OR_RETURN(lhs, expr) \
  SNAKEPIT_ASSIGN_OR_RETURN_IMPL_(SNAKEPIT_CONCAT_(_status_or_, __LINE__), lhs, expr)
#define SNAKEPIT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) {                                      \
    return std::move(tmp).status();                     \
  }                                                     \
  lhs = std::move(tmp).value()

#endif  // SNAKEPIT_SRC_COMMON_STATUS_MACROS_H_
