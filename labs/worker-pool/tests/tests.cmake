# lab-worker-pool's own tests (included by tests/CMakeLists.txt with LAB, LAB_BIN, LAB_TESTS):
# stopped while its workers are busy, threads stop at their next check and join, with partial
# metrics and the usual exit codes; worker threads get lanes of their own on the --html page.
set(wp_long ${LAB_TESTS}/long.yaml)
nodelab_signal_test(worker-pool.sigint INT 1500 130 "interrupted (SIGINT)" ${LAB_BIN} ${wp_long} --no-color)
nodelab_signal_test(worker-pool.sigterm TERM 1500 143 "terminated (SIGTERM)" ${LAB_BIN} ${wp_long} --no-color)
nodelab_cli_test(worker-pool.time-ceiling 124 "time ceiling reached" ${LAB_BIN} ${wp_long} --timeout 1 --no-color)
# Worker 1 is terminated by an abort while task 1 waits for its start-up: its lane shows that
# wait, up to the termination.
nodelab_html_test(worker-pool bounded-pool main timers poll "worker #1" "worker #2" "worker #3")
nodelab_cli_test(worker-pool.emit-node-unknown 2 "this lab's twins are node, piscina" ${LAB_BIN}
                 bounded-pool --emit-node=nope)

# The bounded pool against the real Piscina (piscina 5.3.2 from package-lock.json, installed in
# <root>/node_modules by scripts/setup's `npm ci`): every scenario that runs a bounded pool, its
# --emit-node=piscina twin on node prints what --logs-only prints (piscina_parity.sh; skipped,
# 77, without node or node_modules/piscina). The other scenarios run no Piscina pool:
# threadpool-*, cpu-on-main-thread, worker-per-task, transfer-vs-clone, shared-memory-atomics,
# and strategies-side-by-side's other variants.
set(wp_piscina ${LAB_TESTS}/piscina_parity.sh)
set(wp_scenarios ${PROJECT_SOURCE_DIR}/scenarios/worker-pool)
function(wp_piscina_test name file)
  add_test(NAME piscina.worker-pool.${name}
           COMMAND ${wp_piscina} ${LAB_BIN} ${file} "${NODE_EXECUTABLE}" ${PROJECT_SOURCE_DIR} ${ARGN})
  set_tests_properties(piscina.worker-pool.${name} PROPERTIES LABELS node TIMEOUT 400
                                                              SKIP_RETURN_CODE 77)
endfunction()
wp_piscina_test(bounded-pool ${wp_scenarios}/bounded-pool.yaml)
wp_piscina_test(pool-overload-maxqueue ${wp_scenarios}/pool-overload-maxqueue.yaml)
wp_piscina_test(strategies-side-by-side ${wp_scenarios}/strategies-side-by-side.yaml pool)

# Piscina's behaviour the lab once departed from (labs/worker-pool/pool.hpp), each a scenario
# of its own here: its expectations, its default twin (twin/pool.js) and the real Piscina.
# Both wait for a worker's start-up within a bounded time: `timing`, never beside another.
foreach(name pool-abort-after-reject pool-late-ready)
  set(file ${LAB_TESTS}/${name}.yaml)
  # Its expectations hold (exit 0; 3 when one fails): a test scenario has no model answer.
  nodelab_cli_test(worker-pool.${name} 0 "outcome completed" ${LAB_BIN} ${file} --no-color)
  add_test(NAME parity.worker-pool.${name}
           COMMAND nodelab-testdriver parity ${LAB_BIN} ${file} "${NODE_EXECUTABLE}")
  wp_piscina_test(${name} ${file})
  set_tests_properties(parity.worker-pool.${name} PROPERTIES LABELS parity TIMEOUT 400
                                                             SKIP_RETURN_CODE 77)
  set_property(TEST cli.worker-pool.${name} parity.worker-pool.${name}
                    piscina.worker-pool.${name} APPEND PROPERTY LABELS timing)
  set_tests_properties(cli.worker-pool.${name} parity.worker-pool.${name}
                       piscina.worker-pool.${name} PROPERTIES RESOURCE_LOCK timing)
endforeach()
# Piscina's defaults come from os.availableParallelism(), the CPUs the process may run on: on
# one CPU (taskset -c 0), minThreads 1, maxThreads 1.5, maxQueue auto 2.25.
wp_piscina_test(pool-defaults-one-cpu ${LAB_TESTS}/pool-defaults.yaml --taskset=0)
