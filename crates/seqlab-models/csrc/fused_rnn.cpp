// One recurrent layer (RNN tanh, RNN relu or GRU), one direction, over a whole
// sequence, as a single node of libtorch's autograd graph.
//
// libtorch's CPU `rnn_tanh`, `rnn_relu` and `gru` run a handful of small ATen
// ops per step (and as many autograd nodes), whose per-op overhead dominates
// at the chapter's sizes (batch 32, 32 units). Here the input projection of
// every step is one matrix product; each step then costs one small matrix
// product (h W_hh^T) and one loop over the batch's units for the element-wise
// work; the backward pass is written out by hand the same way (one matrix
// product per step), and the weight gradients are one matrix product each
// over all steps. Same gate order, weight layout and equations as PyTorch.
//
// Floating point: the sums are in a fixed order for a given thread count, so
// results are deterministic; they match libtorch's kernels to float
// tolerance, not bit for bit (the products are grouped differently).

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace {

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kTanh = 0;
constexpr int64_t kRelu = 1;
constexpr int64_t kGru = 2;

inline float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// Forward of one step of a simple RNN: h = act(gi + gh).
void rnn_step(int64_t n, int64_t mode, const float* gi, const float* gh, float* h) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = gi[i] + gh[i];
    h[i] = mode == kTanh ? std::tanh(v) : (v > 0.0f ? v : 0.0f);
  }
}

// Forward of one GRU step; keeps r, z, n and (W_hn h + b_hn) for the backward pass.
void gru_step(int64_t B, int64_t H, const float* gi, const float* gh, const float* hp, float* h,
              float* gates, float* ghn) {
  for (int64_t b = 0; b < B; ++b) {
    const float* gib = gi + b * 3 * H;
    const float* ghb = gh + b * 3 * H;
    float* gb = gates + b * 3 * H;
    for (int64_t j = 0; j < H; ++j) {
      const float r = sigmoid(gib[j] + ghb[j]);
      const float z = sigmoid(gib[H + j] + ghb[H + j]);
      const float hn = ghb[2 * H + j];
      const float n = std::tanh(gib[2 * H + j] + r * hn);
      const int64_t k = b * H + j;
      h[k] = (1.0f - z) * n + z * hp[k];
      gb[j] = r;
      gb[H + j] = z;
      gb[2 * H + j] = n;
      ghn[k] = hn;
    }
  }
}

struct FusedRnn : public torch::autograd::Function<FusedRnn> {
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& h0,
                               const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                               const Tensor& b_hh, int64_t mode) {
    const int64_t B = x.size(0), T = x.size(1), I = x.size(2), H = w_hh.size(1);
    const int64_t GH = w_hh.size(0);
    const auto opts = x.options();
    // Time-major input and its projection for every step at once: [T, B, GH].
    const Tensor xt = x.transpose(0, 1).contiguous();
    const Tensor gi = at::addmm(b_ih, xt.view({T * B, I}), w_ih.t()).view({T, B, GH});
    Tensor hs = at::empty({T + 1, B, H}, opts);  // hs[0] = h0, hs[t + 1] = h after step t
    hs[0].copy_(h0);
    Tensor gates, ghn;
    if (mode == kGru) {
      gates = at::empty({T, B, GH}, opts);
      ghn = at::empty({T, B, H}, opts);
    }
    Tensor gh = at::empty({B, GH}, opts);
    const Tensor w_hh_t = w_hh.t();
    const float* pgi = gi.data_ptr<float>();
    float* phs = hs.data_ptr<float>();
    for (int64_t t = 0; t < T; ++t) {
      const Tensor hprev = hs[t];
      at::addmm_out(gh, b_hh, hprev, w_hh_t);
      const float* step_gi = pgi + t * B * GH;
      float* h = phs + (t + 1) * B * H;
      if (mode == kGru) {
        gru_step(B, H, step_gi, gh.data_ptr<float>(), phs + t * B * H, h,
                 gates.data_ptr<float>() + t * B * GH, ghn.data_ptr<float>() + t * B * H);
      } else {
        rnn_step(B * H, mode, step_gi, gh.data_ptr<float>(), h);
      }
    }
    ctx->save_for_backward({xt, hs, w_ih, w_hh, gates, ghn});
    ctx->saved_data["mode"] = mode;
    Tensor out = hs.narrow(0, 1, T).transpose(0, 1).contiguous();
    Tensor last = hs[T].clone();
    return {out, last};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor& xt = saved[0];
    const Tensor& hs = saved[1];
    const Tensor& w_ih = saved[2];
    const Tensor& w_hh = saved[3];
    const Tensor& gates = saved[4];
    const Tensor& ghn = saved[5];
    const int64_t mode = ctx->saved_data["mode"].toInt();
    const int64_t T = xt.size(0), B = xt.size(1), I = xt.size(2), H = w_hh.size(1);
    const int64_t GH = w_hh.size(0);
    const auto opts = xt.options();
    const Tensor gout = grads[0].defined() ? grads[0].transpose(0, 1).contiguous()
                                           : at::zeros({T, B, H}, opts);
    Tensor dh = grads[1].defined() ? grads[1].contiguous().clone() : at::zeros({B, H}, opts);
    Tensor dgh = at::empty({T, B, GH}, opts);  // gradient of gh (= W_hh h + b_hh) per step
    Tensor dgi = mode == kGru ? at::empty({T, B, GH}, opts) : dgh;
    Tensor direct = at::empty({B, H}, opts);  // GRU: the part of dh_prev that skips W_hh
    Tensor carried = at::empty({B, H}, opts);
    const float* pout = gout.data_ptr<float>();
    const float* phs = hs.data_ptr<float>();
    for (int64_t t = T - 1; t >= 0; --t) {
      float* pdh = dh.data_ptr<float>();
      const float* go = pout + t * B * H;
      for (int64_t i = 0; i < B * H; ++i) pdh[i] += go[i];
      float* pgh = dgh.data_ptr<float>() + t * B * GH;
      if (mode == kGru) {
        const float* g = gates.data_ptr<float>() + t * B * GH;
        const float* hn = ghn.data_ptr<float>() + t * B * H;
        const float* hp = phs + t * B * H;
        float* pgi = dgi.data_ptr<float>() + t * B * GH;
        float* pd = direct.data_ptr<float>();
        for (int64_t b = 0; b < B; ++b) {
          for (int64_t j = 0; j < H; ++j) {
            const int64_t k = b * H + j, o = b * GH;
            const float r = g[o + j], z = g[o + H + j], n = g[o + 2 * H + j];
            const float d = pdh[k];
            const float dn = d * (1.0f - z) * (1.0f - n * n);
            const float dz = d * (hp[k] - n) * z * (1.0f - z);
            const float dr = dn * hn[k] * r * (1.0f - r);
            pgi[o + j] = dr;
            pgi[o + H + j] = dz;
            pgi[o + 2 * H + j] = dn;
            pgh[o + j] = dr;
            pgh[o + H + j] = dz;
            pgh[o + 2 * H + j] = dn * r;
            pd[k] = d * z;
          }
        }
      } else {
        const float* h = phs + (t + 1) * B * H;
        for (int64_t i = 0; i < B * H; ++i) {
          pgh[i] = mode == kTanh ? pdh[i] * (1.0f - h[i] * h[i]) : (h[i] > 0.0f ? pdh[i] : 0.0f);
        }
      }
      at::mm_out(carried, dgh[t], w_hh);
      if (mode == kGru) {
        at::add_out(dh, carried, direct);
      } else {
        dh.copy_(carried);
      }
    }
    const Tensor hprev = hs.narrow(0, 0, T).reshape({T * B, H});
    const Tensor dgh2 = dgh.view({T * B, GH});
    const Tensor dgi2 = dgi.view({T * B, GH});
    Tensor dw_hh = dgh2.t().mm(hprev);
    Tensor db_hh = dgh2.sum(0);
    Tensor dw_ih = dgi2.t().mm(xt.view({T * B, I}));
    Tensor db_ih = dgi2.sum(0);
    Tensor dx = dgi2.mm(w_ih).view({T, B, I}).transpose(0, 1).contiguous();
    return {dx, dh, dw_ih, dw_hh, db_ih, db_hh, Tensor()};
  }
};

char* copy_message(const char* what) {
  const size_t n = std::strlen(what) + 1;
  char* m = static_cast<char*>(std::malloc(n));
  if (m != nullptr) std::memcpy(m, what, n);
  return m;
}

}  // namespace

// The layer over x [batch, steps, input] from h0 [batch, hidden]; mode 0 tanh,
// 1 relu, 2 GRU. Writes new tensors to *out ([batch, steps, hidden]) and
// *last ([batch, hidden]); returns NULL, or a message to free with
// seqlab_fused_rnn_free_message. Tensors are `torch::Tensor*`, as tch's are.
extern "C" char* seqlab_fused_rnn(const Tensor* x, const Tensor* h0, const Tensor* w_ih,
                                  const Tensor* w_hh, const Tensor* b_ih, const Tensor* b_hh,
                                  int64_t mode, Tensor** out, Tensor** last) {
  try {
    auto r = FusedRnn::apply(*x, *h0, *w_ih, *w_hh, *b_ih, *b_hh, mode);
    *out = new Tensor(r[0]);
    *last = new Tensor(r[1]);
    return nullptr;
  } catch (const std::exception& e) {
    return copy_message(e.what());
  } catch (...) {
    return copy_message("unknown C++ exception in seqlab_fused_rnn");
  }
}

extern "C" void seqlab_fused_rnn_free_message(char* message) { std::free(message); }
