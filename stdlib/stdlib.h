// The standard library of .pipe components, embedded in the binary.
#pragma once

#include <optional>
#include <vector>

#include "llvm/ADT/StringRef.h"

namespace pipec::stdlib {

/// The .pipe source of `std.NAME`, or nothing.
std::optional<llvm::StringRef> source(llvm::StringRef name);

/// Every component name, sorted.
std::vector<llvm::StringRef> names();

}  // namespace pipec::stdlib
