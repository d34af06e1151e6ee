// ShardService: the shards of an elasticbatch step's data input, served while
// the step runs.
#include "runtime/parallel/elastic_master.h"

#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"

namespace pipec::runtime::parallel {

namespace {

llvm::Error error(const std::string& what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s",
                                 what.c_str());
}

// How a step's data input is split into shards.
SourceOptions shardsOf(const StepPlan& step, const std::string& scratch) {
  SourceOptions o;
  o.scratch_dir = scratch;
  for (const lowering::InputData& in : step.inputs) {
    if (!ir::isArtifact(in.type) ||
        in.source.kind == ir::DataSource::Kind::None || in.path.empty())
      continue;
    o.input_path = in.path;
    o.input_type = in.type;
    if (in.type == ir::Type::Table) {
      o.batch_by = ir::ParallelSettings::BatchBy::Size;
      o.mini_batch_size = 1u << 20;
    }
    break;
  }
  return o;
}

}  // namespace

ShardService::~ShardService() {
  for (auto& [name, job] : jobs_) {
    job.master.reset();
    if (!job.socket_dir.empty()) ::rmdir(job.socket_dir.c_str());
  }
}

llvm::Error ShardService::start(const StepPlan& step, ir::EnvList& env) {
  std::string state = step.dir + "/state";
  std::string scratch = state + "/aimaster";
  std::string client = state + "/harness";
  for (const std::string& d : {scratch, client})
    if (std::error_code ec = llvm::sys::fs::create_directories(d))
      return error("cannot make '" + d + "': " + ec.message());
  Job job;
  // The socket's path must fit in sockaddr_un: a private folder under
  // $TMPDIR when the step's is too deep.
  std::string socket = state + "/aimaster.sock";
  if (socket.size() >= sizeof(sockaddr_un::sun_path)) {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp && *tmp ? tmp : "/tmp";
    std::string pattern = base + "/pipec-aimaster-XXXXXX";
    if (!::mkdtemp(pattern.data()))
      return error("cannot make a folder for the shard service in '" + base +
                   "': " + std::strerror(errno));
    job.socket_dir = pattern;
    socket = pattern + "/sock";
  }
  Problem problem;
  job.master = ShardMaster::start(shardsOf(step, scratch), socket, client,
                                  problem, kMaxLosses);
  if (!job.master) {
    if (!job.socket_dir.empty()) ::rmdir(job.socket_dir.c_str());
    return error("the shard service did not start: " + problem.message());
  }
  // The client goes first on the step's PYTHONPATH (or pipec's).
  std::string pythonpath;
  if (const char* p = std::getenv("PYTHONPATH")) pythonpath = p;
  for (const auto& [k, v] : step.env)
    if (k == "PYTHONPATH") pythonpath = v;
  for (auto& kv : job.master->workerEnvironment(pythonpath))
    env.push_back(std::move(kv));
  jobs_[step.name] = std::move(job);
  return llvm::Error::success();
}

bool ShardService::restartWorker(const StepPlan& step,
                                 const std::string& process, int) {
  auto it = jobs_.find(step.name);
  if (it == jobs_.end()) return false;
  // The dead worker's shard is back (or given up) before this is judged.
  // Once every shard is done, a death is the step's failure (the worker may
  // have lost what it had not written yet); with a shard given up, the
  // step fails anyway, saying that.
  ShardMaster& m = *it->second.master;
  m.sync();
  if (m.finished() && m.givenUp().empty()) return false;
  int& n = it->second.restarts[process];
  if (n >= kRestarts) return false;
  ++n;
  return true;
}

llvm::Error ShardService::finished(const StepPlan& step) {
  auto it = jobs_.find(step.name);
  if (it == jobs_.end()) return llvm::Error::success();
  ShardMaster& m = *it->second.master;
  m.sync();
  Problem p = m.problem();
  if (!p.empty()) return error(p.message());
  std::vector<std::string> lost = m.givenUp();
  if (!lost.empty())
    return error("shard " + lost.front() + " was lost with " +
                 std::to_string(kMaxLosses) + " workers" +
                 (lost.size() > 1 ? " (and " + std::to_string(lost.size() - 1) +
                                        " more shards)"
                                  : ""));
  if (!m.finished()) {
    ShardMaster::Stats s = m.stats();
    std::string left = s.all_produced
                           ? std::to_string(s.produced - s.finished) + " of " +
                                 std::to_string(s.produced)
                       : s.total ? std::to_string(*s.total - s.finished) +
                                       " of " + std::to_string(*s.total)
                                 : "some";
    return error("the workers ended with " + left +
                 " shards unfinished; a shard is finished when its worker "
                 "asks for the next one");
  }
  return llvm::Error::success();
}

void ShardService::stop(const StepPlan& step, bool) {
  auto it = jobs_.find(step.name);
  if (it == jobs_.end()) return;
  it->second.master.reset();  // stops serving, removes the socket
  if (!it->second.socket_dir.empty()) ::rmdir(it->second.socket_dir.c_str());
  jobs_.erase(it);
}

}  // namespace pipec::runtime::parallel
