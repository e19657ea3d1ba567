# lab-worker-pool's own tests (included by tests/CMakeLists.txt with LAB, LAB_BIN, LAB_TESTS):
# stopped while its workers are busy, threads stop at their next check and join, with partial
# metrics and the usual exit codes; worker threads get lanes of their own on the --html page.
set(wp_long ${LAB_TESTS}/long.yaml)
nodelab_signal_test(worker-pool.sigint INT 1500 130 "interrupted (SIGINT)" ${LAB_BIN} ${wp_long} --no-color)
nodelab_signal_test(worker-pool.sigterm TERM 1500 143 "terminated (SIGTERM)" ${LAB_BIN} ${wp_long} --no-color)
nodelab_cli_test(worker-pool.time-ceiling 124 "time ceiling reached" ${LAB_BIN} ${wp_long} --timeout 1 --no-color)
# Worker 1 is terminated by an abort: no bars.
nodelab_html_test(worker-pool bounded-pool main timers poll "worker #2" "worker #3")
