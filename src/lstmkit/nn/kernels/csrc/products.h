// The matrix products: per-step products through oneDNN's brgemm micro-kernel (`RightMat`), the input products
// over all steps in row blocks (`rows_times`), and the weight gradients over all steps (`weight_grad`).
//
// Shapes: a per-step product C (M, N) (+)= A (M, K) @ B (K, N), all row-major, M a block of rows of the batch:
// h_rec (M, P) @ W_hh^T (P, G*H) and m (M, H) @ W_hr^T (H, P) forward, d_preact (M, G*H) @ W_hh (G*H, P) and
// d_h_new (M, P) @ W_hr (P, H) backward.
// The micro-kernel (at::native::cpublas::brgemm: JIT code cached per shape, no per-call allocation or dispatch)
// runs at 2-2.5x the speed of at::mm on a 2-core AVX-512 CPU, whose MKL takes a generic path there. In bf16 mode
// A is rounded to bf16 and B is a VNNI-packed bf16 copy (fp32 accumulation), where the CPU has bf16 dot
// products (AVX512-BF16 or AMX). Without the micro-kernel (older torch, other CPUs, fp64): at::mm on views of
// the same memory.
#pragma once

#include "block_cache.h"
#include "lstm_fused.h"

#include <ATen/core/Tensor.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/native/CPUBlas.h>
#include <ATen/ops/mm.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace lstmkit {

// brgemm_f32, brgemm_bf16, onednn_bf16, rows_times and weight_grad are declared in lstm_fused.h (bindings.cpp
// exposes them) and defined in products.cpp.

// The right-hand matrix B (K, N) of a per-step product, kept for the whole layer call. For the micro-kernel it
// is stored in column blocks of kBlock: block j holds columns [j*kBlock, j*kBlock + w) as its own row-major
// (K, w) matrix (bf16: VNNI2, (Kp/2, w, 2)), so each block streams from contiguous memory whatever N is (with
// a row stride of N, large K made the micro-kernel 1.9x slower).
constexpr int64_t kBlock = 128;

template <typename scalar_t>
struct RightMat {
  at::Tensor dense;   // (K, N), any strides, scalar_t: the at::mm fallback and the source of the blocks
  at::Tensor blocks;  // the micro-kernel's copy (flat), undefined where at::mm runs
  bool vnni = false;
  int64_t K = 0, N = 0, Kp = 0;  // Kp: K rounded up to even in bf16 mode

  RightMat() = default;
  // detached: the at::mm fallback may run on a worker thread, where grad mode is on
  RightMat(const at::Tensor& b, bool bf16) : dense(b.detach()), K(b.size(0)), N(b.size(1)), Kp(K) {
    if (!std::is_same_v<scalar_t, float>) return;
    if (bf16) {
      vnni = true;
      Kp = (K + 1) / 2 * 2;
    } else if (!brgemm_f32()) {
      return;
    }
    at::Tensor source = dense;
    if (vnni) {
      source = buffer({Kp, N}, dense.options().dtype(at::kBFloat16)).zero_();
      source.narrow(0, 0, K).copy_(dense);
    }
    blocks = buffer({Kp * N}, source.options());
    for (int64_t n0 = 0; n0 < N; n0 += kBlock) {
      const int64_t w = std::min(kBlock, N - n0);
      at::Tensor block = blocks.narrow(0, n0 * Kp, Kp * w);
      at::Tensor columns = source.narrow(1, n0, w);  // (Kp, w)
      if (vnni) block.view({Kp / 2, w, 2}).copy_(columns.reshape({Kp / 2, 2, w}).transpose(1, 2));
      else block.view({Kp, w}).copy_(columns);
    }
  }

  // C[0:M) (ldc) = (add ? C : 0) + A[0:M) (lda) @ B; a_bf16: scratch of M * Kp bf16 (bf16 mode only)
  void mul(int64_t M, const scalar_t* A, int64_t lda, scalar_t* C, int64_t ldc, bool add, at::BFloat16* a_bf16) const {
    if (M == 0) return;
    if constexpr (std::is_same_v<scalar_t, float>) {
      if (blocks.defined()) {
#ifdef CPUBLAS_BRGEMM_BF16BF16F32
        if (vnni) {
          for (int64_t r = 0; r < M; ++r) {
            at::BFloat16* row = a_bf16 + r * Kp;
            at::vec::convert(A + r * lda, row, K);
            if (Kp > K) row[K] = at::BFloat16(0.0f);
          }
          const at::BFloat16* packed = blocks.const_data_ptr<at::BFloat16>();
          for (int64_t n0 = 0; n0 < N; n0 += kBlock) {
            const int64_t w = std::min(kBlock, N - n0);
            at::native::cpublas::brgemm(M, w, Kp, Kp, w, ldc, add, a_bf16, packed + n0 * Kp, C + n0, true);
          }
          return;
        }
#endif
#ifdef CPUBLAS_BRGEMM_F32F32F32
        const float* packed = blocks.const_data_ptr<float>();
        for (int64_t n0 = 0; n0 < N; n0 += kBlock) {
          const int64_t w = std::min(kBlock, N - n0);
          at::native::cpublas::brgemm(M, w, K, lda, w, ldc, add, A, packed + n0 * K, C + n0, false);
        }
        return;
#endif
      }
    }
    auto options = dense.options();
    at::Tensor a = at::from_blob(const_cast<scalar_t*>(A), {M, K}, {lda, 1}, options);
    at::Tensor c = at::from_blob(C, {M, N}, {ldc, 1}, options);
    if (add) c.addmm_(a, dense);
    else at::mm_out(c, a, dense);
  }
};

// Release the AMX tile state a bf16 micro-kernel may have configured on this thread.
inline void release_tiles(bool bf16) {
#ifdef CPUBLAS_BRGEMM_BF16BF16F32
  if (bf16) at::native::cpublas::brgemm_release(true);
#endif
}

}  // namespace lstmkit
