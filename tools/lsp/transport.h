// JSON-RPC over a byte stream: `Content-Length` framing, reading and writing.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

namespace pipec::lsp {

/// What decodeFrame() found at the front of its input.
enum class FrameStatus {
  Message,    ///< a whole message: its body is set and the input consumed
  NeedMore,   ///< the headers or the body are not complete yet
  Malformed,  ///< the headers are not LSP headers: the bad part is consumed
};

/// Cuts the first message out of `input` (headers `Name: value\r\n`, a blank
/// line, then `Content-Length` bytes of body). A body larger than
/// `max_body` bytes, a header without a colon, a missing or non-numeric
/// Content-Length are Malformed: the input up to the end of those headers
/// is dropped, so a reader can go on with the next message. Never throws,
/// never reads past `input`.
FrameStatus decodeFrame(std::string& input, std::string& body,
                        std::size_t max_body = 64u << 20);

/// `Content-Length: N\r\n\r\n` and `body`.
std::string encodeFrame(llvm::StringRef body);

/// Reads messages from one file descriptor and writes them to another.
/// write() may be called from any thread.
class Transport {
 public:
  Transport(int in_fd, int out_fd) : in_(in_fd), out_(out_fd) {}

  /// The next message body, or nothing at the end of input (the client
  /// closed the stream or vanished). Malformed framing is skipped and
  /// counted.
  std::optional<std::string> read();
  /// Sends one message; false when the other end is gone.
  bool write(const llvm::json::Value& message);
  unsigned malformedFrames() const { return malformed_; }

 private:
  int in_, out_;
  std::string buffer_;
  bool eof_ = false;
  unsigned malformed_ = 0;
  std::mutex write_mu_;
  bool broken_ = false;
};

}  // namespace pipec::lsp
