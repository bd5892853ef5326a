// sluice — Result<T>: a value or a std::error_code (std::expected is C++23; we target C++20).
#pragma once

#include <functional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "sluice/error.hpp"

namespace sluice {

/// A T or an error. Expected outcomes (busy, broken, timeout, ...) are errors here, not
/// exceptions. value() throws std::system_error when there is no value: that is the throwing
/// wrapper for callers who prefer exceptions.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(std::error_code error) : v_(std::in_place_index<1>, error) {}        // NOLINT
  Result(errc error) : v_(std::in_place_index<1>, make_error_code(error)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The value, or `fallback` when there is none.
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// The error; a default (zero) error_code when there is a value.
  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(v_);
  }

  /// As std::expected's: `f(value)`, a Result of its own, or this error passed on.
  template <class F>
  auto and_then(F&& f) const& {
    using R = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    if (!has_value()) return R(error());
    return std::invoke(std::forward<F>(f), std::get<0>(v_));
  }
  template <class F>
  auto and_then(F&& f) && {
    using R = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
    if (!has_value()) return R(error());
    return std::invoke(std::forward<F>(f), std::get<0>(std::move(v_)));
  }
  /// As std::expected's: Result<U> of `f(value)` (Result<void> when f returns nothing), or this
  /// error passed on.
  template <class F>
  auto transform(F&& f) const& {
    using U = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    if (!has_value()) return Result<U>(error());
    return map_value<U>(std::forward<F>(f), std::get<0>(v_));
  }
  template <class F>
  auto transform(F&& f) && {
    using U = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
    if (!has_value()) return Result<U>(error());
    return map_value<U>(std::forward<F>(f), std::get<0>(std::move(v_)));
  }
  /// As std::expected's: this value, or `f(error)`, a Result<T> (a fallback, or another error).
  template <class F>
  Result or_else(F&& f) const& {
    if (has_value()) return *this;
    return std::invoke(std::forward<F>(f), error());
  }
  template <class F>
  Result or_else(F&& f) && {
    if (has_value()) return std::move(*this);
    return std::invoke(std::forward<F>(f), error());
  }

 private:
  template <class U, class F, class V>
  static Result<U> map_value(F&& f, V&& value) {
    if constexpr (std::is_void_v<U>) {
      std::invoke(std::forward<F>(f), std::forward<V>(value));
      return {};
    } else {
      return std::invoke(std::forward<F>(f), std::forward<V>(value));
    }
  }

  void check() const {
    if (!has_value()) throw std::system_error(std::get<1>(v_));
  }
  std::variant<T, std::error_code> v_;
};

/// Success or an error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(std::error_code error) : error_(error) {}        // NOLINT
  Result(errc error) : error_(make_error_code(error)) {}  // NOLINT

  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) throw std::system_error(error_);
  }
  std::error_code error() const noexcept { return error_; }

  /// As std::expected<void>'s: `f()`, a Result of its own, or this error passed on.
  template <class F>
  auto and_then(F&& f) const {
    using R = std::remove_cvref_t<std::invoke_result_t<F>>;
    if (error_) return R(error_);
    return std::invoke(std::forward<F>(f));
  }
  /// Result<U> of `f()`, or this error passed on.
  template <class F>
  auto transform(F&& f) const {
    using U = std::remove_cvref_t<std::invoke_result_t<F>>;
    if constexpr (std::is_void_v<U>) {
      if (!error_) std::invoke(std::forward<F>(f));
      return *this;
    } else {
      if (error_) return Result<U>(error_);
      return Result<U>(std::invoke(std::forward<F>(f)));
    }
  }
  /// Success, or `f(error)`, a Result<void>.
  template <class F>
  Result or_else(F&& f) const {
    if (!error_) return *this;
    return std::invoke(std::forward<F>(f), error_);
  }

 private:
  std::error_code error_;
};

}  // namespace sluice
