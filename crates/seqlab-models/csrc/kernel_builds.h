// The element-wise kernels of one file (SEQLAB_KERNELS, its name as a
// string, defined by the includer), compiled twice: `base::` for the
// target's baseline, with plain products and additions, and, on x86-64 with
// GCC or Clang, `avx2::` with AVX2, products fused into the additions
// (MULADD) where libtorch's AVX2 build fuses them. The includer picks one at
// run time with seqlab::cpu_has_avx2_fma(), under SEQLAB_HAVE_AVX2_BUILD.
// Included inside the includer's own namespace, once per file.

namespace base {
#define MULADD(a, b, c) ((a) * (b) + (c))
#include SEQLAB_KERNELS
#undef MULADD
}  // namespace base

#if defined(__x86_64__) && defined(__GNUC__)
#define SEQLAB_HAVE_AVX2_BUILD 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#define MULADD(a, b, c) __builtin_fmaf((a), (b), (c))
#include SEQLAB_KERNELS
#undef MULADD
}  // namespace avx2
#pragma GCC pop_options
#endif
