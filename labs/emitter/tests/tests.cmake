# lab-emitter's own tests (included by tests/CMakeLists.txt with LAB, LAB_BIN, LAB_TESTS): its
# memory ceiling stops a leak cleanly, with the partial metrics; --compare runs each variant in
# a child process; its --html page draws in Chromium.
nodelab_cli_test(emitter.memory-ceiling 125 "memory ceiling reached"
                 ${LAB_BIN} leak-until-ceiling --max-memory 30 --no-color)
nodelab_cli_test(emitter.compare 0 "each variant ran in a child process"
                 ${LAB_BIN} leak-vs-mitigations --compare --no-color)
nodelab_html_test(emitter listener-schedules-work main nextTick microtask timers check)
