# lab-streams' own tests (included by tests/CMakeLists.txt with LAB, LAB_BIN, LAB_TESTS): an
# unbounded ignoring producer is stopped by the memory ceiling, with how far it got.
nodelab_cli_test(streams.memory-ceiling 125 "memory ceiling reached"
                 ${LAB_BIN} ${LAB_TESTS}/ignore-unbounded.yaml --max-memory 128 --no-color)
