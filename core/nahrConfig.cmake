# nahr plugin SDK for CMake:
#   find_package(nahr REQUIRED)
#   nahr_add_plugin(myplugin myplugin.c)     # builds myplugin.so against nahr::nahr
include("${CMAKE_CURRENT_LIST_DIR}/nahrTargets.cmake")
get_filename_component(NAHR_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(NAHR_PLUGIN_DIR "${NAHR_PREFIX}/lib/nahr/plugins")
find_program(NAHR_EXECUTABLE nahr HINTS "${NAHR_PREFIX}/bin" NO_DEFAULT_PATH)

function(nahr_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden)
  target_link_libraries(${name} PRIVATE nahr::nahr)
endfunction()
