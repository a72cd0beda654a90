//===- Status.h - Error reporting without exceptions ------------*- C++ -*-===//
//
// Part of qlow, a compiler for quantized transformer kernels.
//
//===----------------------------------------------------------------------===//
//
// The reference library is the oracle that compiled kernels are checked
// against, so it must never crash on bad input and must build with
// -fno-exceptions. Every fallible function returns a Status or an Expected<T>
// whose message says what is wrong in the caller's terms.
//
//===----------------------------------------------------------------------===//

#ifndef QLOW_REFERENCE_STATUS_H
#define QLOW_REFERENCE_STATUS_H

#include <string>
#include <utility>

namespace qlow::ref {

/// The outcome of a fallible operation: ok, or an error with a message.
/// Marked [[nodiscard]] so that an ignored error is a compiler warning.
class [[nodiscard]] Status {
public:
  /// A successful status (also what a default-constructed Status is).
  Status() = default;
  /// A successful status.
  static Status success() { return Status(); }
  /// A failed status carrying `message`.
  static Status error(std::string message) {
    Status s;
    s.isOk = false;
    s.text = std::move(message);
    return s;
  }

  /// True unless this is an error.
  bool ok() const { return isOk; }
  /// The error message; empty on success.
  const std::string &message() const { return text; }
  /// Returns a copy whose message is prefixed with "`context`: " (for errors).
  Status withContext(const std::string &context) const {
    if (isOk)
      return *this;
    return error(context + ": " + text);
  }

private:
  bool isOk = true;
  std::string text;
};

/// A value of type T or an error Status. `value` is default-constructed when
/// `status` is an error, so T must be default-constructible.
template <typename T> struct [[nodiscard]] Expected {
  T value{};
  Status status;

  /// A successful result holding `v`.
  Expected(T v) : value(std::move(v)) {}
  /// A failed result. A success Status here is a programming error; it is
  /// turned into an error rather than silently yielding a default value.
  Expected(Status s) : status(std::move(s)) {
    if (status.ok())
      status = Status::error("internal error: Expected<T> built from a "
                             "success Status without a value");
  }

  bool ok() const { return status.ok(); }
  explicit operator bool() const { return status.ok(); }
  T &operator*() { return value; }
  const T &operator*() const { return value; }
  T *operator->() { return &value; }
  const T *operator->() const { return &value; }
};

} // namespace qlow::ref

/// Returns from the enclosing function if `expr` (a Status) is an error.
#define QLOW_REF_RETURN_IF_ERROR(expr)                                         \
  do {                                                                         \
    ::qlow::ref::Status qlowRefStatus_ = (expr);                               \
    if (!qlowRefStatus_.ok())                                                  \
      return qlowRefStatus_;                                                   \
  } while (false)

#endif // QLOW_REFERENCE_STATUS_H
