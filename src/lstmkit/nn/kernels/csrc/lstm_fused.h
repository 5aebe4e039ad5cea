// The fused CPU kernel for one LSTM layer in one direction: what forward.cpp and backward.cpp take and return,
// and what bindings.cpp exposes to Python (`fused.py`).
//
// Shapes: T steps, B rows, G gates (3 with cifg, else 4), H hidden units, P = size of h (proj_size, else H).
// Forward, per step, one task per block of rows: the bias (with layernorm, the input layer norm of x W_ih^T)
// added to the step's x W_ih^T; the recurrent product h_rec (B,P) x W_hh^T (P,G*H) (with layernorm normalised
// per row over its G*H columns and scaled by ln_gain_hh); one fused, vectorised pointwise pass over (B, G*H)
// (with layernorm it also normalises c_t per row over H, then gain/bias, before the output tanh); with a
// projection the product m (B,H) x W_hr^T (H,P) into h and a pass for zoneout/lengths on the P units.
// Backward: hand-derived BPTT, per step and row block: (projection) dm = dh_new @ W_hr; one fused pointwise
// pass (with the cell layer-norm backward); (layernorm) both gate layer norms' backward; one product with W_hh.
// The bias, peephole and layer-norm gradients are summed per thread in that pass; dW_hh and dW_hr follow as
// large oneDNN products over all steps.
// Absent optional tensors are empty (numel() == 0). The field order of each struct is that of its namesake in
// fused.py (FusedWeights, FusedMasks, FusedFlags, FusedRecord), which bindings.cpp relies on.
#pragma once

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

#ifdef __linux__
#include <sched.h>
#endif

namespace lstmkit {

using at::Tensor;

// The weights of one layer and direction, as the kernel takes them (empty when absent).
struct LayerWeights {
  Tensor w_hh;        // (G*H, P)
  Tensor bias;        // (G*H) bias_ih + bias_hh
  Tensor ln_gain_ih;  // (G*H) gain of the input layer norm
  Tensor peep_i;      // (H) peephole w_ci (none with cifg)
  Tensor peep_f;      // (H) w_cf
  Tensor peep_o;      // (H) w_co
  Tensor w_hr;        // (P, H) projection
  Tensor ln_gain_hh;  // (G*H) gain of the recurrent layer norm
  Tensor ln_gain_c;   // (H) gain of the cell layer norm
  Tensor ln_bias_c;   // (H) bias of the cell layer norm
};

// The per-call masks (empty when absent), indexed in processing order.
struct LayerMasks {
  Tensor h_mask;     // (B, P) variational dropout on h as the recurrent product sees it, scaled by 1/(1-p)
  Tensor zoneout_h;  // (T, B, P) nonzero where a unit of h keeps its previous value
  Tensor zoneout_c;  // (T, B, H) the same for c
  Tensor valid;      // (T, B) one within each sequence's length, zero past it
};

struct LayerFlags {
  bool peephole = false;
  bool cifg = false;
  bool save = true;   // keep every step's buffers for a backward (false: forward only, no gate trace)
  bool bf16 = false;  // round the products' operands to bf16 (fp32 tensors, where the CPU has bf16 products)
};

// What the forward keeps for the backward (and the gate trace). With save = false: h_states and c_states hold
// two slots used in turn, and the per-step tensors only the last step (leading size 1), as scratch.
struct ForwardRecord {
  Tensor gates;     // (T, B, G*H) i, f, g, o after their activations; zero past a sequence's length
  Tensor h_states;  // (T+1, B, P) h_0 .. h_T
  Tensor c_states;  // (T+1, B, H) c_0 .. c_T
  Tensor c_new;     // (T, B, H) f * c_{t-1} + i * g, before zoneout
  Tensor tanh_c;    // (T, B, H) tanh(c_out)
  Tensor m;         // (T, B, H) projection only: o * tanh(c_out)
  Tensor xhat_hh;   // (T, B, G*H) layernorm only: the normalised h_rec W_hh^T
  Tensor rstd_hh;   // (T, B) and its rows' rstd
  Tensor c_hat;     // (T, B, H) layernorm only: the normalised c_new
  Tensor rstd_c;    // (T, B)
  Tensor mean_ih;   // (T, B) layernorm only: the mean and rstd of x W_ih^T's rows
  Tensor rstd_ih;   // (T, B)
};

struct ForwardResult {
  Tensor output;  // (T, B, P)
  Tensor h_n;     // (B, P)
  Tensor c_n;     // (B, H)
  ForwardRecord record;
};

// The gradients of the forward's differentiable inputs (empty for absent weights).
struct LayerGrads {
  Tensor pre_x;  // (T, B, G*H)
  Tensor h0;     // (B, P)
  Tensor c0;     // (B, H)
  LayerWeights weights;
};

// pre_x (T, B, G*H) = x W_ih^T without bias; h0 (B, P), c0 (B, H).
ForwardResult fused_forward(const Tensor& pre_x, const Tensor& h0, const Tensor& c0, const LayerWeights& weights,
                            const LayerMasks& masks, LayerFlags flags);

// d_output (T, B, P), d_h_n (B, P), d_c_n (B, H) (each empty where no gradient flows); the forward's weights,
// masks and record; pre_x (with the input layer norm, whose rows the backward recomputes; else empty).
LayerGrads fused_backward(const Tensor& d_output, const Tensor& d_h_n, const Tensor& d_c_n,
                          const LayerWeights& weights, const LayerMasks& masks, const ForwardRecord& record,
                          const Tensor& pre_x, LayerFlags flags);

// ---- the products (products.cpp) -------------------------------------------------------------------------

// Whether oneDNN's brgemm micro-kernel runs here and multiplies right: fp32 operands, and bf16 operands (bf16
// products: the CPU has AVX512-BF16 or AMX).
bool brgemm_f32();
bool brgemm_bf16();

// Whether oneDNN runs bf16 inner products here (it has no bf16 kernels on CPUs without AVX-512, such as
// AVX2-only ones).
bool onednn_bf16();

// X (N, K) @ b (K, M) for all rows at once (b any strides): the micro-kernel in row blocks across the threads;
// bf16: operands rounded to bf16, fp32 result. Elsewhere at::mm.
Tensor rows_times(const Tensor& x, const Tensor& b, bool bf16);

// dY^T X over all steps: dY (N, O), X (N, I) -> (O, I) in dY's dtype; bf16: both operands rounded to bf16 first
// (fp32 accumulation), the result in fp32.
Tensor weight_grad(const Tensor& dy, const Tensor& x, bool bf16 = false);

// ---- the masks (masks.cpp) --------------------------------------------------------------------------------

// A bool tensor of `shape`, each element true with probability p; the same seed gives the same mask.
Tensor bernoulli_mask(std::vector<int64_t> shape, double p, int64_t seed);

// ---- shared by forward.cpp and backward.cpp ---------------------------------------------------------------

// Rows per task of a step. Measured on 2 cores: splitting every step's rows across the threads pays even at
// (T, B, I, H) = (200, 16, 32, 64), where a layer-norm training step's speed ratio to torch.nn.LSTM is 0.76
// split and 0.61 with each step on one thread; so tasks are as small as 4 rows.
constexpr int64_t kRowGrain = 4;

// The CPUs this process may run on, counted once: the most threads that can share a step's rows.
inline int64_t usable_cpus() {
  static const int64_t count = [] {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max<int64_t>(1, CPU_COUNT(&set));
#endif
    return std::max<int64_t>(1, std::thread::hardware_concurrency());
  }();
  return count;
}

// The row blocks of a step: a partition of the B rows fixed by B and the machine's CPU count, never by the
// number of threads (on 2 CPUs it is the partition 2 threads made before). Each block's products run as one
// call and its per-block sums (the backward's bias, peephole and layer-norm gradients) are added in block
// order, so a step computes bit for bit the same on any number of threads, and the count can change between
// steps (train/threads.py) without changing a run's numbers.
inline int64_t row_blocks(int64_t B) { return std::max<int64_t>(1, std::min(usable_cpus(), B / kRowGrain)); }
inline int64_t row_block_size(int64_t B) { return (B + row_blocks(B) - 1) / row_blocks(B); }

// f(block, b0, b1) for every row block of a step, the blocks shared out among torch's threads
template <typename F>
void for_row_blocks(int64_t B, const F& f) {
  const int64_t size = row_block_size(B), blocks = (B + size - 1) / size;
  at::parallel_for(0, blocks, 1, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) f(k, k * size, std::min(B, (k + 1) * size));
  });
}

// f(peephole, cifg) with both flags as compile-time constants (std::true_type / std::false_type)
template <typename F>
void dispatch_flags(bool peephole, bool cifg, F&& f) {
  if (peephole) {
    if (cifg) f(std::true_type{}, std::true_type{}); else f(std::true_type{}, std::false_type{});
  } else {
    if (cifg) f(std::false_type{}, std::true_type{}); else f(std::false_type{}, std::false_type{});
  }
}

// data of an optional tensor: null when it is empty
template <typename scalar_t>
const scalar_t* data_or_null(const Tensor& t) {
  return t.numel() ? t.const_data_ptr<scalar_t>() : nullptr;
}
template <typename scalar_t>
scalar_t* mutable_data_or_null(const Tensor& t) {
  return t.numel() ? t.mutable_data_ptr<scalar_t>() : nullptr;
}

}  // namespace lstmkit
