// The language server: LSP messages in, answers and diagnostics out, the
// work done on one worker thread so that the reader stays free for
// cancellation and edits.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "frontend/session.h"
#include "llvm/Support/JSON.h"
#include "tools/lsp/protocol.h"

namespace pipec::lsp {

struct ServerOptions {
  frontend::SessionOptions session;
  /// Quiet time after an edit before its diagnostics are computed.
  unsigned debounce_ms = 2;
  /// Quiet time after a document's diagnostics before its symbol index is
  /// built (hover, definition and completion build it at once if sooner).
  unsigned index_delay_ms = 300;
  /// Diagnostic codes link to `docs_url#CODE` when set.
  std::string docs_url;
  /// The workspace folders the client named in `initialize` (rootUri,
  /// rootPath, workspaceFolders): where rename and references look for
  /// closed files that use a component.
  std::vector<std::string> roots;
};

/// One LSP server. handle() is called by the reading thread for each
/// message; `send` is called from the reading thread and the worker, so it
/// must be thread-safe.
class Server {
 public:
  using Send = std::function<void(llvm::json::Value)>;
  Server(ServerOptions options, Send send);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Handles one message body (answering malformed ones with the protocol's
  /// errors). Returns false after `exit`.
  bool handle(llvm::StringRef body);
  /// Stops the worker after the tasks it has started (end of input).
  void stop();
  /// 0 after `shutdown` then `exit`, else 1.
  int exitCode() const { return shutdown_ ? 0 : 1; }

 private:
  struct Task {
    std::function<void()> run;
    std::chrono::steady_clock::time_point due;
    std::string key;  ///< debounced tasks: a later one with the key replaces it
    std::uint64_t seq = 0;
  };
  class Handlers;

  void reply(const llvm::json::Value& id, llvm::Expected<llvm::json::Value> r);
  void replyError(const llvm::json::Value& id, ErrorCode code,
                  llvm::StringRef message);
  void notify(llvm::StringRef method, llvm::json::Value params);
  void enqueue(Task task);
  void workerLoop();
  bool takeCancelled(const llvm::json::Value& id);
  void request(llvm::StringRef method, const llvm::json::Value& id,
               const llvm::json::Value& params);
  void notification(llvm::StringRef method, const llvm::json::Value& params);
  /// Schedules the diagnostics of `path` after the debounce delay.
  void scheduleDiagnostics(const std::string& path, bool now = false);

  ServerOptions options_;
  Send send_;
  std::unique_ptr<Handlers> handlers_;  ///< worker-thread state
  Encoding encoding_ = Encoding::Utf16;
  bool initialized_ = false;
  bool shutdown_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  std::uint64_t seq_ = 0;
  bool stopping_ = false;
  std::set<std::string> cancelled_;  ///< ids, as JSON text
  std::thread worker_;
};

}  // namespace pipec::lsp
