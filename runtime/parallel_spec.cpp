// JSON round trip of ParallelStepSpec.
#include "runtime/parallel_spec.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace pipec::runtime {

using llvm::json::Array;
using llvm::json::Object;

namespace {

const char* batchByName(ir::ParallelSettings::BatchBy b) {
  switch (b) {
    case ir::ParallelSettings::BatchBy::Count:
      return "count";
    case ir::ParallelSettings::BatchBy::Size:
      return "size";
    case ir::ParallelSettings::BatchBy::PartitionKeys:
      return "partition_keys";
  }
  return "count";
}

llvm::Error bad(const std::string& what) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "parallel step spec: " + what);
}

}  // namespace

llvm::json::Value toJson(const ParallelStepSpec& s) {
  const ir::ParallelSettings& p = s.settings;
  Object settings{
      {"input_data", p.input_data},
      {"batch_by", batchByName(p.batch_by)},
      {"mini_batch_size", int64_t(p.mini_batch_size)},
      {"max_concurrency_per_instance", p.max_concurrency_per_instance},
      {"mini_batch_error_threshold", p.mini_batch_error_threshold},
      {"error_threshold", p.error_threshold},
      {"allowed_failed_percent", p.allowed_failed_percent},
      {"max_retries", p.max_retries},
      {"timeout_ms", int64_t(p.timeout_ms)},
      {"logging_level", p.logging_level},
      {"entry_script", p.entry_script},
      {"append_row_to", p.append_row_to},
      {"task_overhead_timeout_ms", int64_t(p.task_overhead_timeout_ms)},
      {"progress_update_timeout_ms", int64_t(p.progress_update_timeout_ms)},
      {"first_task_creation_timeout_ms",
       int64_t(p.first_task_creation_timeout_ms)},
      {"resource_monitor_interval_ms", int64_t(p.resource_monitor_interval_ms)},
      {"copy_logs_to_parent", p.copy_logs_to_parent},
  };
  Array keys;
  for (const auto& k : p.partition_keys) keys.push_back(k);
  settings["partition_keys"] = std::move(keys);
  Array args;
  for (const auto& a : s.program_arguments) args.push_back(a);
  Object env;
  for (const auto& [k, v] : s.env) env[k] = v;
  return Object{{"step_name", s.step_name},
                {"location", s.location},
                {"python", s.python},
                {"code_dir", s.code_dir},
                {"entry_script", s.entry_script},
                {"program_arguments", std::move(args)},
                {"input_path", s.input_path},
                {"input_type", ir::typeName(s.input_type)},
                {"settings", std::move(settings)},
                {"instance_count", s.instance_count},
                {"append_row_to", s.append_row_to},
                {"env", std::move(env)},
                {"logs_dir", s.logs_dir},
                {"state_dir", s.state_dir},
                {"resume", s.resume}};
}

llvm::Expected<ParallelStepSpec> parallelStepSpecFromJson(
    const llvm::json::Value& v) {
  const Object* o = v.getAsObject();
  if (!o) return bad("not an object");
  ParallelStepSpec s;
  auto str = [&](const Object& obj, llvm::StringRef key, std::string& out) {
    if (auto x = obj.getString(key)) out = x->str();
  };
  auto num = [&](const Object& obj, llvm::StringRef key, auto& out) {
    if (auto x = obj.getInteger(key))
      out = static_cast<std::decay_t<decltype(out)>>(*x);
  };
  str(*o, "step_name", s.step_name);
  str(*o, "location", s.location);
  str(*o, "python", s.python);
  str(*o, "code_dir", s.code_dir);
  str(*o, "entry_script", s.entry_script);
  str(*o, "input_path", s.input_path);
  str(*o, "append_row_to", s.append_row_to);
  str(*o, "logs_dir", s.logs_dir);
  str(*o, "state_dir", s.state_dir);
  num(*o, "instance_count", s.instance_count);
  if (auto r = o->getBoolean("resume")) s.resume = *r;
  if (auto t = o->getString("input_type")) {
    auto type = ir::parseType(*t);
    if (!type) return bad("unknown input_type '" + t->str() + "'");
    s.input_type = *type;
  }
  if (const Array* a = o->getArray("program_arguments"))
    for (const auto& x : *a)
      if (auto w = x.getAsString()) s.program_arguments.push_back(w->str());
  if (const Object* e = o->getObject("env"))
    for (const auto& kv : *e)
      if (auto w = kv.second.getAsString())
        s.env.emplace_back(kv.first.str(), w->str());
  std::sort(s.env.begin(), s.env.end());
  const Object* p = o->getObject("settings");
  if (!p) return bad("missing settings");
  ir::ParallelSettings& ps = s.settings;
  str(*p, "input_data", ps.input_data);
  if (auto b = p->getString("batch_by")) {
    if (*b == "count")
      ps.batch_by = ir::ParallelSettings::BatchBy::Count;
    else if (*b == "size")
      ps.batch_by = ir::ParallelSettings::BatchBy::Size;
    else if (*b == "partition_keys")
      ps.batch_by = ir::ParallelSettings::BatchBy::PartitionKeys;
    else
      return bad("unknown batch_by '" + b->str() + "'");
  }
  num(*p, "mini_batch_size", ps.mini_batch_size);
  num(*p, "max_concurrency_per_instance", ps.max_concurrency_per_instance);
  num(*p, "mini_batch_error_threshold", ps.mini_batch_error_threshold);
  num(*p, "error_threshold", ps.error_threshold);
  if (auto f = p->getNumber("allowed_failed_percent"))
    ps.allowed_failed_percent = *f;
  num(*p, "max_retries", ps.max_retries);
  num(*p, "timeout_ms", ps.timeout_ms);
  str(*p, "logging_level", ps.logging_level);
  str(*p, "entry_script", ps.entry_script);
  str(*p, "append_row_to", ps.append_row_to);
  num(*p, "task_overhead_timeout_ms", ps.task_overhead_timeout_ms);
  num(*p, "progress_update_timeout_ms", ps.progress_update_timeout_ms);
  num(*p, "first_task_creation_timeout_ms", ps.first_task_creation_timeout_ms);
  num(*p, "resource_monitor_interval_ms", ps.resource_monitor_interval_ms);
  if (auto b = p->getBoolean("copy_logs_to_parent"))
    ps.copy_logs_to_parent = *b;
  if (const Array* a = p->getArray("partition_keys"))
    for (const auto& x : *a)
      if (auto w = x.getAsString()) ps.partition_keys.push_back(w->str());
  return s;
}

llvm::Error writeParallelStepSpec(const ParallelStepSpec& spec,
                                  llvm::StringRef path) {
  std::string tmp = path.str() + ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_Text);
    if (ec) return llvm::createFileError(tmp, ec);
    os << llvm::formatv("{0:2}", toJson(spec)) << "\n";
    os.close();
    if (os.has_error()) return llvm::createFileError(tmp, os.error());
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path))
    return llvm::createFileError(path, ec);
  return llvm::Error::success();
}

llvm::Expected<ParallelStepSpec> readParallelStepSpec(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf) return llvm::createFileError(path, buf.getError());
  auto v = llvm::json::parse((*buf)->getBuffer());
  if (!v) return v.takeError();
  return parallelStepSpecFromJson(*v);
}

}  // namespace pipec::runtime
