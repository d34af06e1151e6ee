// The job settings a step can bind or a parallel step's program arguments
// can carry: one table of their names, the kind of value each takes and where
// it lands, the one reader of a value given as text (a pipeline input, a
// --set, a PRS flag), and the one JSON form of a parallel step's settings.
#pragma once

#include <cstdint>
#include <string>

#include "ir/ir.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

namespace pipec::ir {

/// The kind of value a setting takes.
enum class SettingKind : std::uint8_t {
  Int,        ///< a whole number of at least `min`
  Percent,    ///< a number from 0 to 100
  Duration,   ///< seconds, or with a unit (250ms, 5m); stored in ms
  Bool,       ///< true/false (also True, yes/no, 1/0)
  Level,      ///< DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)
  BatchSize,  ///< a count of files, or a size with a unit (10kb, 1mb)
  Text,       ///< any text
};

/// Where a setting is written: the section of a component or job that holds
/// it, in YAML and in a .pipe file alike.
enum class SettingSection : std::uint8_t {
  Resources,     ///< YAML `resources:`; .pipe `resources { }` and step blocks
  Distribution,  ///< YAML and .pipe `distribution`
  Parallel,      ///< the component or job itself (a parallel one)
  Retry,         ///< YAML `retry_settings:`; .pipe `retry { }`
};

/// One setting of the table.
struct SettingInfo {
  llvm::StringRef name;  ///< as written in YAML and in --set: "max_retries"
  SettingKind kind;
  std::int64_t min = 0;  ///< for Int
  SettingSection section = SettingSection::Resources;
  /// Azure's YAML schema has the key in its section; when false the setting
  /// is a PRS flag there (`program_arguments: --NAME VALUE`), and only a
  /// .pipe file writes it as a key.
  bool yaml_key = true;
  bool prs_flag = false;       ///< may be given in program_arguments as --NAME
  llvm::StringRef json_key;    ///< in settingsJson ("timeout_ms"); empty: none
  llvm::StringRef yaml_alias;  ///< another YAML key for it (PAI's `gpu`)

  /// A parallel-run setting (else a resource of any step).
  bool parallel() const {
    return section == SettingSection::Parallel ||
           section == SettingSection::Retry;
  }
};

/// Every setting, in a stable order.
llvm::ArrayRef<SettingInfo> allSettings();
/// The setting called `name`, or null.
const SettingInfo* findSetting(llvm::StringRef name);
/// The setting `key` names in `section` of a YAML file (`yaml`: its alias
/// too, and only the settings Azure's schema has as keys) or of a .pipe
/// file; null when `key` is no setting there.
const SettingInfo* findSettingKey(llvm::StringRef key, SettingSection section,
                                  bool yaml);

/// What a value of `s` must be, as a phrase ("an integer, -1 or more").
std::string settingNeeds(const SettingInfo& s);

/// Reads `text` as the value of `s` into `r` or `p` (`p` may be null for a
/// step that is not parallel: then a parallel setting is refused).
/// `table_input`: the parallel step splits a table, so a plain number as
/// mini_batch_size is bytes. Returns "" on success, else settingNeeds(s).
std::string applySetting(const SettingInfo& s, llvm::StringRef text,
                         Resources& r, ParallelSettings* p,
                         bool table_input = false);

/// A parallel step's settings as JSON (what `--emit=plan`, the engine's spec
/// and `--emit=ir` show), and back. program_arguments is not included: its
/// form differs by reader (a template in the IR, words once lowered).
llvm::json::Object settingsJson(const ParallelSettings& p);
llvm::Error settingsFromJson(const llvm::json::Object& o, ParallelSettings& p);

}  // namespace pipec::ir
