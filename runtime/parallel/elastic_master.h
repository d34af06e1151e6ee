// The AIMaster of `pipec run` for elasticbatch steps: a shard service per
// running step, its address and Python client in the workers' environment,
// and the restart of workers that die while shards are left.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "runtime/local_runner.h"
#include "runtime/parallel/aimaster.h"

namespace pipec::runtime::parallel {

/// Serves the shards of each elasticbatch step while it runs. The shards
/// are the step's data input (the first bound file, folder or table input,
/// in declaration order) split as a parallel step splits input_data with
/// its defaults: 10 files, or 1 MB of table rows, per shard; a step without
/// one has no shards. Workers get PIPEC_AIMASTER_ADDR and the client
/// (pipec_elasticbatch) on PYTHONPATH. A worker that dies while shards are
/// left is started again, up to kRestarts times; its shard goes to the next
/// worker that asks, and a shard lost with kMaxLosses workers is given up,
/// which fails the step. A worker may die with each loss of one shard
/// without running out of restarts, so that the step says which shard.
class ShardService : public ElasticBatchMaster {
 public:
  static constexpr int kMaxLosses = 4;          ///< per shard: 1 + 3 retries
  static constexpr int kRestarts = kMaxLosses;  ///< per worker process
  ShardService() = default;
  ~ShardService() override;
  ShardService(const ShardService&) = delete;
  ShardService& operator=(const ShardService&) = delete;

  llvm::Error start(const StepPlan& step, ir::EnvList& worker_env) override;
  bool restartWorker(const StepPlan& step, const std::string& process,
                     int status) override;
  /// An error when a shard was given up, the input became unreadable, or
  /// the workers ended with shards left.
  llvm::Error finished(const StepPlan& step) override;
  void stop(const StepPlan& step, bool succeeded) override;

 private:
  struct Job {
    std::unique_ptr<ShardMaster> master;
    std::string socket_dir;  ///< a private folder for the socket, or empty
    std::map<std::string, int> restarts;  ///< by process name
  };
  std::map<std::string, Job> jobs_;  ///< by step name
};

}  // namespace pipec::runtime::parallel
