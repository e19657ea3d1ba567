# lab-async's own tests (included by tests/CMakeLists.txt with LAB, LAB_BIN, LAB_TESTS): the I/O
# scenarios' --compare, each variant in a child process with its own services. Exit 0 means
# every variant's expectations held: fanout-limit's unbounded variant queued at the downstream
# (queuedPeak > 0) and the limited ones never did (0); race-timeout-leak's race variant had 5
# late responses and 5 downstream completions, the abort variant 0 and 5 cancellations.
nodelab_cli_test(async.fanout-limit-compare 0 "ds queue (peak)"
                 ${LAB_BIN} fanout-limit --compare --no-color)
nodelab_cli_test(async.race-timeout-leak-compare 0 "wasted (late)"
                 ${LAB_BIN} race-timeout-leak --compare --no-color)
# A service as the nodelab-downstream process (process: true), its counters read over
# GET /__stats.
nodelab_cli_test(async.downstream-process 0 "downstream.completed == 4"
                 ${LAB_BIN} ${LAB_TESTS}/downstream-process.yaml --no-color)
# --html of an I/O scenario in headless Chromium: the loop's lanes, and the lab counters
# (`requests in flight`, `agent queue`) below them.
nodelab_html_test(async agent-pool-queue main nextTick poll)
