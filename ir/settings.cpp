// The table of job settings and the one reader of their values.
#include "ir/settings.h"

#include <array>

#include "ir/types.h"

namespace pipec::ir {

namespace {

// A row: the setting and the one field it lands in.
struct Row {
  SettingInfo info;
  std::int64_t Resources::*r_int = nullptr;
  bool Resources::*r_bool = nullptr;
  std::string Resources::*r_text = nullptr;
  std::int64_t ParallelSettings::*p_int = nullptr;
  std::uint64_t ParallelSettings::*p_ms = nullptr;
  double ParallelSettings::*p_double = nullptr;
  bool ParallelSettings::*p_bool = nullptr;
  std::string ParallelSettings::*p_text = nullptr;
};

using K = SettingKind;
using P = ParallelSettings;
using Sec = SettingSection;

// A resource (`section` Resources or Distribution).
constexpr SettingInfo R(llvm::StringRef name, SettingKind kind,
                        std::int64_t min = 0, Sec section = Sec::Resources,
                        llvm::StringRef yaml_alias = "") {
  return SettingInfo{.name = name,
                     .kind = kind,
                     .min = min,
                     .section = section,
                     .yaml_key = true,
                     .prs_flag = false,
                     .json_key = "",
                     .yaml_alias = yaml_alias};
}

// A parallel-run setting. `yaml_key` false: a PRS flag in Azure's YAML.
constexpr SettingInfo S(llvm::StringRef name, SettingKind kind,
                        std::int64_t min, Sec section, bool yaml_key,
                        bool prs_flag, llvm::StringRef json_key) {
  return SettingInfo{.name = name,
                     .kind = kind,
                     .min = min,
                     .section = section,
                     .yaml_key = yaml_key,
                     .prs_flag = prs_flag,
                     .json_key = json_key,
                     .yaml_alias = ""};
}

constexpr Sec kPar = Sec::Parallel;
constexpr Sec kDist = Sec::Distribution;

const std::array<Row, 21> kRows = {{
    {.info = R("instance_count", K::Int, 1),
     .r_int = &Resources::instance_count},
    {.info = R("gpu_count", K::Int, 0, Sec::Resources, "gpu"),
     .r_int = &Resources::gpu_count},
    {.info = R("process_count_per_instance", K::Int, 1, kDist),
     .r_int = &Resources::process_count_per_instance},
    {.info = R("worker_count", K::Int, 0, kDist),
     .r_int = &Resources::tf_worker},
    {.info = R("parameter_server_count", K::Int, 0, kDist),
     .r_int = &Resources::tf_ps},
    {.info = R("multi_instance", K::Bool),
     .r_bool = &Resources::multi_instance},
    {.info = R("multi_gpu", K::Bool), .r_bool = &Resources::multi_gpu},
    {.info = R("instance_type", K::Text), .r_text = &Resources::instance_type},
    {.info = S("mini_batch_size", K::BatchSize, 0, kPar, true, false, "")},
    {.info = S("max_concurrency_per_instance", K::Int, 1, kPar, true, false,
               "max_concurrency_per_instance"),
     .p_int = &P::max_concurrency_per_instance},
    {.info = S("mini_batch_error_threshold", K::Int, -1, kPar, true, false,
               "mini_batch_error_threshold"),
     .p_int = &P::mini_batch_error_threshold},
    {.info =
         S("error_threshold", K::Int, -1, kPar, true, true, "error_threshold"),
     .p_int = &P::error_threshold},
    {.info = S("allowed_failed_percent", K::Percent, 0, kPar, false, true,
               "allowed_failed_percent"),
     .p_double = &P::allowed_failed_percent},
    {.info =
         S("max_retries", K::Int, 0, Sec::Retry, true, false, "max_retries"),
     .p_int = &P::max_retries},
    {.info =
         S("timeout", K::Duration, 0, Sec::Retry, true, false, "timeout_ms"),
     .p_ms = &P::timeout_ms},
    {.info =
         S("logging_level", K::Level, 0, kPar, true, false, "logging_level"),
     .p_text = &P::logging_level},
    {.info = S("task_overhead_timeout", K::Duration, 0, kPar, false, true,
               "task_overhead_timeout_ms"),
     .p_ms = &P::task_overhead_timeout_ms},
    {.info = S("progress_update_timeout", K::Duration, 0, kPar, false, true,
               "progress_update_timeout_ms"),
     .p_ms = &P::progress_update_timeout_ms},
    {.info = S("first_task_creation_timeout", K::Duration, 0, kPar, false, true,
               "first_task_creation_timeout_ms"),
     .p_ms = &P::first_task_creation_timeout_ms},
    {.info = S("resource_monitor_interval", K::Duration, 0, kPar, false, true,
               "resource_monitor_interval_ms"),
     .p_ms = &P::resource_monitor_interval_ms},
    {.info = S("copy_logs_to_parent", K::Bool, 0, kPar, false, true,
               "copy_logs_to_parent"),
     .p_bool = &P::copy_logs_to_parent},
}};

const std::array<SettingInfo, kRows.size()> kInfos = [] {
  std::array<SettingInfo, kRows.size()> out{};
  for (std::size_t i = 0; i < kRows.size(); ++i) out[i] = kRows[i].info;
  return out;
}();

const Row& rowOf(const SettingInfo& s) { return kRows[&s - kInfos.data()]; }

std::optional<bool> parseBool(llvm::StringRef text) {
  std::string l = text.trim().lower();
  if (l == "true" || l == "yes" || l == "1") return true;
  if (l == "false" || l == "no" || l == "0") return false;
  return std::nullopt;
}

std::optional<std::string> parseLevel(llvm::StringRef text) {
  std::string l = text.trim().upper();
  for (const char* ok : {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
    if (l == ok) return l;
  return std::nullopt;
}

}  // namespace

llvm::ArrayRef<SettingInfo> allSettings() { return kInfos; }

const SettingInfo* findSetting(llvm::StringRef name) {
  for (const SettingInfo& s : kInfos)
    if (s.name == name) return &s;
  return nullptr;
}

const SettingInfo* findSettingKey(llvm::StringRef key, SettingSection section,
                                  bool yaml) {
  for (const SettingInfo& s : kInfos) {
    if (s.section != section) continue;
    if (!yaml && s.name == key) return &s;
    if (yaml && s.yaml_key && (s.name == key || s.yaml_alias == key)) return &s;
  }
  return nullptr;
}

std::string settingNeeds(const SettingInfo& s) {
  switch (s.kind) {
    case K::Int:
      return s.min == -1  ? "an integer, -1 or more"
             : s.min == 0 ? "a whole number, 0 or more"
                          : "a whole number, at least " + std::to_string(s.min);
    case K::Percent:
      return "a percentage from 0 to 100";
    case K::Duration:
      return "a duration in seconds (or with a unit: 250ms, 5m)";
    case K::Bool:
      return "True or False";
    case K::Level:
      return "one of DEBUG, INFO, WARNING, ERROR, CRITICAL";
    case K::BatchSize:
      return "a count of files (10) or a size like 10kb, 1mb";
    case K::Text:
      return "text";
  }
  return "";
}

std::string applySetting(const SettingInfo& s, llvm::StringRef text,
                         Resources& r, ParallelSettings* p, bool table_input) {
  const Row& row = rowOf(s);
  if (s.parallel() && !p) return settingNeeds(s);
  llvm::StringRef t = text.trim();
  switch (s.kind) {
    case K::Int: {
      std::int64_t n;
      if (t.getAsInteger(10, n) || n < s.min) return settingNeeds(s);
      (row.r_int ? r.*row.r_int : p->*row.p_int) = n;
      return "";
    }
    case K::Percent: {
      double d;
      if (t.getAsDouble(d) || !(d >= 0 && d <= 100)) return settingNeeds(s);
      p->*row.p_double = d;
      return "";
    }
    case K::Duration: {
      auto ms = parseDuration(t);
      if (!ms) return settingNeeds(s);
      p->*row.p_ms = *ms;
      return "";
    }
    case K::Bool: {
      auto b = parseBool(t);
      if (!b) return settingNeeds(s);
      (row.r_bool ? r.*row.r_bool : p->*row.p_bool) = *b;
      return "";
    }
    case K::Level: {
      auto l = parseLevel(t);
      if (!l) return settingNeeds(s);
      p->*row.p_text = *l;
      return "";
    }
    case K::BatchSize: {
      auto size = parseBatchSize(t);
      if (!size) return settingNeeds(s);
      p->mini_batch_size = size->value;
      p->mini_batch_files = size->bytes ? 0 : size->value;
      p->batch_by = size->bytes || table_input
                        ? ParallelSettings::BatchBy::Size
                        : ParallelSettings::BatchBy::Count;
      return "";
    }
    case K::Text:
      (row.r_text ? r.*row.r_text : p->*row.p_text) = text.str();
      return "";
  }
  return "";
}

llvm::json::Object settingsJson(const ParallelSettings& p) {
  llvm::json::Array keys;
  for (const std::string& k : p.partition_keys) keys.push_back(k);
  llvm::json::Object o{{"input_data", p.input_data},
                       {"batch_by", batchByName(p.batch_by)},
                       {"mini_batch_size", std::int64_t(p.mini_batch_size)},
                       {"mini_batch_files", std::int64_t(p.mini_batch_files)},
                       {"partition_keys", std::move(keys)},
                       {"entry_script", p.entry_script},
                       {"append_row_to", p.append_row_to}};
  for (const Row& row : kRows) {
    const SettingInfo& s = row.info;
    if (s.json_key.empty()) continue;
    if (row.p_int) o[s.json_key] = p.*row.p_int;
    if (row.p_ms) o[s.json_key] = std::int64_t(p.*row.p_ms);
    if (row.p_double) o[s.json_key] = p.*row.p_double;
    if (row.p_bool) o[s.json_key] = p.*row.p_bool;
    if (row.p_text) o[s.json_key] = p.*row.p_text;
  }
  return o;
}

llvm::Error settingsFromJson(const llvm::json::Object& o, ParallelSettings& p) {
  auto str = [&](llvm::StringRef key, std::string& out) {
    if (auto x = o.getString(key)) out = x->str();
  };
  str("input_data", p.input_data);
  if (auto b = o.getString("batch_by")) {
    auto by = parseBatchBy(*b);
    if (!by)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "unknown batch_by '" + b->str() + "'");
    p.batch_by = *by;
  }
  if (auto x = o.getInteger("mini_batch_size"))
    p.mini_batch_size = std::uint64_t(*x);
  if (auto x = o.getInteger("mini_batch_files"))
    p.mini_batch_files = std::uint64_t(*x);
  if (const llvm::json::Array* a = o.getArray("partition_keys"))
    for (const auto& x : *a)
      if (auto w = x.getAsString()) p.partition_keys.push_back(w->str());
  str("entry_script", p.entry_script);
  str("append_row_to", p.append_row_to);
  for (const Row& row : kRows) {
    llvm::StringRef key = row.info.json_key;
    if (key.empty()) continue;
    if (row.p_int)
      if (auto x = o.getInteger(key)) p.*row.p_int = *x;
    if (row.p_ms)
      if (auto x = o.getInteger(key)) p.*row.p_ms = std::uint64_t(*x);
    if (row.p_double)
      if (auto x = o.getNumber(key)) p.*row.p_double = *x;
    if (row.p_bool)
      if (auto x = o.getBoolean(key)) p.*row.p_bool = *x;
    if (row.p_text) str(key, p.*row.p_text);
  }
  return llvm::Error::success();
}

}  // namespace pipec::ir
