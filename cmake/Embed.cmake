# nodelab_embed(<target> <name> <file>...): text files compiled into <target>.
#
# Generates <build>/embed_<target>/embed/<name>.hpp (`#include "embed/<name>.hpp"`), with one
#   inline constexpr std::string_view <id>
# per file in namespace nodelab::embed::<name>, where <id> is the file name made a C
# identifier (page.js -> page_js, worker-source.js -> worker_source_js). The text is the
# file's bytes without its final newline (the one every editor adds), so a template is used
# as it reads. The header is regenerated when a file changes; nothing but cmake runs.
set(NODELAB_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)

function(nodelab_embed target name)
  if(NOT ARGN)
    message(FATAL_ERROR "nodelab_embed(${target} ${name}): no files")
  endif()
  string(MAKE_C_IDENTIFIER "${name}" name)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/embed_${target})
  set(header ${dir}/embed/${name}.hpp)
  set(files "")
  foreach(file IN LISTS ARGN)
    get_filename_component(file "${file}" ABSOLUTE)
    list(APPEND files "${file}")
  endforeach()
  # '|' rather than ';' between the files: a list would split into separate arguments.
  string(REPLACE ";" "|" joined "${files}")
  add_custom_command(
    OUTPUT ${header}
    COMMAND ${CMAKE_COMMAND} -DOUT=${header} -DNAME=${name} "-DFILES=${joined}"
            -P ${NODELAB_EMBED_SCRIPT}
    DEPENDS ${files} ${NODELAB_EMBED_SCRIPT}
    COMMENT "Embedding ${name} (${target})"
    VERBATIM)
  target_sources(${target} PRIVATE ${header})
  target_include_directories(${target} PRIVATE ${dir})
endfunction()
