// JSON of the lowered steps.
#include "lowering/plan_json.h"

#include "ir/json_dump.h"
#include "ir/settings.h"
#include "ir/types.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

namespace pipec::lowering {

namespace {

using llvm::json::Array;
using llvm::json::Object;
using llvm::json::Value;

Object envObject(const ir::EnvList& env) {
  Object o;
  for (const auto& [k, v] : env) o[k] = v;
  return o;
}

Array strings(const std::vector<std::string>& words) {
  Array a;
  for (const std::string& w : words) a.push_back(w);
  return a;
}

Value taskJson(const ParallelTask& t) {
  return Object{{"entry_script", t.entry_script},
                {"program_arguments", strings(t.program_arguments)},
                {"input_path", t.input_path},
                {"input_type", ir::typeName(t.input_type)},
                {"append_row_to", t.append_row_to},
                {"instance_count", t.instance_count},
                {"settings", ir::settingsJson(t.settings)}};
}

Value sourceJson(const ir::FlatPipeline& flat, const ir::DataSource& d,
                 llvm::StringRef root_dir) {
  switch (d.kind) {
    case ir::DataSource::Kind::None:
      return nullptr;
    case ir::DataSource::Kind::Path:
      if (d.is_uri) return Object{{"uri", d.path}};
      return Object{{"path", ir::relativePath(d.path, root_dir)}};
    case ir::DataSource::Kind::StepOutput:
      return Object{{"step", flat.steps[d.step].name}, {"output", d.output}};
  }
  return nullptr;
}

Value stepJson(const ir::FlatPipeline& flat, const LoweredStep& s,
               llvm::StringRef root_dir) {
  Array inputs, outputs, processes, after;
  for (const InputData& in : s.inputs) {
    Object o{{"channel", in.channel},
             {"type", ir::typeName(in.type)},
             {"from", sourceJson(flat, in.source, root_dir)}};
    if (in.source.kind != ir::DataSource::Kind::None) o["path"] = in.path;
    inputs.push_back(std::move(o));
  }
  for (const OutputData& out : s.outputs) {
    Object o{{"channel", out.channel},
             {"type", ir::typeName(out.type)},
             {"path", out.path}};
    if (!out.target.empty())
      o["target"] = ir::relativePath(out.target, root_dir);
    outputs.push_back(std::move(o));
  }
  for (const ProcessSlot& p : s.processes)
    processes.push_back(Object{{"name", p.name},
                               {"role", p.role},
                               {"index", p.index},
                               {"decides", p.decides},
                               {"env", envObject(p.env)}});
  for (std::size_t d : s.deps) after.push_back(flat.steps[d].name);
  Array layout;
  for (const LayoutEntry& e : s.layout) {
    if (e.kind == LayoutEntry::Kind::Dir) {
      layout.push_back(Object{{"dir", e.path}});
      continue;
    }
    Object o{{"link", e.path},
             {"to", llvm::sys::path::is_absolute(e.target)
                        ? ir::relativePath(e.target, root_dir)
                        : e.target}};
    if (e.make_target) o["make_target"] = true;
    if (e.after_code) o["after_code"] = true;
    layout.push_back(std::move(o));
  }
  const ir::Resources& r = s.resources;
  Object step{
      {"name", s.name},
      {"component", s.component_id},
      {"kind", s.kind == StepKind::Parallel ? "parallel" : "command"},
      {"job_type", ir::jobTypeName(s.job_type)},
      {"after", std::move(after)},
      {"resources",
       Object{{"instance_type", r.instance_type},
              {"instance_count", r.instance_count},
              {"gpu_count", r.gpu_count},
              {"process_count_per_instance", r.process_count_per_instance}}},
      {"working_dir", s.work_dir},
      {"env", envObject(s.env)},
      {"files", Object{{s.ml_root + "/input/config/hyperparameters.json",
                        s.hyperparameters_json},
                       {s.ml_root + "/input/config/training_job.json",
                        s.training_job_json}}},
      {"processes", std::move(processes)},
      {"inputs", std::move(inputs)},
      {"outputs", std::move(outputs)},
      {"layout", std::move(layout)},
  };
  if (!s.image.empty()) step["image"] = s.image;
  if (!s.cache) step["cache"] = false;
  if (!s.code.empty())
    step["code"] = s.code_is_url ? s.code : ir::relativePath(s.code, root_dir);
  if (s.task) {
    step["parallel"] = taskJson(*s.task);
  } else {
    step["command"] = s.command;
    step["argv"] = s.argv.empty() ? Value(nullptr) : Value(strings(s.argv));
  }
  return step;
}

}  // namespace

llvm::json::Value planJson(const ir::FlatPipeline& flat,
                           const std::vector<LoweredStep>& steps,
                           llvm::StringRef root_dir) {
  Array out;
  for (const LoweredStep& s : steps) out.push_back(stepJson(flat, s, root_dir));
  Object outputs;
  for (const auto& [name, where] : flat.outputs)
    outputs[name] = Object{{"step", flat.steps[where.first].name},
                           {"output", where.second}};
  return Object{{"steps", std::move(out)}, {"outputs", std::move(outputs)}};
}

std::string dumpPlan(const ir::FlatPipeline& flat,
                     const std::vector<LoweredStep>& steps,
                     llvm::StringRef root_dir) {
  return llvm::formatv("{0:2}", planJson(flat, steps, root_dir)).str() + "\n";
}

}  // namespace pipec::lowering
