// Component and pipeline YAML (PAI native and Azure ML CLI v2) into the AST.
#pragma once

#include <memory>
#include <optional>

#include "frontend/ast.h"
#include "ir/diagnostics.h"
#include "ir/settings.h"
#include "ir/yaml_reader.h"
#include "llvm/Support/SourceMgr.h"

namespace pipec::frontend {

namespace yaml = ir::yaml;

/// Parses buffer `buffer_id` (the file at absolute `path`) into an AST file
/// holding one component. Shape errors are reported; unknown keys are
/// warnings and are kept in `extra`. Returns nullptr when nothing usable was
/// read (syntax errors, not a mapping).
std::unique_ptr<ast::File> loadYamlFile(const llvm::SourceMgr& sm,
                                        unsigned buffer_id,
                                        llvm::StringRef path,
                                        ir::DiagnosticEngine& diags,
                                        const yaml::Limits& limits = {});

/// Reads only `name` and `version` of a component file, quietly (for the
/// component search path). False when the file is not a named component.
bool peekComponentId(llvm::StringRef path, std::string& name,
                     std::string& version);

/// The mappings of component and pipeline YAML whose keys the loader knows.
enum class YamlSection {
  Component,
  Job,
  Input,
  Output,
  JobInput,
  JobOutput,
  Resources,
  Distribution,
  Retry,
  Task,
};
inline constexpr std::size_t kYamlSections = std::size_t(YamlSection::Task) + 1;
/// The keys the loader reads in `section` (what it warns about otherwise):
/// its own, then the settings of ir/settings.h that the section holds.
llvm::ArrayRef<llvm::StringRef> yamlKeys(YamlSection section);
/// The settings a YAML section holds (`ir::SettingInfo::section`), if any.
std::optional<ir::SettingSection> settingSection(YamlSection section);

}  // namespace pipec::frontend
