// Small helpers on IR nodes: lookups, spellings.
#include "ir/ir.h"

#include <fmt/format.h>

namespace pipec::ir {

namespace {
struct JobTypeSpelling {
  llvm::StringRef name;
  JobType type;
};
constexpr JobTypeSpelling kJobTypes[] = {
    {"command", JobType::Command},
    {"tensorflow", JobType::TensorFlow},
    {"pytorch", JobType::PyTorch},
    {"xgboost", JobType::XGBoost},
    {"elasticbatch", JobType::ElasticBatch},
};

template <typename T>
const T* findByName(const std::vector<T>& v, llvm::StringRef n) {
  for (const T& x : v)
    if (x.name == n) return &x;
  return nullptr;
}
}  // namespace

llvm::StringRef jobTypeName(JobType t) {
  for (const auto& s : kJobTypes)
    if (s.type == t) return s.name;
  return "command";
}

std::optional<JobType> parseJobType(llvm::StringRef name) {
  for (const auto& s : kJobTypes)
    if (s.name.equals_insensitive(name)) return s.type;
  return std::nullopt;
}

llvm::ArrayRef<llvm::StringRef> jobTypeSpellings() {
  static const std::vector<llvm::StringRef> names = [] {
    std::vector<llvm::StringRef> v;
    for (const auto& s : kJobTypes) v.push_back(s.name);
    return v;
  }();
  return names;
}

llvm::StringRef batchByName(ParallelSettings::BatchBy b) {
  switch (b) {
    case ParallelSettings::BatchBy::Count:
      return "count";
    case ParallelSettings::BatchBy::Size:
      return "size";
    case ParallelSettings::BatchBy::PartitionKeys:
      return "partition_keys";
  }
  return "count";
}

std::optional<ParallelSettings::BatchBy> parseBatchBy(llvm::StringRef name) {
  if (name == "count") return ParallelSettings::BatchBy::Count;
  if (name == "size") return ParallelSettings::BatchBy::Size;
  if (name == "partition_keys") return ParallelSettings::BatchBy::PartitionKeys;
  return std::nullopt;
}

llvm::StringRef componentKindName(ComponentKind k) {
  switch (k) {
    case ComponentKind::Command:
      return "command";
    case ComponentKind::Parallel:
      return "parallel";
    case ComponentKind::Pipeline:
      return "pipeline";
  }
  return "command";
}

const Step* Pipeline::findStep(llvm::StringRef name) const {
  return findByName(steps, name);
}

const Port* Component::findInput(llvm::StringRef n) const {
  return findByName(inputs, n);
}
const Port* Component::findOutput(llvm::StringRef n) const {
  return findByName(outputs, n);
}
const Param* Component::findParam(llvm::StringRef n) const {
  return findByName(params, n);
}

Violation checkConstraints(const Param& p, const Value& v) {
  if (p.min || p.max) {
    bool numeric = p.type == Type::Int || p.type == Type::Float;
    if (numeric || p.type == Type::String) {
      double x = numeric ? v.asFloat() : double(v.asString().size());
      if ((p.min && x < *p.min) || (p.max && x > *p.max))
        return Violation::Range;
    }
  }
  if (!p.enum_values.empty()) {
    for (const Value& e : p.enum_values)
      if (e == v) return Violation::None;
    return Violation::Enum;
  }
  return Violation::None;
}

std::string describeConstraint(const Param& p, Violation v) {
  auto num = [](std::optional<double> d, const char* inf) -> std::string {
    if (!d) return inf;
    if (*d == double(int64_t(*d))) return std::to_string(int64_t(*d));
    return formatFloat(*d);
  };
  if (v == Violation::Range)
    return fmt::format("{}[{}, {}]",
                       p.type == Type::String ? "a length in " : "",
                       num(p.min, "-inf"), num(p.max, "inf"));
  std::string out = "one of ";
  for (std::size_t i = 0; i < p.enum_values.size(); ++i)
    out += (i ? ", '" : "'") + p.enum_values[i].toText() + "'";
  return out;
}

std::string Component::displayId() const {
  if (name.empty()) return "<inline>";
  if (version.empty()) return name;
  return name + "@" + version;
}

}  // namespace pipec::ir
