# The async lab's I/O scenarios call real services: peers::Downstream in a thread, or the
# nodelab-downstream process (which the Node twins spawn too).
target_link_libraries(nodelab_lab_async PUBLIC nodelab::peers)
if(TARGET nodelab-downstream)
  add_dependencies(nodelab_lab_async nodelab-downstream)
endif()
