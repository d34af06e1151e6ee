#!/bin/sh
# Fails when a tracked C++ file is not formatted by the checked-in .clang-format.
set -eu
cd "$1"
cf=$(command -v clang-format-14 || command -v clang-format)
files=$(git ls-files '*.cpp' '*.h' 2>/dev/null || find . -name '*.cpp' -o -name '*.h')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
"$cf" --dry-run --Werror $files
echo "clang-format: $(echo "$files" | wc -l) files clean"
