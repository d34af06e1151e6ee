// The IR verifier.
#include "ir/verifier.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"

#include <fmt/format.h>

#include <set>

namespace pipec::ir {

namespace {

class Verifier {
 public:
  explicit Verifier(const Module& m) : m_(m) {}

  llvm::Error run() {
    for (const auto& c : m_.components) component(*c);
    if (m_.root) {
      bool found = false;
      for (const auto& c : m_.components) found |= c.get() == m_.root;
      if (!found) fail("root component is not owned by the module");
    }
    if (problems_.empty()) return llvm::Error::success();
    std::string all;
    for (const auto& p : problems_) all += p + "\n";
    return llvm::createStringError(llvm::inconvertibleErrorCode(), all);
  }

 private:
  template <typename... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    problems_.push_back(fmt::format(f, std::forward<Args>(args)...));
  }

  void templ(const Component& c, const Template& t, const char* what) {
    for (const TemplatePiece& p : t.pieces) {
      bool ok = true;
      switch (p.kind) {
        case TemplatePiece::Kind::Input:
          ok = c.findInput(p.text) != nullptr;
          break;
        case TemplatePiece::Kind::Output:
          ok = c.findOutput(p.text) != nullptr;
          break;
        case TemplatePiece::Kind::Param:
          ok = c.findParam(p.text) != nullptr;
          break;
        default:
          break;
      }
      if (!ok)
        fail("component {}: {} names undeclared '{}'", c.displayId(), what,
             p.text);
    }
  }

  void parallel(const Component& c, const ParallelSettings& p,
                const std::string& where) {
    if (!p.input_data.empty() && !c.findInput(p.input_data))
      fail("{}: input_data names undeclared input '{}'", where, p.input_data);
    if (!p.append_row_to.empty() && !c.findOutput(p.append_row_to))
      fail("{}: append_row_to names undeclared output '{}'", where,
           p.append_row_to);
    templ(c, p.program_arguments, "program_arguments");
  }

  void component(const Component& c) {
    std::set<std::string> names;
    for (const Port& p : c.inputs)
      if (!names.insert("i:" + p.name).second)
        fail("component {}: duplicate input '{}'", c.displayId(), p.name);
    for (const Port& p : c.outputs)
      if (!names.insert("o:" + p.name).second)
        fail("component {}: duplicate output '{}'", c.displayId(), p.name);
    for (const Param& p : c.params)
      if (!names.insert("p:" + p.name).second || names.count("i:" + p.name))
        fail("component {}: duplicate parameter '{}'", c.displayId(), p.name);
    templ(c, c.command, "command");
    if (c.parallel) parallel(c, *c.parallel, c.displayId());
    if (c.kind == ComponentKind::Pipeline && !c.body)
      fail("pipeline component {} has no body", c.displayId());
    if (c.body) pipeline(c, *c.body);
  }

  void pipeline(const Component& owner, const Pipeline& pl) {
    llvm::StringMap<const Step*> by_name;
    for (std::size_t i = 0; i < pl.steps.size(); ++i) {
      const Step& s = pl.steps[i];
      if (!by_name.try_emplace(s.name, &s).second)
        fail("duplicate step '{}'", s.name);
    }
    for (std::size_t i = 0; i < pl.steps.size(); ++i) {
      const Step& s = pl.steps[i];
      if (!s.component) {
        fail("step '{}' has no component", s.name);
        continue;
      }
      const Component& c = *s.component;
      for (const auto& [name, b] : s.inputs) {
        if (!c.findInput(name) && !c.findParam(name))
          fail("step '{}' binds unknown input '{}'", s.name, name);
        if (b.kind == Binding::Kind::StepOutput) {
          const Step* src = by_name.lookup(b.step);
          // A command job's default outputs (kDefaultOutputs) need no
          // declaration.
          bool implicit = src && src->component &&
                          src->component->kind == ComponentKind::Command &&
                          llvm::is_contained(kDefaultOutputs, b.name);
          if (!src || !src->component ||
              (!src->component->findOutput(b.name) && !implicit))
            fail("step '{}' input '{}' reads unknown output {}.{}", s.name,
                 name, b.step, b.name);
          bool dep = false;
          for (std::size_t d : s.deps) dep |= pl.steps[d].name == b.step;
          if (!dep)
            fail("step '{}' reads from '{}' without a dependency", s.name,
                 b.step);
        }
        if (b.kind == Binding::Kind::ParentInput && !owner.findInput(b.name) &&
            !owner.findParam(b.name))
          fail("step '{}' input '{}' reads unknown pipeline input '{}'", s.name,
               name, b.name);
      }
      for (const auto& [name, b] : s.outputs) {
        if (!c.findOutput(name))
          fail("step '{}' binds unknown output '{}'", s.name, name);
        if (b.kind == OutputBinding::Kind::ParentOutput &&
            !owner.findOutput(b.name))
          fail("step '{}' output '{}' writes unknown pipeline output '{}'",
               s.name, name, b.name);
      }
      for (std::size_t k = 0; k < s.deps.size(); ++k) {
        if (s.deps[k] >= pl.steps.size() || s.deps[k] == i)
          fail("step '{}' has a bad dependency index", s.name);
        if (k && s.deps[k - 1] >= s.deps[k])
          fail("step '{}' dependencies are not sorted and unique", s.name);
      }
      if (s.parallel) parallel(c, *s.parallel, "step " + s.name);
    }
    if (pl.topo_order.size() != pl.steps.size()) {
      fail("topological order has {} steps, pipeline {}", pl.topo_order.size(),
           pl.steps.size());
      return;
    }
    std::vector<int> pos(pl.steps.size(), -1);
    for (std::size_t k = 0; k < pl.topo_order.size(); ++k) {
      std::size_t i = pl.topo_order[k];
      if (i >= pl.steps.size() || pos[i] != -1) {
        fail("topological order is not a permutation");
        return;
      }
      pos[i] = int(k);
    }
    for (std::size_t i = 0; i < pl.steps.size(); ++i)
      for (std::size_t d : pl.steps[i].deps)
        if (d < pl.steps.size() && pos[d] > pos[i])
          fail("step '{}' is ordered before its dependency '{}'",
               pl.steps[i].name, pl.steps[d].name);
  }

  const Module& m_;
  std::vector<std::string> problems_;
};

}  // namespace

llvm::Error verify(const Module& module) { return Verifier(module).run(); }

}  // namespace pipec::ir
