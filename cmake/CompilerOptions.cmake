# Warnings and sanitizers as INTERFACE targets, linked privately by every target we build.

add_library(nodelab_warnings INTERFACE)
target_compile_options(nodelab_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough)

set(NODELAB_SANITIZER "" CACHE STRING "Sanitizer build: asan (ASan+UBSan) or tsan")
set_property(CACHE NODELAB_SANITIZER PROPERTY STRINGS "" asan tsan)

add_library(nodelab_sanitizers INTERFACE)
if(NODELAB_SANITIZER STREQUAL "asan")
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  # GCC's -Wmaybe-uninitialized misfires inside libstdc++'s <regex> under ASan.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(nodelab_warnings INTERFACE -Wno-maybe-uninitialized)
  endif()
elseif(NODELAB_SANITIZER STREQUAL "tsan")
  set(_san -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT NODELAB_SANITIZER STREQUAL "")
  message(FATAL_ERROR "NODELAB_SANITIZER must be empty, asan or tsan (got '${NODELAB_SANITIZER}')")
endif()
if(_san)
  target_compile_options(nodelab_sanitizers INTERFACE ${_san})
  target_link_options(nodelab_sanitizers INTERFACE ${_san})
endif()
