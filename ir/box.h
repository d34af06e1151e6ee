// An optional value kept on the heap: std::optional's interface for a large
// member that most objects of a type leave empty (the parallel settings of a
// flattened step), so that those objects stay small.
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace pipec::ir {

/// Like std::optional<T>, with the value behind a pointer: copies copy the
/// value, moves move the pointer.
template <class T>
class Box {
 public:
  Box() = default;
  Box(std::nullopt_t) {}
  Box(const std::optional<T>& v) { *this = v; }
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;
  Box& operator=(const std::optional<T>& v) {
    p_ = v ? std::make_unique<T>(*v) : nullptr;
    return *this;
  }
  Box& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }

  explicit operator bool() const { return p_ != nullptr; }
  bool has_value() const { return p_ != nullptr; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* get() { return p_.get(); }
  const T* get() const { return p_.get(); }
  template <class... Args>
  T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }

 private:
  std::unique_ptr<T> p_;
};

}  // namespace pipec::ir
