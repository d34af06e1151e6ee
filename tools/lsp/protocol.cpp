// JSON mapping of the protocol structures; URIs; position conversion.
#include "tools/lsp/protocol.h"

#include "ir/diagnostics.h"
#include "llvm/Support/ConvertUTF.h"

namespace pipec::lsp {

namespace json = llvm::json;

bool fromJSON(const json::Value& v, Position& p, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("line", p.line) && o.map("character", p.character);
}
json::Value toJSON(const Position& p) {
  return json::Object{{"line", p.line}, {"character", p.character}};
}

bool fromJSON(const json::Value& v, Range& r, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("start", r.start) && o.map("end", r.end);
}
json::Value toJSON(const Range& r) {
  return json::Object{{"start", r.start}, {"end", r.end}};
}

bool fromJSON(const json::Value& v, TextDocumentItem& d, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("uri", d.uri) && o.map("text", d.text) &&
         o.mapOptional("languageId", d.language_id) &&
         o.mapOptional("version", d.version);
}

bool fromJSON(const json::Value& v, ContentChange& c, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && o.map("text", c.text) && o.mapOptional("range", c.range);
}

bool fromJSON(const json::Value& v, DidChangeParams& p, json::Path path) {
  json::ObjectMapper o(v, path);
  if (!o) return false;
  const json::Object* doc = v.getAsObject()->getObject("textDocument");
  if (!doc) {
    path.field("textDocument").report("expected an object");
    return false;
  }
  json::ObjectMapper d(*v.getAsObject()->get("textDocument"),
                       path.field("textDocument"));
  return d.map("uri", p.uri) && d.mapOptional("version", p.version) &&
         o.map("contentChanges", p.changes);
}

namespace {
bool mapDocument(const json::Value& v, std::string& uri, json::Path path) {
  const json::Object* o = v.getAsObject();
  const json::Value* doc = o ? o->get("textDocument") : nullptr;
  if (!doc) {
    path.field("textDocument").report("expected an object");
    return false;
  }
  json::ObjectMapper d(*doc, path.field("textDocument"));
  return d && d.map("uri", uri);
}
}  // namespace

bool fromJSON(const json::Value& v, PositionParams& p, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && mapDocument(v, p.uri, path) && o.map("position", p.position);
}

bool fromJSON(const json::Value& v, DocumentParams& p, json::Path path) {
  json::ObjectMapper o(v, path);
  return o && mapDocument(v, p.uri, path) && o.mapOptional("range", p.range);
}

std::string uriFromPath(llvm::StringRef path) {
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || llvm::StringRef("/-._~").contains(char(c))) {
      out += char(c);
    } else {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> pathFromUri(llvm::StringRef uri) {
  if (!uri.consume_front("file://")) return std::nullopt;
  // `file://localhost/x` and `file:///x` name local files.
  uri.consume_front("localhost");
  if (!uri.startswith("/")) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] != '%') {
      out += uri[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= uri.size() + 0 || uri.substr(i + 1, 2).getAsInteger(16, v))
      return std::nullopt;
    out += char(v);
    i += 2;
  }
  if (out.find('\0') != std::string::npos) return std::nullopt;
  return out;
}

std::size_t offsetOf(llvm::StringRef text, Position p, Encoding enc) {
  std::size_t start = 0;
  for (std::int64_t l = 0; l < p.line; ++l) {
    std::size_t nl = text.find('\n', start);
    if (nl == llvm::StringRef::npos) return text.size();
    start = nl + 1;
  }
  std::size_t end = text.find('\n', start);
  if (end == llvm::StringRef::npos) end = text.size();
  if (end > start && text[end - 1] == '\r') --end;
  if (p.character <= 0) return start;
  if (enc == Encoding::Utf8)
    return std::min(end, start + std::size_t(p.character));
  // Walk code points, counting UTF-16 units.
  std::int64_t units = 0;
  std::size_t i = start;
  while (i < end && units < p.character) {
    unsigned char c = text[i];
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c >= 0x80 && c < 0xC0) len = 1;  // a stray continuation byte
    if (i + len > end) len = end - i;
    units += len == 4 ? 2 : 1;
    i += len;
  }
  return i;
}

Position positionOf(llvm::StringRef text, std::size_t offset, Encoding enc) {
  offset = std::min(offset, text.size());
  llvm::StringRef before = text.take_front(offset);
  Position p;
  p.line = std::int64_t(before.count('\n'));
  std::size_t ls = before.rfind('\n');
  ls = ls == llvm::StringRef::npos ? 0 : ls + 1;
  llvm::StringRef col = before.drop_front(ls);
  p.character = enc == Encoding::Utf8 ? std::int64_t(col.size())
                                      : std::int64_t(ir::utf16Length(col));
  return p;
}

Position toPosition(const frontend::Point& p, Encoding enc) {
  return {p.line, enc == Encoding::Utf8 ? p.byte : p.utf16};
}

Range toRange(const frontend::Span& s, Encoding enc) {
  return {toPosition(s.start, enc), toPosition(s.end, enc)};
}

}  // namespace pipec::lsp
