// Helpers of the parallel engine's unit tests: a temporary folder and files.
#pragma once

#include <string>

#include "gtest/gtest.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::runtime::parallel {

/// A fresh folder, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    llvm::SmallString<128> p;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("pipec-par", p));
    path_ = std::string(p);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path_); }
  const std::string& path() const { return path_; }
  /// Writes `text` to `rel` (parents created) and returns the full path.
  std::string write(const std::string& rel, const std::string& text) const {
    std::string full = path_ + "/" + rel;
    llvm::sys::fs::create_directories(llvm::sys::path::parent_path(full));
    std::error_code ec;
    llvm::raw_fd_ostream os(full, ec);
    EXPECT_FALSE(ec) << full;
    os << text;
    return full;
  }
  std::string sub(const std::string& rel) const {
    std::string full = path_ + "/" + rel;
    llvm::sys::fs::create_directories(full);
    return full;
  }

 private:
  std::string path_;
};

}  // namespace pipec::runtime::parallel
