// The ElasticBatch AIMaster of `pipec run`: hands out shards of a data input
// to worker processes over a local socket, taking back those of workers that
// die.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/parallel/batch_source.h"

namespace pipec::runtime::parallel {

/// Serves the shards of one ElasticBatch job from a thread of its own.
///
/// Shards are `source` split as a parallel step splits input_data (files by
/// count, tables by size or partition keys). Workers use the Python client
/// stdlib/harness/pipec_elasticbatch.py:
///   worker -> master  "HELLO <worker>", then "NEXT" for each shard (which
///                     also reports the previous shard finished)
///   master -> worker  "S <id> <index> <payload JSON>" a shard,
///                     "W <ms>" none free now (others are held), ask again,
///                     "D" every shard is finished
/// A connection that closes while holding a shard (the worker died) puts the
/// shard back at the front of the queue, up to `max_losses` times a shard;
/// a shard lost more often than that is given up (failed()), as a parallel
/// step gives up a mini-batch after its retries.
class ShardMaster {
 public:
  /// Opens the source (no input_path: no shards at all), binds a Unix
  /// socket at `socket_path` (replacing a stale one), writes the Python
  /// client into `client_dir` and starts serving. Returns null with
  /// `problem` set when any of that fails.
  static std::unique_ptr<ShardMaster> start(const SourceOptions& source,
                                            const std::string& socket_path,
                                            const std::string& client_dir,
                                            Problem& problem,
                                            int max_losses = 4);
  /// Stops serving and removes the socket.
  ~ShardMaster();
  ShardMaster(const ShardMaster&) = delete;
  ShardMaster& operator=(const ShardMaster&) = delete;

  /// What each worker's environment needs: PIPEC_AIMASTER_ADDR, and
  /// PYTHONPATH with the client's folder in front of `pythonpath`.
  std::vector<std::pair<std::string, std::string>> workerEnvironment(
      const std::string& pythonpath) const;

  struct Stats {
    std::uint64_t produced = 0;  ///< shards split off so far
    bool all_produced = false;   ///< the source is exhausted
    std::uint64_t finished = 0;  ///< reported finished by a worker
    std::uint64_t requeued = 0;  ///< taken back from dead workers
    std::uint64_t held = 0;      ///< at workers now
    std::uint64_t given_up = 0;  ///< lost with their workers too often
    /// How many shards there are, when the source knows before the end.
    std::optional<std::uint64_t> total;
  };
  Stats stats() const;
  /// True once every shard is finished or given up.
  bool finished() const;
  /// The shards given up, "index at label", in the order it happened.
  std::vector<std::string> givenUp() const;
  /// Waits until finished() or the timeout; returns finished().
  bool waitFinished(std::chrono::milliseconds timeout) const;
  /// Returns once the service has handled every connection event that
  /// happened before the call: a worker that is known to be dead has had
  /// its shard taken back.
  void sync();
  /// Set when the source failed (the input went unreadable mid-way).
  Problem problem() const;

 private:
  ShardMaster() = default;
  void loop();
  struct Client;
  void onLine(Client& c, const std::string& line);
  void release(Client& c);

  std::unique_ptr<BatchSource> source_;
  std::string socket_path_, client_dir_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;
  std::map<std::uint64_t, MiniBatch> outstanding_;  // produced, not finished
  std::deque<std::uint64_t> requeued_;              // ids to hand out again
  std::map<std::uint64_t, int> losses_;             // by shard id
  std::vector<std::string> given_up_;
  int max_losses_ = 4;
  std::uint64_t rounds_ = 0;     // poll rounds done
  std::atomic<int> syncing_{0};  // sync() calls waiting
  std::condition_variable sync_cv_;
  Stats stats_;
  Problem problem_;
};

}  // namespace pipec::runtime::parallel
