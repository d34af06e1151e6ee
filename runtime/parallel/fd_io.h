// Whole reads and writes on file descriptors, retrying short transfers and
// EINTR.
#pragma once

#include <string>

#include "llvm/ADT/StringRef.h"

namespace pipec::runtime::parallel {

/// Writes all of `data`; false with errno set on an error.
bool writeAll(int fd, llvm::StringRef data);
/// Appends everything up to the end of `fd` to `out`; false on an error.
bool readAll(int fd, std::string& out);
/// Replaces `path` with `text`: a temporary file, fsync, rename.
bool writeFileAtomically(const std::string& path, llvm::StringRef text);

}  // namespace pipec::runtime::parallel
