// The Language Server Protocol structures pipec reads and writes, mapped to
// and from llvm::json (LSP 3.17).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "frontend/index.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

namespace pipec::lsp {

/// JSON-RPC and LSP error codes.
enum class ErrorCode : int {
  ParseError = -32700,
  InvalidRequest = -32600,
  MethodNotFound = -32601,
  InvalidParams = -32602,
  InternalError = -32603,
  ServerNotInitialized = -32002,
  RequestFailed = -32803,
  RequestCancelled = -32800,
  ContentModified = -32801,
};

/// How `Position::character` counts (negotiated in `initialize`).
enum class Encoding { Utf16, Utf8 };

struct Position {
  std::int64_t line = 0;
  std::int64_t character = 0;
};
bool fromJSON(const llvm::json::Value& v, Position& p, llvm::json::Path path);
llvm::json::Value toJSON(const Position& p);

struct Range {
  Position start, end;
};
bool fromJSON(const llvm::json::Value& v, Range& r, llvm::json::Path path);
llvm::json::Value toJSON(const Range& r);

struct TextDocumentItem {
  std::string uri, language_id, text;
  std::int64_t version = 0;
};
bool fromJSON(const llvm::json::Value& v, TextDocumentItem& d,
              llvm::json::Path path);

struct ContentChange {
  llvm::Optional<Range> range;  ///< absent: the whole text
  std::string text;
};
bool fromJSON(const llvm::json::Value& v, ContentChange& c,
              llvm::json::Path path);

struct DidChangeParams {
  std::string uri;
  std::int64_t version = 0;
  std::vector<ContentChange> changes;
};
bool fromJSON(const llvm::json::Value& v, DidChangeParams& p,
              llvm::json::Path path);

/// `textDocument` + `position` (hover, completion, definition, ...).
struct PositionParams {
  std::string uri;
  Position position;
};
bool fromJSON(const llvm::json::Value& v, PositionParams& p,
              llvm::json::Path path);

/// `textDocument` (+ `range` where the request has one).
struct DocumentParams {
  std::string uri;
  llvm::Optional<Range> range;
};
bool fromJSON(const llvm::json::Value& v, DocumentParams& p,
              llvm::json::Path path);

/// `file:///a%20b/c.pipe` for `/a b/c.pipe`.
std::string uriFromPath(llvm::StringRef path);
/// The absolute path of a `file:` URI, or nothing for another scheme or a
/// malformed URI.
std::optional<std::string> pathFromUri(llvm::StringRef uri);

/// The byte offset in `text` of `p` counted in `enc`. A line past the end
/// is the end of the text; a character past the end of its line is the
/// end of the line (as the protocol says).
std::size_t offsetOf(llvm::StringRef text, Position p, Encoding enc);
/// The position of byte `offset` of `text` in `enc`.
Position positionOf(llvm::StringRef text, std::size_t offset, Encoding enc);
/// A frontend point in `enc`.
Position toPosition(const frontend::Point& p, Encoding enc);
Range toRange(const frontend::Span& s, Encoding enc);

}  // namespace pipec::lsp
