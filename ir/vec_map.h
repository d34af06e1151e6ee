// A map kept as a sorted vector: for the few entries a step has (its input
// channels), one allocation and one run of memory instead of a tree node per
// entry, with std::map's order and the part of its interface pipec uses.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/ErrorHandling.h"

namespace pipec::ir {

/// A map from std::string to V, sorted by key as std::map<std::string, V>
/// is, so that iterating it gives the same order. Iterators and references
/// are invalidated by an insertion.
template <class V>
class StringVecMap {
 public:
  using key_type = std::string;
  using mapped_type = V;
  using value_type = std::pair<std::string, V>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }
  void reserve(std::size_t n) { items_.reserve(n); }

  iterator find(llvm::StringRef k) {
    auto it = lowerBound(k);
    return it != items_.end() && llvm::StringRef(it->first) == k ? it
                                                                 : items_.end();
  }
  const_iterator find(llvm::StringRef k) const {
    return const_cast<StringVecMap*>(this)->find(k);
  }
  std::size_t count(llvm::StringRef k) const { return find(k) != end(); }

  V& operator[](llvm::StringRef k) { return try_emplace(k).first->second; }
  /// The value of `k`, which is there.
  const V& at(llvm::StringRef k) const {
    auto it = find(k);
    if (it == end()) llvm::report_fatal_error("StringVecMap::at: no such key");
    return it->second;
  }

  /// The entry of `k`, made with V(args...) when there is none; whether it
  /// was made.
  template <class... Args>
  std::pair<iterator, bool> try_emplace(llvm::StringRef k, Args&&... args) {
    auto it = lowerBound(k);
    if (it != items_.end() && llvm::StringRef(it->first) == k)
      return {it, false};
    it = items_.emplace(it, std::piecewise_construct,
                        std::forward_as_tuple(k.data(), k.size()),
                        std::forward_as_tuple(std::forward<Args>(args)...));
    return {it, true};
  }

 private:
  iterator lowerBound(llvm::StringRef k) {
    return std::lower_bound(items_.begin(), items_.end(), k,
                            [](const value_type& kv, llvm::StringRef key) {
                              return llvm::StringRef(kv.first) < key;
                            });
  }

  std::vector<value_type> items_;
};

}  // namespace pipec::ir
