# The .pipe front-end fuzzer. With -DPIPEC_FUZZ=ON and clang it is a
# libFuzzer binary (the front-end libraries get coverage instrumentation and
# ASan); otherwise a replay binary runs the seeds in dsl_corpus/ as a ctest.
set(PIPEC_DSL_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
if(PIPEC_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # clang 14 with libstdc++ 12 cannot instantiate LLVM 14's json::Array
  # (a vector of an incomplete type) in C++20 mode; the front end builds as
  # C++17 for the fuzzer.
  foreach(lib pipec_ir pipec_frontend pipec_dsl_parser pipec_stdlib)
    set_property(TARGET ${lib} APPEND PROPERTY COMPILE_OPTIONS
                 -fsanitize=fuzzer-no-link,address)
    set_property(TARGET ${lib} PROPERTY CXX_STANDARD 17)
  endforeach()
  # The runtime's umbrella header pulls in misc/InterpreterDataReader.h,
  # which clang rejects (a defaulted constructor with a const scalar member)
  # and which nothing here uses: a copy without it comes first on the path.
  find_package(antlr4-runtime REQUIRED CONFIG)
  file(READ ${ANTLR4_INCLUDE_DIR}/antlr4-runtime.h PIPEC_ANTLR_UMBRELLA)
  string(REPLACE "#include \"misc/InterpreterDataReader.h\"" ""
         PIPEC_ANTLR_UMBRELLA "${PIPEC_ANTLR_UMBRELLA}")
  file(WRITE ${CMAKE_BINARY_DIR}/antlr_shim/antlr4-runtime.h
       "${PIPEC_ANTLR_UMBRELLA}")
  foreach(lib pipec_dsl_parser pipec_frontend)
    set_property(TARGET ${lib} APPEND PROPERTY INCLUDE_DIRECTORIES
                 ${CMAKE_BINARY_DIR}/antlr_shim)
  endforeach()
  add_executable(pipec_dsl_fuzzer ${PIPEC_DSL_FUZZ_DIR}/dsl_fuzzer.cpp)
  set_property(TARGET pipec_dsl_fuzzer PROPERTY CXX_STANDARD 17)
  target_compile_options(pipec_dsl_fuzzer PRIVATE -fsanitize=fuzzer,address)
  target_link_options(pipec_dsl_fuzzer PRIVATE -fsanitize=fuzzer,address)
  target_link_libraries(pipec_dsl_fuzzer PRIVATE pipec_frontend pipec_warnings)
else()
  add_executable(pipec_dsl_fuzz_replay ${PIPEC_DSL_FUZZ_DIR}/dsl_fuzzer.cpp
                                       ${PIPEC_DSL_FUZZ_DIR}/replay_main.cpp)
  target_link_libraries(pipec_dsl_fuzz_replay PRIVATE pipec_frontend pipec_warnings)
  add_test(NAME fuzz-dsl-seeds
    COMMAND pipec_dsl_fuzz_replay ${PIPEC_DSL_FUZZ_DIR}/dsl_corpus
            ${PROJECT_SOURCE_DIR}/examples ${PROJECT_SOURCE_DIR}/stdlib
            ${PROJECT_SOURCE_DIR}/test/DSL)
endif()
