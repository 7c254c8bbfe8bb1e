// Error messages handed across the C boundary: a malloc'd copy of a C++
// exception's text, freed by the Rust side through
// seqlab_fused_rnn_free_message.
#pragma once

#include <cstdlib>
#include <cstring>

inline char* seqlab_copy_message(const char* what) {
  const size_t n = std::strlen(what) + 1;
  char* m = static_cast<char*>(std::malloc(n));
  if (m != nullptr) std::memcpy(m, what, n);
  return m;
}
