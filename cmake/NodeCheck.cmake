# node.<path>: `node --check` on every JS file compiled into a lab or the --html page (the
# files nodelab_embed takes: common/report/assets/*.js, labs/<id>/twin/*.js), so a syntax
# error fails here, not in a browser or in a parity run. A new lab's twin/*.js is covered by
# the glob. Label `node`; skipped (77) when node is not on the PATH.
find_program(NODELAB_NODE node)
file(GLOB_RECURSE nodelab_embedded_js CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/common/report/assets/*.js ${PROJECT_SOURCE_DIR}/labs/*/twin/*.js)
foreach(js IN LISTS nodelab_embedded_js)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${js})
  string(REPLACE "/" "." test_name "node.${rel}")
  add_test(NAME ${test_name}
           COMMAND sh -c "node=\"$1\"; [ -n \"$node\" ] || node=$(command -v node) || exit 77; exec \"$node\" --check \"$2\""
                   sh "${NODELAB_NODE}" ${js})
  set_tests_properties(${test_name} PROPERTIES LABELS node TIMEOUT 60 SKIP_RETURN_CODE 77)
endforeach()
