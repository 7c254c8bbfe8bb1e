// What the C++ kernels of this crate share: the CPU check that picks their
// AVX2 builds, raw float pointers of tensors, and error messages handed
// across the C boundary (a malloc'd copy of a C++ exception's text, freed by
// the Rust side through seqlab_fused_rnn_free_message).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdlib>
#include <cstring>

namespace seqlab {

// Whether this CPU runs the kernels' AVX2+FMA builds (where libtorch runs its
// AVX2 kernels too).
inline bool cpu_has_avx2_fma() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// A float32 tensor's data, or null for an undefined tensor.
inline float* ptr(const at::Tensor& t) { return t.defined() ? t.data_ptr<float>() : nullptr; }

inline char* copy_message(const char* what) {
  const size_t n = std::strlen(what) + 1;
  char* m = static_cast<char*>(std::malloc(n));
  if (m != nullptr) std::memcpy(m, what, n);
  return m;
}

}  // namespace seqlab
