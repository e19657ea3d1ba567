// The entry point of every lab-<id> executable: labs/CMakeLists.txt compiles this file once per
// lab with NODELAB_LAB_SPEC naming the lab's spec_<ident> (defined in labs/<id>/lab.cpp).

#include "nodelab/lab_list.hpp"

int main(int argc, char** argv) {
  return nodelab::cli::run_lab(nodelab::labs::NODELAB_LAB_SPEC(), argc, argv);
}
