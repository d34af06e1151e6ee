// The test oracle for pipec's YAML reader: the tree yaml-cpp's events give,
// and a comparison of two trees that names each known difference.
#pragma once

#include <memory>
#include <string>

#include "ir/diagnostics.h"
#include "ir/yaml_reader.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::test::yaml_oracle {

/// Parses buffer `buffer_id` of `sm` with yaml-cpp into the reader's tree
/// type, with the reader's byte checks, depth, alias and duplicate-key rules
/// as they were before the reader moved to LLVM's parser.
std::unique_ptr<ir::yaml::Document> parse(const llvm::SourceMgr& sm,
                                          unsigned buffer_id,
                                          ir::DiagnosticEngine& diags,
                                          const ir::yaml::Limits& limits = {});

/// Parses `text` with both readers and compares the outcome: both refuse it,
/// or both accept it with the same tree (kind, style, value, tag and location
/// of every node). Returns "" when they agree, else the first difference.
/// Known differences, each a yaml-cpp defect, are allowed:
/// - an anchored quoted or block scalar is plain to yaml-cpp (the oracle
///   looks at the character at the node's start, the `&`);
/// - the end of a scalar: the oracle ends a multi-line plain scalar at its
///   first line, a block scalar after its `|`/`>`, a scalar with properties
///   at the end of its line; the reader ends each where its text ends;
/// - the end of a scalar's text ending in empty or blank lines: yaml-cpp
///   drops line breaks before the closing quote of a multi-line quoted
///   scalar and one kept empty line of a `>+` scalar, and keeps the blanks of
///   a last blank line that ends the file inside a block scalar;
/// - an empty explicit key (`?` alone on its line) before `: value`, which
///   yaml-cpp reads as the key {null: value} with a null value;
/// - a '?' inside a plain scalar in a flow collection (`{default?: 1}`),
///   which YAML 1.2 allows and yaml-cpp refuses;
/// - what the reader refuses on purpose: limits yaml-cpp does not have,
///   empty entries of flow collections (`[a,,b]`), which yaml-cpp reads as
///   nulls, a line starting with '%' inside a document (a directive),
///   which yaml-cpp reads as text, a quoted scalar left open at the end of
///   the file, which yaml-cpp closes there, and a line of text without ':'
///   where a key must be, or text on the line after a key at the key's
///   column, which yaml-cpp takes as a key without ':' or as more text;
/// - an entry with an empty key (`: value` first on a line of a block
///   mapping): valid YAML 1.2 that LLVM's parser refuses and yaml-cpp reads
///   (pipec refuses a null key anyway, E0114).
std::string compareReaders(llvm::StringRef text);

}  // namespace pipec::test::yaml_oracle
