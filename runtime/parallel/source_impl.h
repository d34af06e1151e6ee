// Internals shared by the mini-batch sources (not part of the engine's API).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/parallel/batch_source.h"

namespace pipec::runtime::parallel {

std::unique_ptr<BatchSource> openFolderSource(const SourceOptions& opts,
                                              Problem& problem);
std::unique_ptr<BatchSource> openTableSource(const SourceOptions& opts,
                                             Problem& problem);

/// Appends {"k":[keys...],"v":[values...]}.
void appendKeyObject(std::string& out, const std::vector<std::string>& keys,
                     const std::vector<std::string>& values);
/// "Store=1, Brand=x".
std::string keyLabel(const std::vector<std::string>& keys,
                     const std::vector<std::string>& values);

/// A single file as one mini-batch of one item (a `file` input).
std::unique_ptr<BatchSource> openSingleFileSource(const std::string& path);

}  // namespace pipec::runtime::parallel
