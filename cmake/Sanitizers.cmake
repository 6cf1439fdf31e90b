# CREDPLUG_SANITIZE: build everything (host, plugins, tests) with sanitizers.
#   -DCREDPLUG_SANITIZE=address,undefined   ASan + UBSan
#   -DCREDPLUG_SANITIZE=thread              TSan
# Every report is fatal (UBSan does not recover), so a test that triggers one
# fails, and so does a CLI run a test makes (its exit code changes).
set(CREDPLUG_SANITIZE "" CACHE STRING "Sanitizers to build with: address,undefined or thread (empty: none)")
if(CREDPLUG_SANITIZE)
  if(NOT CREDPLUG_SANITIZE MATCHES "^(address,undefined|undefined,address|address|undefined|thread)$")
    message(FATAL_ERROR "CREDPLUG_SANITIZE must be address,undefined or thread, not '${CREDPLUG_SANITIZE}'")
  endif()
  set(flags -fsanitize=${CREDPLUG_SANITIZE} -fno-omit-frame-pointer)
  if(CREDPLUG_SANITIZE MATCHES "undefined")
    list(APPEND flags -fno-sanitize-recover=all)
  endif()
  # -O1 -g1 (after the build type's -O2 -g, so they win): what the
  # sanitizers' own docs advise, line tables being all a report's stack
  # needs; a third less build time (CI builds two such trees). The test
  # plugins keep -O2 (tests/CMakeLists.txt, test_plugin()): the hostile
  # ones' deliberate crashes stopped crashing at -O1 under UBSan, and the
  # tests prove the sandbox with the code the plain build ships.
  add_compile_options(${flags} -O1 -g1)
  add_link_options(${flags})
  # Plugin runners write their reports here (host/runner/sanitizer_reports.hpp);
  # scripts/sanitize.sh fails on any file in it that is not empty.
  add_compile_definitions(CREDPLUG_SANITIZER_REPORT_DIR="${PROJECT_BINARY_DIR}/sanitizer-reports")
endif()
