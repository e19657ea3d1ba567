# readme.lab-table: the README's table of labs must be `nodelab list --markdown` (each lab's
# LabSpec: id and summary), so a new lab, or a changed summary, cannot be forgotten there.
#   cmake -DNODELAB=path/to/nodelab -DREADME=path/to/README.md -P check_readme_labs.cmake
execute_process(COMMAND ${NODELAB} list --markdown OUTPUT_VARIABLE table RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nodelab list --markdown exited ${rc}")
endif()
file(READ ${README} readme)
string(FIND "${readme}" "${table}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md's table of labs is not `nodelab list --markdown`; replace it "
                      "with:\n${table}")
endif()
