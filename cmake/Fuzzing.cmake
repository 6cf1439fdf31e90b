# CREDPLUG_FUZZ: libFuzzer targets under fuzz/ (clang only). Everything is
# built with coverage instrumentation plus ASan and UBSan, so a fuzzer stops
# at the first memory error or undefined behaviour.
option(CREDPLUG_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)
if(CREDPLUG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CREDPLUG_FUZZ needs clang (CC=clang CXX=clang++), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # Without pointer-overflow: RapidJSON 1.1.0's internal/stack.h adds to a null
  # stack pointer on the first push of every parse (fixed upstream later),
  # which clang reports before any input is looked at. GCC's UBSan in
  # CREDPLUG_SANITIZE keeps the check on our code.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=pointer-overflow
    -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined -fno-sanitize=pointer-overflow)
endif()
