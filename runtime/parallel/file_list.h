// Streaming enumeration of the files under a folder, without stat when the
// directory entries say what they are.
#pragma once

#include <functional>
#include <string>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace pipec::runtime::parallel {

/// Calls `add` with the path relative to `root` of every regular file below
/// it, depth first, in directory order. Symbolic links to files count as
/// files; links to folders are followed unless they lead back into a folder
/// being listed. Open descriptors are bounded by the folder depth.
llvm::Error listFiles(const std::string& root,
                      const std::function<llvm::Error(llvm::StringRef)>& add);

}  // namespace pipec::runtime::parallel
