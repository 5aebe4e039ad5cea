// The products over all steps (`rows_times`, `weight_grad`) and the checks of what the micro-kernel and oneDNN
// run on this CPU; the per-step products (`RightMat`) are in products.h.
//
// Shapes: N = T*B rows of all steps; rows_times: X (N, K) @ B (K, M); weight_grad: dY (N, O), X (N, I) ->
// dY^T X (O, I), such as dW_ih (G*H, I), dW_hh (G*H, P) and dW_hr (P, H).
#include "products.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <ATen/ops/ones.h>

#include <string>

namespace lstmkit {
namespace {

// oneDNN's inner product (mkldnn::_linear_pointwise), found through the dispatcher where torch has it; the
// weight gradients over all steps go through it.
struct Linear {
  c10::optional<c10::OperatorHandle> unary;
  bool bf16 = false;  // it runs bf16 operands on this CPU

  Linear() {
    try {
      if (!at::hasMKLDNN()) return;
      auto op = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
      if (op) unary = *op;
    } catch (...) {
      unary.reset();
    }
    bf16 = unary.has_value() && runs_bf16();
  }

  // X (M, K) @ W^T for W (N, K): through oneDNN in fp32 or bf16 from about 4M multiply-adds (below that at::mm
  // is as fast), when torch has it and it is enabled
  bool onednn(const at::Tensor& x, const at::Tensor& w) const {
    return unary.has_value() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
           x.size(0) * w.size(0) * w.size(1) >= (int64_t(1) << 22) && at::globalContext().userEnabledMkldnn();
  }

  // X @ W^T through oneDNN: X (M, K), W (N, K) -> (M, N) in X's dtype
  at::Tensor run(const at::Tensor& x, const at::Tensor& w) const {
    torch::jit::Stack stack = {x, w, c10::IValue(), c10::IValue(std::string("none")),
                               c10::IValue(c10::List<c10::optional<at::Scalar>>()), c10::IValue()};
    unary->callBoxed(&stack);
    return stack.back().toTensor();
  }

 private:
  // Whether a small bf16 inner product runs: oneDNN has no bf16 primitive on CPUs without AVX-512 (nor
  // AVX-NE-CONVERT), and says "could not create a primitive descriptor" there.
  bool runs_bf16() const {
    try {
      at::Tensor ones = at::ones({2, 4}, at::TensorOptions().dtype(at::kBFloat16));
      return run(ones, ones).sum().item<float>() == 16.0f;
    } catch (...) {
      return false;
    }
  }
};

const Linear& linear_ops() {
  static Linear ops;
  return ops;
}

// Whether c (M, N) holds the product of a(i, k) and b(k, j) (exactly: small integers).
template <typename A, typename Bm>
bool matches_product(int64_t M, int64_t N, int64_t K, A a, Bm b, const float* c) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k) s += a(i, k) * b(k, j);
      if (s != c[i * N + j]) return false;
    }
  return true;
}

constexpr int64_t kCheckM = 3, kCheckN = 5, kCheckK = 8;
inline float check_a(int64_t i, int64_t k) { return float((i * kCheckK + k) % 5) - 2.0f; }
inline float check_b(int64_t k, int64_t j) { return float((k * kCheckN + j) % 3) - 1.0f; }

// Whether the micro-kernel runs here for `scalar_t` operands (this torch has it, and the CPU its instructions)
// and multiplies right. bf16 takes B in the VNNI2 layout [K/2][N][2].
template <typename scalar_t>
bool check_brgemm() {
  constexpr bool vnni = std::is_same_v<scalar_t, at::BFloat16>;
  try {
    scalar_t a[kCheckM * kCheckK], b[kCheckK * kCheckN];
    float c[kCheckM * kCheckN];
    for (int64_t i = 0; i < kCheckM * kCheckK; ++i) a[i] = check_a(i / kCheckK, i % kCheckK);
    for (int64_t k = 0; k < kCheckK; ++k)
      for (int64_t j = 0; j < kCheckN; ++j) {
        const int64_t idx = vnni ? (k / 2) * kCheckN * 2 + j * 2 + k % 2 : k * kCheckN + j;
        b[idx] = check_b(k, j);
      }
    at::native::cpublas::brgemm(kCheckM, kCheckN, kCheckK, kCheckK, kCheckN, kCheckN, false, a, b, c, vnni);
    if (vnni) at::native::cpublas::brgemm_release(true);
    return matches_product(kCheckM, kCheckN, kCheckK, check_a, check_b, c);
  } catch (...) {
    return false;
  }
}

}  // namespace

bool brgemm_f32() {
#ifdef CPUBLAS_BRGEMM_F32F32F32
  static const bool ok = check_brgemm<float>();
  return ok;
#else
  return false;
#endif
}

bool brgemm_bf16() {
#ifdef CPUBLAS_BRGEMM_BF16BF16F32
  static const bool ok = check_brgemm<at::BFloat16>();
  return ok;
#else
  return false;
#endif
}

bool onednn_bf16() { return linear_ops().bf16; }

// Into a cached buffer: a fresh (T*B, G*H) output from oneDNN was faulted in page by page on every call.
at::Tensor rows_times(const at::Tensor& x, const at::Tensor& b, bool bf16) {
  const int64_t N = x.size(0), K = x.size(1), M = b.size(1);
  bf16 = bf16 && x.scalar_type() == at::kFloat && brgemm_bf16();
  if (x.scalar_type() != at::kFloat || !(bf16 || brgemm_f32())) return at::mm(x, b);
  const RightMat<float> right(b, bf16);
  const at::Tensor xc = x.contiguous();
  at::Tensor out = buffer({N, M}, xc.options());
  constexpr int64_t kRows = 64;
  at::Tensor scratch = buffer({bf16 ? at::get_num_threads() * kRows * right.Kp : 0}, xc.options().dtype(at::kBFloat16));
  const float* x_data = xc.const_data_ptr<float>();
  float* out_data = out.mutable_data_ptr<float>();
  at::BFloat16* scratch_data = bf16 ? scratch.mutable_data_ptr<at::BFloat16>() : nullptr;
  at::parallel_for(0, (N + kRows - 1) / kRows, 1, [&](int64_t c0, int64_t c1) {
    at::BFloat16* a_bf16 = scratch_data ? scratch_data + at::get_thread_num() * kRows * right.Kp : nullptr;
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * kRows, rows = std::min(kRows, N - r0);
      right.mul(rows, x_data + r0 * K, K, out_data + r0 * M, M, false, a_bf16);
    }
    release_tiles(bf16);
  });
  return out;
}

// Through oneDNN as (X^T dY)^T: oneDNN takes the transposed view of dY as its weight, and X^T is the smaller
// copy. Where oneDNN has no bf16 (AVX2-only CPUs), bf16 products are the bf16-rounded operands multiplied in
// fp32, which is what bf16 products with fp32 accumulation compute. Elsewhere at::mm.
at::Tensor weight_grad(const at::Tensor& dy, const at::Tensor& x, bool bf16) {
  const Linear& ops = linear_ops();
  const auto dtype = bf16 ? at::kBFloat16 : x.scalar_type();
  at::Tensor xt = buffer({x.size(1), x.size(0)}, x.options().dtype(dtype));
  xt.copy_(x.t());  // (I, N), transposed and rounded in one pass
  at::Tensor d = dy.to(dtype);
  if (bf16 && !ops.bf16) return at::mm(d.t().to(at::kFloat), xt.t().to(at::kFloat));
  if (!ops.onednn(xt, d.t())) return at::mm(d.t(), xt.t()).to(bf16 ? at::kFloat : dy.scalar_type());
  at::Tensor out = ops.run(xt, d.t());  // (I, O)
  at::Tensor result = at::empty({out.size(1), out.size(0)}, out.options().dtype(bf16 ? at::kFloat : dy.scalar_type()));
  return result.copy_(out.t());
}

}  // namespace lstmkit
