// Fuzz target over the language server's message decoder: framing, JSON,
// the protocol structures and position conversion. The decoder must always
// make progress (a message or a malformed frame consumes input) and never
// read outside its buffer.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/lsp/protocol.h"
#include "tools/lsp/transport.h"

using namespace pipec::lsp;

namespace {

template <typename T>
bool decodeAs(const llvm::json::Value& v, T& out) {
  llvm::json::Path::Root root;
  return fromJSON(v, out, root);
}

void useMessage(const std::string& body) {
  auto v = llvm::json::parse(body);
  if (!v) {
    llvm::consumeError(v.takeError());
    return;
  }
  const llvm::json::Object* o = v->getAsObject();
  const llvm::json::Value* params = o ? o->get("params") : nullptr;
  if (!params) return;
  PositionParams pp;
  if (decodeAs(*params, pp)) {
    (void)pathFromUri(pp.uri);
    for (Encoding e : {Encoding::Utf16, Encoding::Utf8}) {
      std::size_t off = offsetOf(body, pp.position, e);
      if (off > body.size()) std::abort();
      (void)positionOf(body, off, e);
    }
  }
  DidChangeParams dc;
  if (decodeAs(*params, dc))
    for (const ContentChange& c : dc.changes)
      if (c.range) {
        std::size_t a = offsetOf(c.text, c.range->start, Encoding::Utf16);
        if (a > c.text.size()) std::abort();
      }
  DocumentParams dp;
  (void)decodeAs(*params, dp);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::string body;
  while (true) {
    std::size_t before = input.size();
    FrameStatus s = decodeFrame(input, body, 1u << 20);
    if (s == FrameStatus::NeedMore) break;
    if (input.size() >= before) std::abort();  // no progress
    if (s == FrameStatus::Message) useMessage(body);
  }
  return 0;
}
