// Reading the settings flags of a parallel step's program arguments.
#include "ir/program_arguments.h"

#include "ir/settings.h"

namespace pipec::ir {

std::vector<std::string> argumentWords(const Template& t) {
  std::vector<std::string> words(1);
  for (const TemplatePiece& p : t.pieces) {
    if (p.kind != TemplatePiece::Kind::Text) {
      words.back() += '\x01';
      continue;
    }
    for (char ch : p.text) {
      if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
        if (!words.back().empty()) words.emplace_back();
      } else {
        words.back() += ch;
      }
    }
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

bool isArgumentSetting(llvm::StringRef flag) {
  const SettingInfo* s = findSetting(flag);
  return s && s->prs_flag;
}

std::vector<ArgumentSetting> findArgumentSettings(
    llvm::ArrayRef<std::string> words) {
  std::vector<ArgumentSetting> out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    llvm::StringRef word = words[i];
    if (!word.consume_front("--")) continue;
    auto [flag, inline_value] = word.split('=');
    if (!isArgumentSetting(flag)) continue;
    ArgumentSetting a;
    a.flag = flag.str();
    a.word = a.value_word = i;
    if (word.contains('=')) {
      a.value = inline_value.str();
      a.has_value = true;
    } else if (i + 1 < words.size() &&
               !llvm::StringRef(words[i + 1]).startswith("--")) {
      a.value = words[++i];
      a.value_word = i;
      a.has_value = true;
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string applyArgumentSetting(const ArgumentSetting& a,
                                 ParallelSettings& s) {
  const SettingInfo* info = findSetting(a.flag);
  if (!info || !info->prs_flag) return "";
  if (!a.has_value) return settingNeeds(*info);
  Resources unused;
  return applySetting(*info, a.value, unused, &s);
}

}  // namespace pipec::ir
