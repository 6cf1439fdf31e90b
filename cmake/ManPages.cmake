# credplug_man_page(<target> NAME <one line> INCLUDE <file.h2m>)
#
# A man page made from the program's own --help and --version by Debian's
# help2man (so it never disagrees with the program), plus the sections in
# INCLUDE; installed into man1. Without help2man (scripts/install-deps.sh
# installs it) no page is made, and the installed-tree test says so.
find_program(HELP2MAN help2man)
function(credplug_man_page target)
  cmake_parse_arguments(ARG "" "NAME;INCLUDE" "" ${ARGN})
  if(NOT HELP2MAN)
    message(STATUS "help2man not found: no man page for ${target}")
    return()
  endif()
  set(page ${PROJECT_BINARY_DIR}/man/${target}.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    # C.UTF-8: the help's dashes and quotes stay characters, not "???".
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C.UTF-8 ${HELP2MAN} --no-info --no-discard-stderr --locale=C.UTF-8
            --name=${ARG_NAME} --include=${ARG_INCLUDE} --output=${page} $<TARGET_FILE:${target}>
    DEPENDS ${target} ${ARG_INCLUDE}
    COMMENT "Writing the man page ${target}.1" VERBATIM)
  add_custom_target(${target}-man ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()
