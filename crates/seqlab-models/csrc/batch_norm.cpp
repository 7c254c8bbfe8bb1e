// Batch normalisation in training mode over x [N, C] (rows are samples, or
// the (sample, step) pairs of a sequence), as one node of libtorch's
// autograd graph, equal to the bit to libtorch's CPU `batch_norm` with one
// thread: output, saved mean and inverse deviation, the moving averages, and
// the gradients of x, weight and bias.
//
// libtorch's channels-last kernel does the same arithmetic in the same
// order, but at the chapter's sizes (28 or 56 channels, a few thousand
// rows) its set-up, per-thread buffers and per-row partial vectors cost
// several times the arithmetic: about 9% of a training step of the MNIST
// LSTM autoencoder. Here each pass is one loop over rows with the channels
// vectorised, and the per-channel terms are computed once, not per row.
//
// What "the same arithmetic" is (libtorch 2.x, aten/src/ATen/native
// Normalization.cpp and cpu/batch_norm_kernel.cpp, one thread):
// - sums over rows in order in float, each total then widened to double and
//   back (exact); mean = double(sum) / N rounded to float;
// - var_sum = sum of (x - mean)^2 with each product-add rounded once;
// - invstd = 1 / sqrt(double(var_sum / N) + eps), rounded to float;
// - moving mean m * mean + (1 - m) * old in float, m = float(momentum);
//   moving variance m * double(var_sum / (N - 1)) + float((1 - m) * old),
//   rounded to float;
// - the rest as written in batch_norm_kernels.inc.
// The caller checks that libtorch would take that path (contiguous float
// [N, C] on the CPU, N > 1, one thread) and otherwise calls libtorch.

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <exception>

#include "common.h"

namespace {

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

#define SEQLAB_KERNELS "batch_norm_kernels.inc"
#include "kernel_builds.h"
#undef SEQLAB_KERNELS

struct Kernels {
  decltype(&base::column_sums) column_sums;
  decltype(&base::squared_deviations) squared_deviations;
  decltype(&base::normalise) normalise;
  decltype(&base::backward) backward;
};

// The build this CPU runs: the AVX2 one where libtorch runs its AVX2 kernel.
const Kernels& kernels() {
  static const Kernels chosen = [] {
#ifdef SEQLAB_HAVE_AVX2_BUILD
    if (seqlab::cpu_has_avx2_fma()) {
      return Kernels{&avx2::column_sums, &avx2::squared_deviations, &avx2::normalise,
                     &avx2::backward};
    }
#endif
    return Kernels{&base::column_sums, &base::squared_deviations, &base::normalise,
                   &base::backward};
  }();
  return chosen;
}

using seqlab::ptr;

// Mean, inverse deviation and the moving averages' update from the column
// sums (compiled without FMA, like libtorch's Normalization.cpp).
void finish_stats(int64_t N, int64_t C, double momentum, double eps, const float* var_sum, float* mean, float* invstd, float* running_mean,
                  float* running_var) {
  const float m = static_cast<float>(momentum);
  for (int64_t c = 0; c < C; ++c) {
    const float biased = var_sum[c] / static_cast<float>(N);
    invstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(biased) + eps));
    running_mean[c] = m * mean[c] + (1 - m) * running_mean[c];
    const double unbiased = var_sum[c] / static_cast<float>(N - 1);
    running_var[c] = static_cast<float>(m * unbiased + (1 - m) * running_var[c]);
  }
}

struct BatchNormTrain : public torch::autograd::Function<BatchNormTrain> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& w,
                               const Tensor& b, Tensor running_mean, Tensor running_var,
                               double momentum, double eps) {
    const int64_t N = x.size(0), C = x.size(1);
    const Kernels& k = kernels();
    Tensor scratch = at::empty({4, C}, x.options());
    float* sum = ptr(scratch);
    float* var_sum = sum + C;
    Tensor mean = at::empty({C}, x.options()), invstd = at::empty({C}, x.options());
    k.column_sums(N, C, ptr(x), sum);
    for (int64_t c = 0; c < C; ++c) {
      ptr(mean)[c] = static_cast<float>(static_cast<double>(sum[c]) / static_cast<double>(N));
    }
    k.squared_deviations(N, C, ptr(x), ptr(mean), var_sum);
    finish_stats(N, C, momentum, eps, var_sum, ptr(mean), ptr(invstd), ptr(running_mean),
                 ptr(running_var));
    Tensor out = at::empty({N, C}, x.options());
    k.normalise(N, C, ptr(x), ptr(mean), ptr(invstd), ptr(w), ptr(b), sum + 2 * C, sum + 3 * C,
                ptr(out));
    ctx->save_for_backward({x, w, mean, invstd});
    return {out};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const Tensor& w = saved[1];
    const Tensor dy = grads[0].contiguous();
    const int64_t N = x.size(0), C = x.size(1);
    Tensor sum = at::empty({C}, x.options()), dotp = at::empty({C}, x.options());
    Tensor scratch = at::empty({2, C}, x.options());
    Tensor dx = at::empty({N, C}, x.options());
    kernels().backward(N, C, ptr(x), ptr(dy), ptr(saved[2]), ptr(saved[3]), ptr(w), ptr(sum),
                       ptr(dotp), ptr(scratch), ptr(scratch) + C, ptr(dx));
    const Tensor dw = dotp * saved[3];
    return {dx, dw, sum, Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

}  // namespace

// Batch normalisation in training mode of x [N, C] (float32, CPU,
// contiguous, N > 1) with weight and bias [C]; updates running_mean and
// running_var [C] in place (momentum as libtorch takes it: the weight of the
// new batch). Writes the output to *out; returns NULL, or a message to free
// with seqlab_fused_rnn_free_message.
extern "C" char* seqlab_batch_norm_train(const Tensor* x, const Tensor* w, const Tensor* b,
                                         const Tensor* running_mean, const Tensor* running_var,
                                         double momentum, double eps, Tensor** out) {
  try {
    TORCH_CHECK(x->dim() == 2 && x->size(0) > 1, "batch norm input must be [N > 1, C], got ",
                x->sizes());
    TORCH_CHECK(x->scalar_type() == at::kFloat && x->device().is_cpu() && x->is_contiguous(),
                "batch norm input must be contiguous float32 on the CPU");
    const int64_t C = x->size(1);
    for (const Tensor* t : {w, b, running_mean, running_var}) {
      TORCH_CHECK(t->dim() == 1 && t->size(0) == C && t->scalar_type() == at::kFloat &&
                      t->is_contiguous(),
                  "batch norm parameters must be contiguous float32 [", C, "], got ", t->sizes());
    }
    auto r = BatchNormTrain::apply(*x, *w, *b, *running_mean, *running_var, momentum, eps);
    *out = new Tensor(r[0]);
    return nullptr;
  } catch (const std::exception& e) {
    return seqlab::copy_message(e.what());
  } catch (...) {
    return seqlab::copy_message("unknown C++ exception in seqlab_batch_norm_train");
  }
}
