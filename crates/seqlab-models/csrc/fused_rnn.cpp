// One recurrent layer (RNN tanh, RNN relu, GRU or LSTM), one direction, over a
// whole sequence, as a single node of libtorch's autograd graph.
//
// At the chapter's sizes (batches of 10-100 sequences, 12-128 units) a
// recurrent step is a few thousand multiply-adds, and what sets the speed is
// everything around them: libtorch's CPU `rnn_tanh`, `rnn_relu` and `gru` run
// several ATen ops and autograd nodes per step, and even one ATen call per
// step (dispatch, shape checks, BLAS set-up) costs more than the step's
// arithmetic. So here:
// - the input projection and the weight gradients are seqlab's own matrix
//   products over all steps (the projection step by step, next to its use);
// - the sequence is read in either direction and the outputs written in its
//   time order, one copy each, or not at all when only the final state is
//   wanted; an input repeated at every step is projected once;
// - each step is plain loops over raw memory: a small register-blocked matrix
//   product (h W_hh^T forward, dgates W_hh backward) and the element-wise
//   gate work with vectorisable exp/tanh/sigmoid, compiled twice (AVX2+FMA and
//   baseline x86-64, chosen at load time) when the compiler supports it;
// - rows (sequences of the batch) are independent within a step, so large
//   steps are split over libtorch's threads by rows: the result of a row does
//   not depend on the split, and runs are bit-for-bit reproducible for a given
//   machine whatever the thread count.
// Same gate order, weight layout and equations as PyTorch. Results match
// libtorch's kernels to float tolerance, not bit for bit (products are
// grouped differently, and exp/tanh are polynomial approximations accurate to
// a few units in the last place).

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <type_traits>
#include <utility>

#include "common.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace {

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kTanh = 0;
constexpr int64_t kRelu = 1;
constexpr int64_t kGru = 2;
constexpr int64_t kLstm = 3;

// Helpers of the step kernels are inlined into each of their builds.
#if defined(__GNUC__)
#define SEQLAB_INLINE inline __attribute__((always_inline))
#else
#define SEQLAB_INLINE inline
#endif

// Sizes of one step: H units per row, G = gates * H pre-activations per row.
// ldt, ldw: the row lengths of the padded W_hh^T [H, ldt] and W_hh [G, ldw].
struct Dims {
  int64_t H, G, ldt, ldw;
};

// A matrix with its element (r, k) at p[r * rs + k * ks]: row-major A[rows, K]
// has rs = K, ks = 1; the transpose of a row-major [K, rows] has rs = 1, ks = rows.
struct Strided {
  const float* p;
  int64_t rs, ks;
};

// The right-hand matrix of a product, rows `ld` floats apart (ld >= columns).
struct Panel {
  const float* p;
  int64_t ld;
};

int64_t round8(int64_t n) { return (n + 7) / 8 * 8; }

// A contiguous copy of a matrix (or a vector, as one row) with its rows
// padded with zeros to a multiple of 8, so the products read whole vectors.
Tensor padded(const Tensor& t) {
  const Tensor m = t.dim() == 1 ? t.unsqueeze(0) : t;
  const int64_t cols = m.size(1);
  if (round8(cols) == cols) return m.contiguous();
  Tensor p = at::zeros({m.size(0), round8(cols)}, m.options());
  p.narrow(1, 0, cols).copy_(m);
  return p;
}

// The step kernels (fused_steps.inc), built for the target's baseline and,
// on x86-64 with GCC or Clang, once more for AVX2 with FMA, picked at run
// time by what the CPU supports.
namespace base {
#include "fused_steps.inc"
}  // namespace base

#if defined(__x86_64__) && defined(__GNUC__)
#define SEQLAB_HAVE_AVX2_BUILD 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define SEQLAB_AVX2_STEPS 1
namespace avx2 {
#include "fused_steps.inc"
}  // namespace avx2
#undef SEQLAB_AVX2_STEPS
#pragma GCC pop_options
#endif

using StepForward = decltype(&base::step_forward);
using StepBackward = decltype(&base::step_backward);
using Matmul = decltype(&base::matmul);
using DropoutMask = decltype(&base::dropout_mask);

struct Steps {
  StepForward forward;
  StepBackward backward;
  Matmul matmul;
  DropoutMask dropout_mask;
};

// The build this CPU runs, chosen once.
const Steps& steps() {
  static const Steps chosen = [] {
#ifdef SEQLAB_HAVE_AVX2_BUILD
    if (seqlab::cpu_has_avx2_fma()) {
      return Steps{&avx2::step_forward, &avx2::step_backward, &avx2::matmul,
                   &avx2::dropout_mask};
    }
#endif
    return Steps{&base::step_forward, &base::step_backward, &base::matmul, &base::dropout_mask};
  }();
  return chosen;
}

// Runs fn(first_row, rows) over the batch: split over libtorch's threads when a
// step is large enough to pay for the hand-off, else in this thread.
template <typename F>
void over_rows(int64_t batch, int64_t work_per_row, const F& fn) {
  constexpr int64_t kParallelWork = int64_t{1} << 21;
  if (batch * work_per_row < kParallelWork || at::get_num_threads() < 2) {
    fn(0, batch);
    return;
  }
  const int64_t grain = std::max<int64_t>(4, batch / at::get_num_threads());
  at::parallel_for(0, batch, grain, [&](int64_t begin, int64_t end) { fn(begin, end - begin); });
}

using seqlab::ptr;

// What the weight gradients are made of: `hs`, `TB` rows of h_{t-1} [H];
// `xt`, `rows` rows of inputs [I]; `dgh`, the TB rows of dG [G] on the
// recurrent side; `dgi`, the rows of dG on the input side.
struct WeightGradInputs {
  const float* hs;
  const float* xt;
  const float* dgh;
  const float* dgi;
  int64_t TB, rows, H, I, G;
};

// The weight gradients over all steps at once, as their transposes (the G
// pre-activations are the long, vectorised side): dW^T = X^T dG; returns
// {dW_ih, dW_hh}. `shared`: both sides read the same dG (an LSTM or RNN
// layer over a sequence input).
std::pair<Tensor, Tensor> weight_grads(const WeightGradInputs& in, bool shared,
                                       const at::TensorOptions& opts) {
  const int64_t G = in.G;
  Tensor dw_hh_t = at::empty({in.H, G}, opts), dw_ih_t = at::empty({in.I, G}, opts);
  const auto product = [&](const float* inputs, int64_t width, int64_t k0, int64_t k,
                           const float* dg, float* pd) {
    over_rows(width, k * G, [&](int64_t r0, int64_t n) {
      steps().matmul(n, k, G, Strided{inputs + k0 * width + r0, 1, width}, Panel{dg + k0 * G, G},
                     nullptr, pd + r0 * G, k0 > 0);
    });
  };
  if (shared && at::get_num_threads() < 2) {
    // Both products read the same dG: span by span, so that each span is
    // read from memory once (a 128-step layer's dG does not stay in cache).
    constexpr int64_t kSpan = 256;
    for (int64_t k0 = 0; k0 < in.TB; k0 += kSpan) {
      const int64_t k = std::min(kSpan, in.TB - k0);
      product(in.hs, in.H, k0, k, in.dgh, ptr(dw_hh_t));
      product(in.xt, in.I, k0, k, in.dgh, ptr(dw_ih_t));
    }
  } else {
    product(in.hs, in.H, 0, in.TB, in.dgh, ptr(dw_hh_t));
    product(in.xt, in.I, 0, in.rows, in.dgi, ptr(dw_ih_t));
  }
  return {dw_ih_t.t().contiguous(), dw_hh_t.t().contiguous()};
}

// What a layer call asks for besides its inputs (the `flags` bits).
constexpr int64_t kReverse = 1;  // read the sequence from its last step
constexpr int64_t kOutputs = 2;  // return the output of every step

// Step t of a direction reads (and writes) the sequence's time index
// time_index(t): t, or T - 1 - t for the reverse direction.
int64_t time_index(int64_t t, int64_t T, bool reverse) { return reverse ? T - 1 - t : t; }

// A time-major contiguous copy [T, B, W] of x [B, T, W] (any strides), rows
// in the order the direction's steps read them: one copy, where reversing
// and transposing with libtorch's ops would take two.
Tensor to_time_major(const Tensor& x, bool reverse) {
  const Tensor xc = x.stride(2) == 1 ? x : x.contiguous();
  const int64_t B = x.size(0), T = x.size(1), W = x.size(2);
  Tensor out = at::empty({T, B, W}, x.options());
  const float* src = ptr(xc);
  float* dst = ptr(out);
  const int64_t sb = xc.stride(0), st = xc.stride(1);
  for (int64_t t = 0; t < T; ++t) {
    const float* from = src + time_index(t, T, reverse) * st;
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(dst + (t * B + b) * W, from + b * sb, W * sizeof(float));
    }
  }
  return out;
}

// The reverse: rows [T * B] of W floats at src, time-major in step order,
// as a contiguous [B, T, W] in the sequence's own time order.
Tensor to_batch_first(const float* src, int64_t T, int64_t B, int64_t W, bool reverse,
                      const at::TensorOptions& opts) {
  Tensor out = at::empty({B, T, W}, opts);
  float* dst = ptr(out);
  for (int64_t t = 0; t < T; ++t) {
    float* to = dst + time_index(t, T, reverse) * W;
    for (int64_t b = 0; b < B; ++b) {
      std::memcpy(to + b * T * W, src + (t * B + b) * W, W * sizeof(float));
    }
  }
  return out;
}

// The checks of a layer's arguments; returns {B, T, I}.
std::array<int64_t, 3> layer_sizes(const Tensor& x, const Tensor& h0, const Tensor& c0,
                                   const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                                   const Tensor& b_hh, int64_t mode, int64_t steps) {
  const bool repeated = x.dim() == 2;
  TORCH_CHECK((x.dim() == 3 || repeated) && x.scalar_type() == at::kFloat && x.device().is_cpu(),
              "the fused layer takes float32 CPU input [batch, steps, features], or "
              "[batch, features] repeated at every step");
  TORCH_CHECK(!repeated || steps >= 0, "a repeated input needs a number of steps, got ", steps);
  for (const Tensor* w : {&w_ih, &w_hh, &b_ih, &b_hh}) {
    TORCH_CHECK(w->scalar_type() == at::kFloat && w->device().is_cpu(),
                "the fused layer's weights must be float32 on the CPU");
  }
  const int64_t B = x.size(0), T = repeated ? steps : x.size(1), I = x.size(-1);
  const int64_t H = w_hh.size(1), G = w_hh.size(0);
  const int64_t per_unit = mode == kGru ? 3 : (mode == kLstm ? 4 : 1);
  TORCH_CHECK(w_hh.dim() == 2 && G == per_unit * H, "weight_hh must be [", per_unit,
              " * hidden, hidden], got ", w_hh.sizes());
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == G && w_ih.size(1) == I, "weight_ih must be [", G,
              ", ", I, "] for ", I, " input features, got ", w_ih.sizes());
  TORCH_CHECK(b_ih.numel() == G && b_hh.numel() == G, "biases must have ", G, " values, got ",
              b_ih.numel(), " and ", b_hh.numel());
  TORCH_CHECK(h0.dim() == 2 && h0.size(0) == B && h0.size(1) == H, "the initial state must be [",
              B, ", ", H, "], got ", h0.sizes());
  TORCH_CHECK(mode != kLstm || (c0.dim() == 2 && c0.size(0) == B && c0.size(1) == H),
              "the initial cell state must be [", B, ", ", H, "]");
  return {B, T, I};
}

struct FusedRnn : public torch::autograd::Function<FusedRnn> {
  // x: [B, T, I], or [B, I] repeated at each of `num_steps` steps (its
  // projection computed once). `flags`: kReverse, kOutputs (without it the
  // first result is empty, for callers that only want the final state).
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& h0,
                               const Tensor& c0, const Tensor& w_ih, const Tensor& w_hh,
                               const Tensor& b_ih, const Tensor& b_hh, int64_t mode,
                               int64_t flags, int64_t num_steps) {
    const auto [B, T, I] = layer_sizes(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, num_steps);
    const bool repeated = x.dim() == 2, reverse = (flags & kReverse) != 0;
    const int64_t H = w_hh.size(1), G = w_hh.size(0);
    const Dims d{H, G, round8(G), round8(H)};
    const auto opts = x.options();
    // The input, time-major in step order ([T * B] rows; [B] repeated).
    const Tensor xt = repeated ? x.contiguous() : to_time_major(x, reverse);
    const Tensor bias = padded(mode == kGru ? b_ih : b_ih + b_hh);
    const Tensor w_ih_t = padded(w_ih.t());  // [I, G], rows padded
    // The projection x W_ih^T + biases: step by step into `pre` [T, B, G]
    // inside the loop below, or once into `proj` [B, G] for a repeated input.
    const Tensor proj = repeated ? at::empty({B, G}, opts) : Tensor();
    Tensor pre = repeated && mode == kGru ? Tensor() : at::empty({T, B, G}, opts);
    const float* const p_x = ptr(xt);
    const float* const p_wi = ptr(w_ih_t);
    const float* const p_bias = ptr(bias);
    // Rows [r, r + n) of the projection, from row r of xt, into `into`.
    const auto project = [&](float* into, int64_t r, int64_t n) {
      steps().matmul(n, I, G, Strided{p_x + r * I, I, 1}, Panel{p_wi, d.ldt}, p_bias,
                     into + r * G, false);
    };
    if (repeated) over_rows(B, I * G, [&](int64_t r, int64_t n) { project(ptr(proj), r, n); });
    Tensor hs = at::empty({T + 1, B, H}, opts);  // hs[0] = h0, hs[t + 1] = h after step t
    hs[0].copy_(h0);
    Tensor gates, hn, gh, cs, tcs;
    if (mode == kGru) {
      gates = at::empty({T, B, G}, opts);
      hn = at::empty({T, B, H}, opts);
      gh = at::empty({B, G}, opts);
    } else if (mode == kLstm) {
      gates = pre;  // written with i, f, g, o
      cs = at::empty({T + 1, B, H}, opts);
      cs[0].copy_(c0);
      tcs = at::empty({T, B, H}, opts);
    }
    const Tensor w_hh_t = padded(w_hh.t());  // [H, G], rows padded
    const Tensor b_hh_c = padded(b_hh);
    const float* const p_proj = ptr(proj);
    float* const p_pre = ptr(pre);
    float* const p_hs = ptr(hs);
    float* const p_gates = mode == kGru ? ptr(gates) : nullptr;  // LSTM: gates is pre
    float* const p_hn = ptr(hn);
    float* const p_gh = ptr(gh);
    float* const p_cs = ptr(cs);
    float* const p_tc = ptr(tcs);
    const float* const p_w = ptr(w_hh_t);
    const float* const p_b = ptr(b_hh_c);
    for (int64_t t = 0; t < T; ++t) {
      over_rows(B, H * G, [&](int64_t r0, int64_t n) {
        const int64_t hr = r0 * H, gr = r0 * G, tb = t * B;
        // The step's projection just before it, while its rows stay in
        // cache (a long sequence's whole projection does not fit); every
        // element is the same sum as in one product over all steps.
        if (!repeated) project(p_pre, tb + r0, n);
        steps().forward(mode, n, d, p_pre ? p_pre + tb * G + gr : nullptr,
                        p_proj ? p_proj + gr : nullptr, p_hs + tb * H + hr, p_w, p_b,
                        p_hs + (tb + B) * H + hr, p_gates ? p_gates + tb * G + gr : nullptr,
                        p_hn ? p_hn + tb * H + hr : nullptr, p_gh ? p_gh + gr : nullptr,
                        p_cs ? p_cs + tb * H + hr : nullptr,
                        p_cs ? p_cs + (tb + B) * H + hr : nullptr,
                        p_tc ? p_tc + tb * H + hr : nullptr);
      });
    }
    ctx->save_for_backward({xt, hs, w_ih, w_hh, gates, hn, cs, tcs});
    ctx->saved_data["mode"] = mode;
    ctx->saved_data["repeated"] = repeated;
    ctx->saved_data["reverse"] = reverse;
    // One step's outputs are hs[1] itself, seen as [B, 1, H]: no copy.
    Tensor out = (flags & kOutputs) == 0 ? at::empty({0}, opts)
                 : T == 1              ? hs.narrow(0, 1, 1).transpose(0, 1)
                                       : to_batch_first(p_hs + B * H, T, B, H, reverse, opts);
    Tensor last = hs[T].clone();
    // Autograd wants every output defined: an empty one stands for the cell
    // state of the layers that have none.
    Tensor last_c = mode == kLstm ? cs[T].clone() : at::empty({0}, opts);
    return {out, last, last_c};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& xt = saved[0];
    const Tensor& hs = saved[1];
    const Tensor& w_ih = saved[2];
    const Tensor& w_hh = saved[3];
    const int64_t mode = ctx->saved_data["mode"].toInt();
    const bool repeated = ctx->saved_data["repeated"].toBool();
    const bool reverse = ctx->saved_data["reverse"].toBool();
    const int64_t T = hs.size(0) - 1, B = hs.size(1), I = w_ih.size(1), H = w_hh.size(1);
    const int64_t G = w_hh.size(0);
    const Dims d{H, G, round8(G), round8(H)};
    const auto opts = xt.options();
    // The outputs' gradient in step order, or (outputs unused) one block of
    // zeros that every step reads.
    const bool go_each_step = grads[0].defined() && grads[0].numel() > 0;
    const Tensor gout = go_each_step ? to_time_major(grads[0], reverse) : at::zeros({B, H}, opts);
    const int64_t go_step = go_each_step ? B * H : 0;
    Tensor dh = grads[1].defined() ? grads[1].contiguous().clone() : at::zeros({B, H}, opts);
    Tensor dc;
    if (mode == kLstm) {
      dc = grads[2].defined() ? grads[2].contiguous().clone() : at::zeros({B, H}, opts);
    }
    Tensor dgh = at::empty({T, B, G}, opts);  // gradient of W_hh h + b_hh, per step
    Tensor dgi = mode == kGru ? at::empty({T, B, G}, opts) : dgh;
    const Tensor w = padded(w_hh);  // [G, H], rows padded
    const float* const p_go = ptr(gout);
    const float* const p_hs = ptr(hs);
    const float* const p_gates = ptr(saved[4]);
    const float* const p_hn = ptr(saved[5]);
    const float* const p_cs = ptr(saved[6]);
    const float* const p_tc = ptr(saved[7]);
    const float* const p_w = ptr(w);
    float* const p_dh = ptr(dh);
    float* const p_dc = ptr(dc);
    float* const p_dgh = ptr(dgh);
    float* const p_dgi = ptr(dgi);
    // The input's gradient, d_in = dG W_ih ([rows, I]), rows [r, r + n): for
    // a sequence input step by step inside the loop below, while the step's
    // dG is in cache (the same sums as one product over all steps).
    const bool want_dx = ctx->needs_input_grad(0);
    const int64_t rows = repeated ? B : T * B;
    const Tensor w_ih_c = w_ih.contiguous();  // [G, I]
    Tensor d_in = want_dx ? at::empty({rows, I}, opts) : Tensor();
    float* const p_din = ptr(d_in);
    const float* const p_wic = ptr(w_ih_c);
    const auto input_grad = [&](const float* dg, int64_t r, int64_t n) {
      steps().matmul(n, G, I, Strided{dg + r * G, G, 1}, Panel{p_wic, I}, nullptr,
                     p_din + r * I, false);
    };
    for (int64_t t = T - 1; t >= 0; --t) {
      over_rows(B, H * G, [&](int64_t r0, int64_t n) {
        const int64_t hr = r0 * H, gr = r0 * G, tb = t * B;
        steps().backward(mode, n, d, p_go + t * go_step + hr, p_dh + hr,
                         p_dc ? p_dc + hr : nullptr, p_dgh + tb * G + gr, p_dgi + tb * G + gr,
                         p_w, p_hs + (tb + B) * H + hr, p_hs + tb * H + hr,
                         p_gates ? p_gates + tb * G + gr : nullptr,
                         p_hn ? p_hn + tb * H + hr : nullptr, p_cs ? p_cs + tb * H + hr : nullptr,
                         p_tc ? p_tc + tb * H + hr : nullptr);
        if (want_dx && !repeated) input_grad(p_dgi, tb + r0, n);
      });
    }
    const int64_t TB = T * B;
    Tensor db_hh = dgh.view({TB, G}).sum(0);
    Tensor db_ih = mode == kGru ? dgi.view({TB, G}).sum(0) : db_hh.clone();
    // A repeated input meets the sum over steps of its gradients.
    const Tensor dgi_in = repeated ? dgi.sum(0) : dgi.view({TB, G});
    const auto [dw_ih, dw_hh] =
        weight_grads(WeightGradInputs{p_hs, ptr(xt), p_dgh, ptr(dgi_in), TB, rows, H, I, G},
                     mode != kGru && !repeated, opts);
    Tensor dx;
    if (want_dx) {
      if (repeated) {
        over_rows(B, G * I, [&](int64_t r0, int64_t n) { input_grad(ptr(dgi_in), r0, n); });
        dx = d_in;
      } else {
        dx = to_batch_first(p_din, T, B, I, reverse, opts);
      }
    }
    return {dx,    dh,    mode == kLstm ? dc : Tensor(), dw_ih, dw_hh, db_ih, db_hh, Tensor(),
            Tensor(), Tensor()};
  }
};

}  // namespace

// The layer over x [batch, steps, input] (or [batch, input] repeated at each
// of `steps` steps) from h0 [batch, hidden] (and, LSTM, c0 [batch, hidden];
// NULL otherwise); mode 0 tanh, 1 relu, 2 GRU, 3 LSTM; flags: 1 reads the
// sequence from its end (the reverse direction; outputs stay in the
// sequence's time order), 2 returns the outputs. Writes new tensors to *out
// ([batch, steps, hidden], or empty without flag 2), *last ([batch, hidden])
// and, LSTM, *last_c; returns NULL, or a message to free with
// seqlab_fused_rnn_free_message. Tensors are `torch::Tensor*`, as tch's are.
extern "C" char* seqlab_fused_rnn(const Tensor* x, const Tensor* h0, const Tensor* c0,
                                  const Tensor* w_ih, const Tensor* w_hh, const Tensor* b_ih,
                                  const Tensor* b_hh, int64_t mode, int64_t flags, int64_t steps,
                                  Tensor** out, Tensor** last, Tensor** last_c) {
  try {
    TORCH_CHECK(mode >= kTanh && mode <= kLstm, "unknown fused layer mode ", mode);
    TORCH_CHECK((flags & ~(kReverse | kOutputs)) == 0, "unknown fused layer flags ", flags);
    TORCH_CHECK((mode == kLstm) == (c0 != nullptr && last_c != nullptr),
                "an LSTM needs a cell state, and only an LSTM takes one");
    // An empty tensor stands for the cell state of the layers that have none.
    const Tensor cell = c0 != nullptr ? *c0 : at::empty({0}, x->options());
    auto r = FusedRnn::apply(*x, *h0, cell, *w_ih, *w_hh, *b_ih, *b_hh, mode, flags, steps);
    *out = new Tensor(r[0]);
    *last = new Tensor(r[1]);
    if (last_c != nullptr) *last_c = new Tensor(r[2]);
    return nullptr;
  } catch (const std::exception& e) {
    return seqlab::copy_message(e.what());
  } catch (...) {
    return seqlab::copy_message("unknown C++ exception in seqlab_fused_rnn");
  }
}

// A dropout mask shaped like `like` (float32, CPU): each element 1 / (1 - p)
// with probability 1 - p, else 0, from one 64-bit draw of libtorch's default
// CPU generator (so `manual_seed` makes it reproducible). Writes a new tensor
// to *out; returns NULL or a message, as above.
extern "C" char* seqlab_dropout_mask(const Tensor* like, double p, Tensor** out) {
  try {
    TORCH_CHECK(p >= 0.0 && p < 1.0, "dropout probability must be in [0, 1), got ", p);
    uint64_t seed = 0;
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      seed = at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
    }
    const double cut = std::ldexp(p, 32);
    const uint32_t threshold = cut >= 4294967295.0 ? 4294967295u : static_cast<uint32_t>(cut);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    Tensor mask = at::empty(like->sizes(), like->options().dtype(at::kFloat));
    float* pm = mask.data_ptr<float>();
    const DropoutMask fill = steps().dropout_mask;
    at::parallel_for(0, mask.numel(), int64_t{1} << 16, [&](int64_t begin, int64_t end) {
      fill(end - begin, static_cast<uint64_t>(begin), seed, threshold, scale, pm + begin);
    });
    *out = new Tensor(std::move(mask));
    return nullptr;
  } catch (const std::exception& e) {
    return seqlab::copy_message(e.what());
  } catch (...) {
    return seqlab::copy_message("unknown C++ exception in seqlab_dropout_mask");
  }
}

extern "C" void seqlab_fused_rnn_free_message(char* message) { std::free(message); }
