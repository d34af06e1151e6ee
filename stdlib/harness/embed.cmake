# Writes OUTPUT, a C++ file defining FUNCTION() in namespace NAMESPACE that
# returns the text of INPUT. Run with cmake -P.
file(READ "${INPUT}" text)
set(delim "pipec_embed")
string(FIND "${text}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by stdlib/harness/embed.cmake; do not edit.
#include \"llvm/ADT/StringRef.h\"

namespace ${NAMESPACE} {

llvm::StringRef ${FUNCTION}() {
  static const char kText[] = R\"${delim}(${text})${delim}\";
  return llvm::StringRef(kText, sizeof(kText) - 1);
}

}  // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
