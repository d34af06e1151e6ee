# The .pipe front-end fuzzer. With -DPIPEC_FUZZ=ON and clang it is a
# libFuzzer binary (the front-end libraries get coverage instrumentation and
# ASan); otherwise a replay binary runs the seeds in dsl_corpus/ as a ctest.
set(PIPEC_DSL_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
if(PIPEC_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  foreach(lib pipec_ir pipec_frontend pipec_dsl_parser pipec_stdlib)
    set_property(TARGET ${lib} APPEND PROPERTY COMPILE_OPTIONS
                 -fsanitize=fuzzer-no-link,address)
  endforeach()
  add_executable(pipec_dsl_fuzzer ${PIPEC_DSL_FUZZ_DIR}/dsl_fuzzer.cpp)
  target_compile_options(pipec_dsl_fuzzer PRIVATE -fsanitize=fuzzer,address)
  target_link_options(pipec_dsl_fuzzer PRIVATE -fsanitize=fuzzer,address)
  target_link_libraries(pipec_dsl_fuzzer PRIVATE pipec_frontend pipec_warnings)
else()
  add_executable(pipec_dsl_fuzz_replay ${PIPEC_DSL_FUZZ_DIR}/dsl_fuzzer.cpp
                                       ${PIPEC_DSL_FUZZ_DIR}/dsl_replay.cpp)
  target_link_libraries(pipec_dsl_fuzz_replay PRIVATE pipec_frontend pipec_warnings)
  add_test(NAME fuzz-dsl-seeds
    COMMAND pipec_dsl_fuzz_replay ${PIPEC_DSL_FUZZ_DIR}/dsl_corpus
            ${PROJECT_SOURCE_DIR}/examples ${PROJECT_SOURCE_DIR}/stdlib
            ${PROJECT_SOURCE_DIR}/test/DSL)
endif()
