// libtorch's Adam step (torch::optim::Adam, without weight decay or
// AMSGrad) over one flat float32 CPU tensor of parameters, in three passes
// over memory instead of libtorch's eight element-wise operators, equal to
// the bit: the same scalars (computed in double and rounded to float where
// libtorch's operators take them) and the same operations per element, fused
// where libtorch's AVX2 kernels fuse them (adam_kernel.inc). The square root
// of the second moment is libtorch's own `sqrt` over the whole buffer, as in
// libtorch's step: with MKL it is not always the correctly rounded root.
// Every other operation is element by element, so neither vector width nor
// threads change a bit.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <exception>

#include "common.h"

namespace {

using at::Tensor;

struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, sqrt_correction2, eps, neg_step;
};

#define SEQLAB_KERNELS "adam_kernel.inc"
#include "kernel_builds.h"
#undef SEQLAB_KERNELS

struct Passes {
  decltype(&base::adam_moments) moments;
  decltype(&base::adam_apply) apply;
};

const Passes& passes() {
  static const Passes chosen = [] {
#ifdef SEQLAB_HAVE_AVX2_BUILD
    if (seqlab::cpu_has_avx2_fma()) {
      return Passes{&avx2::adam_moments, &avx2::adam_apply};
    }
#endif
    return Passes{&base::adam_moments, &base::adam_apply};
  }();
  return chosen;
}

constexpr int64_t kGrain = int64_t{1} << 15;

// The scalars of step `step` (1 for the first), as libtorch computes them.
AdamScalars scalars(double lr, double beta1, double beta2, double eps, int64_t step) {
  const double correction1 = 1 - std::pow(beta1, step);
  const double correction2 = 1 - std::pow(beta2, step);
  return AdamScalars{static_cast<float>(beta1),
                     static_cast<float>(1 - beta1),
                     static_cast<float>(beta2),
                     static_cast<float>(1 - beta2),
                     static_cast<float>(std::sqrt(correction2)),
                     static_cast<float>(eps),
                     static_cast<float>(-(lr / correction1))};
}

}  // namespace

// Step `step` (1 for the first) of Adam over params, with gradients grads and
// moments exp_avg, exp_avg_sq (all contiguous float32 CPU tensors of the same
// size; params and the moments are updated in place). Returns NULL, or a
// message to free with seqlab_fused_rnn_free_message.
extern "C" char* seqlab_adam_step(const Tensor* params, const Tensor* grads,
                                  const Tensor* exp_avg, const Tensor* exp_avg_sq, double lr,
                                  double beta1, double beta2, double eps, int64_t step) {
  try {
    const int64_t n = params->numel();
    for (const Tensor* t : {params, grads, exp_avg, exp_avg_sq}) {
      TORCH_CHECK(t->scalar_type() == at::kFloat && t->device().is_cpu() && t->is_contiguous() &&
                      t->numel() == n,
                  "Adam's buffers must be contiguous float32 CPU tensors of ", n,
                  " values, one is ", t->sizes(), " ", t->scalar_type());
    }
    TORCH_CHECK(step >= 1, "Adam's step count starts at 1, got ", step);
    const AdamScalars s = scalars(lr, beta1, beta2, eps, step);
    float* p = seqlab::ptr(*params);
    const float* g = seqlab::ptr(*grads);
    float* m = seqlab::ptr(*exp_avg);
    float* v = seqlab::ptr(*exp_avg_sq);
    const Passes& run = passes();
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      run.moments(end - begin, s, g + begin, m + begin, v + begin);
    });
    const Tensor sqrt_v = exp_avg_sq->sqrt();
    const float* r = seqlab::ptr(sqrt_v);
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      run.apply(end - begin, s, r + begin, m + begin, p + begin);
    });
    return nullptr;
  } catch (const std::exception& e) {
    return seqlab::copy_message(e.what());
  } catch (...) {
    return seqlab::copy_message("unknown C++ exception in seqlab_adam_step");
  }
}
