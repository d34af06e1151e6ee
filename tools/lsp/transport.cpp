// JSON-RPC framing and the file-descriptor transport.
#include "tools/lsp/transport.h"

#include <unistd.h>

#include <cerrno>

#include "llvm/Support/raw_ostream.h"

namespace pipec::lsp {

FrameStatus decodeFrame(std::string& input, std::string& body,
                        std::size_t max_body) {
  std::size_t end = input.find("\r\n\r\n");
  if (end == std::string::npos) {
    // Headers never grow this long: drop them rather than buffer forever.
    if (input.size() > 64 * 1024) {
      input.clear();
      return FrameStatus::Malformed;
    }
    return FrameStatus::NeedMore;
  }
  llvm::StringRef headers(input.data(), end);
  std::optional<std::size_t> length;
  bool bad = false;
  while (!headers.empty()) {
    auto [line, rest] = headers.split("\r\n");
    headers = rest;
    std::size_t colon = line.find(':');
    if (colon == llvm::StringRef::npos) {
      bad = true;
      continue;
    }
    llvm::StringRef name = line.take_front(colon).trim();
    llvm::StringRef value = line.drop_front(colon + 1).trim();
    if (name.equals_insensitive("Content-Length")) {
      unsigned long long n = 0;
      if (value.getAsInteger(10, n) || n > max_body)
        bad = true;
      else
        length = std::size_t(n);
    }
  }
  if (bad || !length) {
    input.erase(0, end + 4);
    return FrameStatus::Malformed;
  }
  std::size_t start = end + 4;
  if (input.size() - start < *length) return FrameStatus::NeedMore;
  body.assign(input, start, *length);
  input.erase(0, start + *length);
  return FrameStatus::Message;
}

std::string encodeFrame(llvm::StringRef body) {
  return "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body.str();
}

std::optional<std::string> Transport::read() {
  std::string body;
  while (true) {
    switch (decodeFrame(buffer_, body)) {
      case FrameStatus::Message:
        return body;
      case FrameStatus::Malformed:
        ++malformed_;
        continue;
      case FrameStatus::NeedMore:
        break;
    }
    if (eof_) return std::nullopt;
    char chunk[64 * 1024];
    ssize_t n = ::read(in_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      continue;
    }
    buffer_.append(chunk, std::size_t(n));
  }
}

bool Transport::write(const llvm::json::Value& message) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << message;
  os.flush();
  std::string frame = encodeFrame(text);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (broken_) return false;
  const char* p = frame.data();
  std::size_t left = frame.size();
  while (left > 0) {
    ssize_t n = ::write(out_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      broken_ = true;
      return false;
    }
    p += n;
    left -= std::size_t(n);
  }
  return true;
}

}  // namespace pipec::lsp
