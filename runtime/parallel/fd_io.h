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
/// Replaces `path` with `text`: a temporary file, fsync, rename. On an error
/// (errno set) the temporary file is removed and `path` is left as it was.
bool writeFileAtomically(const std::string& path, llvm::StringRef text);
/// Cuts what follows the last newline of the file at `path` (a line torn by
/// a crash or a full disk), so that appends start on a line of their own.
/// A missing file is fine; false with errno set on an error.
bool cutTornLine(const std::string& path);

}  // namespace pipec::runtime::parallel
