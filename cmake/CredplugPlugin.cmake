# credplug_add_plugin(<id> SOURCES <files...> SCHEMA <schema.json>
#                     [OUTPUT_DIRECTORY <dir>] [INSTALL])
#
# Builds a provider plugin: a module named credplug-<id>.so that links the
# SDK kit (C++ sources; C sources need only plugin.h), embeds the schema as `credplug_credential_schema` (declared in
# credplug/kit/provider.hpp), hides every symbol but credplug_get_interface,
# and refuses undefined symbols at link time.
set(_CREDPLUG_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(credplug_add_plugin id)
  cmake_parse_arguments(ARG "INSTALL" "SCHEMA;OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SCHEMA)
    message(FATAL_ERROR "credplug_add_plugin(${id}): SCHEMA is required")
  endif()
  set(target credplug-${id})
  get_filename_component(schema "${ARG_SCHEMA}" ABSOLUTE)
  # The embedded schema is written in whichever language the project
  # enabled: `project(x LANGUAGES CXX)` has no C compiler, and a .c source
  # would be silently left out of the link.
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if("C" IN_LIST languages)
    set(schema_c ${CMAKE_CURRENT_BINARY_DIR}/${target}-schema.c)
  else()
    set(schema_c ${CMAKE_CURRENT_BINARY_DIR}/${target}-schema.cpp)
  endif()
  add_custom_command(OUTPUT ${schema_c}
    COMMAND ${CMAKE_COMMAND} -DINPUT=${schema} -DOUTPUT=${schema_c} -DSYMBOL=credplug_credential_schema
            -P ${_CREDPLUG_CMAKE_DIR}/EmbedFile.cmake
    DEPENDS ${schema} ${_CREDPLUG_CMAKE_DIR}/EmbedFile.cmake
    COMMENT "Embedding ${ARG_SCHEMA} into ${target}")
  add_library(${target} MODULE ${ARG_SOURCES} ${schema_c})
  # C++ sources get the kit; a plugin written in C needs only the header (and
  # must link without a C++ compiler).
  set(kit credplug::sdk)
  foreach(source IN LISTS ARG_SOURCES)
    if(source MATCHES "\\.(cpp|cc|cxx|C)$")
      set(kit credplug::kit)
    endif()
  endforeach()
  if(NOT TARGET ${kit})
    string(REPLACE "credplug::" "credplug_" kit ${kit})  # inside the credplug build
  endif()
  target_link_libraries(${target} PRIVATE ${kit})
  set(version_script ${CMAKE_CURRENT_BINARY_DIR}/${target}.exports)
  file(WRITE ${version_script} "{ global: credplug_get_interface; local: *; };\n")
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${target}
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_link_options(${target} PRIVATE "LINKER:--version-script=${version_script}")
  # Every symbol resolved at link time, except in a clang fuzz build, where the
  # sanitizer and coverage runtimes come from the fuzzer executable.
  if(NOT CREDPLUG_FUZZ)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(ARG_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${CREDPLUG_INSTALL_PLUGINDIR})
    install(FILES ${schema} DESTINATION ${CREDPLUG_INSTALL_SCHEMADIR} RENAME ${id}.schema.json)
  endif()
endfunction()
