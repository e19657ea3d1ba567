# lab-event-loop's own tests (included by tests/CMakeLists.txt with LAB, LAB_BIN, LAB_TESTS):
# the shared command line's errors and flags on its scenarios, the time ceiling and signals,
# --step in a real terminal, its --html pages in Chromium, and drill answers.
set(long ${LAB_TESTS}/long-block.yaml)
nodelab_cli_test(event-loop.list 0 "cpu-work-strategies" ${LAB_BIN} --list)
nodelab_cli_test(event-loop.unknown-variant 2
                 "no variant 'nope' (variants: sync, nexttick, chunked, threadpool)"
                 ${LAB_BIN} cpu-work-strategies --variant nope)
nodelab_cli_test(event-loop.compare-without-variants 2 "declares no `variants:`"
                 ${LAB_BIN} io-immediate-first --compare)
nodelab_cli_test(event-loop.compare-and-variant 2 "drop --variant"
                 ${LAB_BIN} cpu-work-strategies --compare --variant sync)
nodelab_cli_test(event-loop.exclusive-flags 2 "excludes" ${LAB_BIN} io-immediate-first --json --logs-only)
nodelab_cli_test(event-loop.bad-timeout 2 "--timeout" ${LAB_BIN} io-immediate-first --timeout 0)
nodelab_cli_test(event-loop.compare-table 0 "threadpool" ${LAB_BIN} cpu-work-strategies --compare --no-color)
nodelab_cli_test(event-loop.variant-twin 0 "variant chunked"
                 ${LAB_BIN} cpu-work-strategies --variant chunked --emit-node)
nodelab_cli_test(event-loop.time-ceiling 124 "time ceiling reached" ${LAB_BIN} ${long} --timeout 0.5 --no-color)
nodelab_signal_test(event-loop.sigint INT 500 130 "interrupted (SIGINT)" ${LAB_BIN} ${long} --no-color)
nodelab_signal_test(event-loop.sigterm TERM 500 143 "terminated (SIGTERM)" ${LAB_BIN} ${long} --logs-only)
nodelab_cli_test(event-loop.step-needs-a-terminal 2 "stdin is not one" ${LAB_BIN} io-immediate-first --step)
add_test(NAME cli.event-loop.step-in-tmux
         COMMAND ${LAB_TESTS}/step_in_tmux.sh ${LAB_BIN} socket-close-callback)
set_tests_properties(cli.event-loop.step-in-tmux PROPERTIES TIMEOUT 60 LABELS cli SKIP_RETURN_CODE 77)
# Stepped to the end, 300 ms a screen: quiet stops fold, the count agrees with the metrics, and
# the pauses draw no timing verdict.
add_test(NAME cli.event-loop.step-to-the-end-in-tmux
         COMMAND ${LAB_TESTS}/step_to_the_end_in_tmux.sh ${LAB_BIN})
set_tests_properties(cli.event-loop.step-to-the-end-in-tmux
                     PROPERTIES TIMEOUT 60 LABELS cli SKIP_RETURN_CODE 77)
nodelab_cli_test(event-loop.help-exit-codes 0 "125 memory ceiling" ${LAB_BIN} --help)

nodelab_html_test(event-loop offload-to-threadpool main timers poll "threadpool #1")
# 200 000 callbacks: the aggregated page (bars marked xN) must draw too.
nodelab_html_test(event-loop-aggregated nexttick-starvation main nextTick timers poll)

# `nodelab drill` on this lab's io-immediate-first, answered right and wrong through stdin.
set(nodelab_bin $<TARGET_FILE:nodelab>)
add_test(NAME cli.nodelab-drill-right
         COMMAND sh -c "printf 'start\\nend\\nimmediate\\ntimeout\\n\\n' | '${nodelab_bin}' drill --scenario io-immediate-first --no-color | grep -q 'score: 1/1 exactly right'")
add_test(NAME cli.nodelab-drill-wrong
         COMMAND sh -c "printf 'start\\nend\\ntimeout\\nimmediate\\n\\n' | '${nodelab_bin}' drill --scenario io-immediate-first --no-color | grep -q 'score: 0/1 exactly right (75% of lines in order)'")
set_tests_properties(cli.nodelab-drill-right cli.nodelab-drill-wrong PROPERTIES LABELS cli TIMEOUT 60)
