// Fused CPU kernel for one LSTM layer in one direction.
//
// Shapes: T steps, B rows, G gates (3 with cifg, else 4), H hidden units, P = size of h (proj_size, else H).
// Forward, per step, one task per block of rows: the bias (with layernorm, the input layer norm of x W_ih^T)
// added to the step's x W_ih^T; the recurrent product h_rec (B,P) x W_hh^T (P,G*H) (with layernorm normalised
// per row over its G*H columns and scaled by ln_gain_hh); one fused, vectorised pointwise pass over (B, G*H)
// (with layernorm it also normalises c_t per row over H, then gain/bias, before the output tanh); with a
// projection the product m (B,H) x W_hr^T (H,P) into h and a pass for zoneout/lengths on the P units.
// Backward: hand-derived BPTT, per step and row block: (projection) dm = dh_new @ W_hr; one fused pointwise
// pass (with the cell layer-norm backward); (layernorm) both layer norms' backward; one product with W_hh. The
// bias, peephole and layer-norm gradients are summed per thread in that pass; dW_hh and dW_hr follow as large
// oneDNN products over all steps. Layer-norm backward of a row: dx = rstd * (dy*g - mean(dy*g) - xhat *
// mean(dy*g*xhat)).
// Per-step products go through oneDNN's brgemm micro-kernel (`RightMat`), the input products x W_ih^T and
// their dx through it in row blocks (`rows_times`); fp64, and CPUs or torch builds without it, use at::mm.
//
// Variants: peephole, cifg, projection, layernorm; zoneout on h and c, variational mask on h, per-sequence
// lengths. Absent optional tensors are passed as empty tensors (numel() == 0).
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>
#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/native/CPUBlas.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <cmath>
#include <type_traits>
#include <vector>

using at::Tensor;
using at::vec::Vectorized;

namespace {

template <typename scalar_t>
inline Vectorized<scalar_t> ld(const scalar_t* p, int64_t n) {
  return n == Vectorized<scalar_t>::size() ? Vectorized<scalar_t>::loadu(p) : Vectorized<scalar_t>::loadu(p, n);
}
template <typename scalar_t>
inline void st(const Vectorized<scalar_t>& v, scalar_t* p, int64_t n) {
  if (n == Vectorized<scalar_t>::size()) v.store(p); else v.store(p, n);
}
template <typename scalar_t>
inline Vectorized<scalar_t> sigm(const Vectorized<scalar_t>& x) {
  const Vectorized<scalar_t> one(scalar_t(1));
  return one / (one + x.neg().exp());
}

inline const void* opt_ptr(const Tensor& t) { return t.numel() ? t.data_ptr() : nullptr; }


constexpr double kLnEps = 1e-5;  // as torch.nn.LayerNorm

// oneDNN's inner product (mkldnn::_linear_pointwise), found through the dispatcher where torch has it; the
// weight gradients over all steps go through it (`weight_grad`).
struct Linear {
  c10::optional<c10::OperatorHandle> unary;
  Linear() {
    try {
      if (!at::hasMKLDNN()) return;
      auto u = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
      if (u) unary = *u;
    } catch (...) {
      unary.reset();
    }
  }
  // X (M, K) @ W^T for W (N, K): through oneDNN in fp32 or bf16 from about 4M multiply-adds (below that at::mm
  // is as fast), when torch has it and it is enabled
  bool onednn(const Tensor& x, const Tensor& w) const {
    return unary.has_value() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) &&
           x.size(0) * w.size(0) * w.size(1) >= (int64_t(1) << 22) && at::globalContext().userEnabledMkldnn();
  }
};

const Linear& linear_ops() {
  static Linear ops;
  return ops;
}

// Sum of x[0:n), vectorised.
template <typename scalar_t>
scalar_t row_sum(const scalar_t* x, int64_t n) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  V acc(scalar_t(0));
  int64_t j = 0;
  for (; j + W <= n; j += W) acc = acc + V::loadu(x + j);
  scalar_t buf[W];
  acc.store(buf);
  scalar_t s = 0;
  for (int64_t k = 0; k < W; ++k) s += buf[k];
  for (; j < n; ++j) s += x[j];
  return s;
}

// Layer norm of one row x[0:n) without gain: returns the mean and rstd = 1/sqrt(var + eps), biased variance.
template <typename scalar_t>
void row_moments(const scalar_t* x, int64_t n, scalar_t& mean, scalar_t& rstd) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  mean = row_sum(x, n) / scalar_t(n);
  const V m(mean);
  V acc(scalar_t(0));
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V d = V::loadu(x + j) - m;
    acc = acc + d * d;
  }
  scalar_t buf[W];
  acc.store(buf);
  scalar_t var = 0;
  for (int64_t k = 0; k < W; ++k) var += buf[k];
  for (; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= scalar_t(n);
  rstd = scalar_t(1) / std::sqrt(var + scalar_t(kLnEps));
}

// Recurrent layer norm, forward, rows [b0, b1): xr (B, GH) holds rec = h W_hh^T on entry and xhat on exit;
// gt (B, GH) = pre_x + xhat * g_hh; rstd (B).
template <typename scalar_t>
void ln_rec_fwd_rows(int64_t b0, int64_t b1, int64_t GH, const scalar_t* pre, scalar_t* xr, const scalar_t* g,
                     scalar_t* rstd, scalar_t* gt) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  for (int64_t b = b0; b < b1; ++b) {
    scalar_t* x = xr + b * GH;
    scalar_t mean, rs;
    row_moments(x, GH, mean, rs);
    rstd[b] = rs;
    const V m(mean), r(rs);
    for (int64_t j = 0; j < GH; j += W) {
      const int64_t n = std::min<int64_t>(W, GH - j);
      V xh = (ld(x + j, n) - m) * r;
      st(xh, x + j, n);
      st(ld(pre + b * GH + j, n) + xh * ld(g + j, n), gt + b * GH + j, n);
    }
  }
}

// Input layer norm, forward, rows [b0, b1): raw (B, GH) = x W_ih^T of this step; its row-wise normalisation
// xhat = (raw - mean) * rstd, with mean and rstd (B) kept for the backward to recompute xhat from raw;
// gt (B, GH) = xhat * g_ih + bias (bias may be null).
template <typename scalar_t>
void ln_in_fwd_rows(int64_t b0, int64_t b1, int64_t GH, const scalar_t* raw, const scalar_t* g, const scalar_t* bias,
                    scalar_t* means, scalar_t* rstd, scalar_t* gt) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* x = raw + b * GH;
    scalar_t mean, rs;
    row_moments(x, GH, mean, rs);
    means[b] = mean;
    rstd[b] = rs;
    const V m(mean), r(rs);
    for (int64_t j = 0; j < GH; j += W) {
      const int64_t n = std::min<int64_t>(W, GH - j);
      V xh = (ld(x + j, n) - m) * r;
      V y = xh * ld(g + j, n);
      if (bias) y = y + ld(bias + j, n);
      st(y, gt + b * GH + j, n);
    }
  }
}

// Layer-norm backward of one row: dx = rstd * (dy*g - mean(dy*g) - xhat * mean(dy*g*xhat)); dy, xhat, dx (n).
template <typename scalar_t>
void ln_bwd_row(int64_t n_, const scalar_t* dy, const scalar_t* xhat, const scalar_t* g, scalar_t rstd, scalar_t* dx) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  V a1(scalar_t(0)), a2(scalar_t(0));
  for (int64_t j = 0; j < n_; j += W) {
    const int64_t n = std::min<int64_t>(W, n_ - j);  // partial loads fill with zeros
    V dyg = ld(dy + j, n) * ld(g + j, n);
    a1 = a1 + dyg;
    a2 = a2 + dyg * ld(xhat + j, n);
  }
  scalar_t b1[W], b2[W];
  a1.store(b1);
  a2.store(b2);
  scalar_t s1 = 0, s2 = 0;
  for (int64_t k = 0; k < W; ++k) { s1 += b1[k]; s2 += b2[k]; }
  const V m1(s1 / scalar_t(n_)), m2(s2 / scalar_t(n_)), r(rstd);
  for (int64_t j = 0; j < n_; j += W) {
    const int64_t n = std::min<int64_t>(W, n_ - j);
    st(r * (ld(dy + j, n) * ld(g + j, n) - m1 - ld(xhat + j, n) * m2), dx + j, n);
  }
}

// acc[0:n) += a[0:n) * b[0:n) (b null: += a)
template <typename scalar_t>
void acc_rows(scalar_t* acc, const scalar_t* a, const scalar_t* b, int64_t n) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  for (int64_t j = 0; j < n; j += W) {
    const int64_t k = std::min<int64_t>(W, n - j);
    V v = b ? ld(a + j, k) * ld(b + j, k) : ld(a + j, k);
    st(ld(acc + j, k) + v, acc + j, k);
  }
}

// Both gate layer norms' backward for one row, in two passes over its G*H columns: dy = dL/d(gate
// pre-activations); the recurrent norm's xhat_h (saved), gain g_h and rstd r_h give drec; the input norm's
// rows are recomputed from raw = x W_ih^T with its mean m_i and rstd r_i, and with gain g_i give dpx. The
// first pass also adds dy * xhat to the gains' gradient sums (acc_gh, acc_gi) and dy to the bias's (acc_b, or
// null).
template <typename scalar_t>
void ln_pair_bwd_row(int64_t n_, const scalar_t* dy, const scalar_t* xh, const scalar_t* g_h, scalar_t r_h,
                     const scalar_t* raw, scalar_t m_i, scalar_t r_i, const scalar_t* g_i, scalar_t* drec,
                     scalar_t* dpx, scalar_t* acc_gh, scalar_t* acc_gi, scalar_t* acc_b) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  const V mi(m_i), ri(r_i);
  V a1h(scalar_t(0)), a2h(scalar_t(0)), a1i(scalar_t(0)), a2i(scalar_t(0));
  for (int64_t j = 0; j < n_; j += W) {
    const int64_t n = std::min<int64_t>(W, n_ - j);  // partial loads fill with zeros, which add nothing
    const V d = ld(dy + j, n), x_h = ld(xh + j, n), x_i = (ld(raw + j, n) - mi) * ri;
    const V dh = d * ld(g_h + j, n), di = d * ld(g_i + j, n);
    a1h = a1h + dh;
    a2h = a2h + dh * x_h;
    a1i = a1i + di;
    a2i = a2i + di * x_i;
    st(ld(acc_gh + j, n) + d * x_h, acc_gh + j, n);
    st(ld(acc_gi + j, n) + d * x_i, acc_gi + j, n);
    if (acc_b) st(ld(acc_b + j, n) + d, acc_b + j, n);
  }
  scalar_t s[4][W];
  a1h.store(s[0]);
  a2h.store(s[1]);
  a1i.store(s[2]);
  a2i.store(s[3]);
  scalar_t t[4] = {0, 0, 0, 0};
  for (int q = 0; q < 4; ++q)
    for (int64_t k = 0; k < W; ++k) t[q] += s[q][k];
  const V m1h(t[0] / scalar_t(n_)), m2h(t[1] / scalar_t(n_)), m1i(t[2] / scalar_t(n_)), m2i(t[3] / scalar_t(n_));
  const V rh(r_h);
  for (int64_t j = 0; j < n_; j += W) {
    const int64_t n = std::min<int64_t>(W, n_ - j);
    const V d = ld(dy + j, n), x_i = (ld(raw + j, n) - mi) * ri;
    st(rh * (d * ld(g_h + j, n) - m1h - ld(xh + j, n) * m2h), drec + j, n);
    st(ri * (d * ld(g_i + j, n) - m1i - x_i * m2i), dpx + j, n);
  }
}

// The gate blocks of a row of pre-activations: G blocks of H columns, in torch's order i, f, g, o; cifg has
// no input-gate block (f, g, o).
template <bool CIFG>
struct GateBlocks {
  static constexpr int64_t G = CIFG ? 3 : 4, oi = 0, of = CIFG ? 0 : 1, og = CIFG ? 1 : 2, oo = CIFG ? 2 : 3;
};

// Optional per-step tensors of the cell layer norm (all null without layernorm).
template <typename scalar_t>
struct CellLN {
  const scalar_t* gain = nullptr;  // (H) ln_gain_c
  const scalar_t* bias = nullptr;  // (H) ln_bias_c
  scalar_t* chat = nullptr;        // (B, H) normalised c_new of this step
  scalar_t* rstd = nullptr;        // (B)
  scalar_t* scratch = nullptr;     // (B, H) backward only: dL/dc_new through the layer norm
};

// ---------------------------------------------------------------------------------------------
// Forward pointwise pass for rows [b0, b1) of step t.
// Without projection it writes h (after zoneout) to hnext and out; with projection (m != null) it writes
// m = o * tanh(c_out) (B, H) and leaves h to `fwd_h_rows` after the product with W_hr.
template <typename scalar_t, bool PEEP, bool CIFG>
void fwd_rows(int64_t b0, int64_t b1, int64_t H,
              const scalar_t* pre,        // (B, G*H): pre_x[t] + h_rec @ W_hh^T (or its layer norm)
              const scalar_t* hprev, const scalar_t* cprev,   // (B, H)
              const scalar_t* wci, const scalar_t* wcf, const scalar_t* wco,
              const scalar_t* zh, const scalar_t* zc,         // (B, H) or null
              const scalar_t* valid,                          // (B) or null
              CellLN<scalar_t> ln,
              scalar_t* gates, scalar_t* hnext, scalar_t* cnext, scalar_t* cnew, scalar_t* tanhc, scalar_t* out,
              scalar_t* m) {
  using V = Vectorized<scalar_t>;
  using Blocks = GateBlocks<CIFG>;
  constexpr int64_t G = Blocks::G, oi = Blocks::oi, of = Blocks::of, og = Blocks::og, oo = Blocks::oo;
  constexpr int64_t W = V::size();
  const V one(scalar_t(1)), zero(scalar_t(0));
  const bool lnc = ln.gain != nullptr;
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* p = pre + b * G * H;
    const scalar_t* cp = cprev + b * H;
    scalar_t* gt = gates + b * G * H;
    scalar_t* cn_ = cnext + b * H;
    scalar_t* cw = cnew + b * H;
    scalar_t* tc_ = tanhc + b * H;
    if (valid && valid[b] == scalar_t(0)) {  // past this sequence's length: state frozen, output zero
      if (m) {
        std::fill(m + b * H, m + (b + 1) * H, scalar_t(0));
      } else {
        std::copy(hprev + b * H, hprev + (b + 1) * H, hnext + b * H);
        std::fill(out + b * H, out + (b + 1) * H, scalar_t(0));
      }
      std::copy(cp, cp + H, cn_);
      std::fill(gt, gt + G * H, scalar_t(0));
      std::fill(cw, cw + H, scalar_t(0));
      std::fill(tc_, tc_ + H, scalar_t(0));
      if (lnc) {
        std::fill(ln.chat + b * H, ln.chat + (b + 1) * H, scalar_t(0));
        ln.rstd[b] = scalar_t(0);
      }
      continue;
    }
    const scalar_t* zhb = zh ? zh + b * H : nullptr;
    const scalar_t* zcb = zc ? zc + b * H : nullptr;
    // h from o and the tanh argument (c_new, or its layer norm): h, or m with a projection
    auto finish = [&](int64_t j, int64_t n, const V& o, const V& carg) {
      V tc = carg.tanh();
      V hn = o * tc;
      st(tc, tc_ + j, n);
      if (m) {
        st(hn, m + b * H + j, n);
        return;
      }
      V hz = hn;
      if (zhb) hz = V::blendv(hn, ld(hprev + b * H + j, n), ld(zhb + j, n) != zero);
      st(hz, hnext + b * H + j, n);
      st(hz, out + b * H + j, n);
    };
    for (int64_t j = 0; j < H; j += W) {
      const int64_t n = std::min<int64_t>(W, H - j);
      V c0 = ld(cp + j, n);
      V f_pre = ld(p + of * H + j, n);
      V g_pre = ld(p + og * H + j, n);
      V o_pre = ld(p + oo * H + j, n);
      if (PEEP) f_pre = f_pre + ld(wcf + j, n) * c0;
      V f = sigm(f_pre);
      V i;
      if (CIFG) {
        i = one - f;
      } else {
        V i_pre = ld(p + oi * H + j, n);
        if (PEEP) i_pre = i_pre + ld(wci + j, n) * c0;
        i = sigm(i_pre);
        st(i, gt + oi * H + j, n);
      }
      V g = g_pre.tanh();
      V cn = f * c0 + i * g;
      if (PEEP) o_pre = o_pre + ld(wco + j, n) * cn;
      V o = sigm(o_pre);
      st(f, gt + of * H + j, n);
      st(g, gt + og * H + j, n);
      st(o, gt + oo * H + j, n);
      st(cn, cw + j, n);
      V cz = cn;
      if (zcb) cz = V::blendv(cn, c0, ld(zcb + j, n) != zero);
      st(cz, cn_ + j, n);
      if (!lnc) finish(j, n, o, cn);
    }
    if (lnc) {  // c_out = LN(c_new) * gain_c + bias_c over the row's H units, then h from tanh(c_out)
      scalar_t mean, rs;
      row_moments(cw, H, mean, rs);
      ln.rstd[b] = rs;
      const V mu(mean), r(rs);
      scalar_t* ch = ln.chat + b * H;
      for (int64_t j = 0; j < H; j += W) {
        const int64_t n = std::min<int64_t>(W, H - j);
        V xh = (ld(cw + j, n) - mu) * r;
        st(xh, ch + j, n);
        finish(j, n, ld(gt + oo * H + j, n), xh * ld(ln.gain + j, n) + ld(ln.bias + j, n));
      }
    }
  }
}

// Forward, projection only: h_new = hraw (B, P) = m @ W_hr^T, then zoneout and lengths on the P units.
template <typename scalar_t>
void fwd_h_rows(int64_t b0, int64_t b1, int64_t P, const scalar_t* hraw, const scalar_t* hprev,
                const scalar_t* zh, const scalar_t* valid, scalar_t* hnext, scalar_t* out) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  const V zero(scalar_t(0));
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* hp = hprev + b * P;
    if (valid && valid[b] == scalar_t(0)) {
      std::copy(hp, hp + P, hnext + b * P);
      std::fill(out + b * P, out + (b + 1) * P, scalar_t(0));
      continue;
    }
    for (int64_t j = 0; j < P; j += W) {
      const int64_t n = std::min<int64_t>(W, P - j);
      V hz = ld(hraw + b * P + j, n);
      if (zh) hz = V::blendv(hz, ld(hp + j, n), ld(zh + b * P + j, n) != zero);
      st(hz, hnext + b * P + j, n);
      st(hz, out + b * P + j, n);
    }
  }
}

// Backward, projection only, rows [b0, b1) of step t, on the P units: dh (B, P) holds dL/dh_t on entry and
// the zoneout part of dL/dh_{t-1} on exit; dhn (B, P) = dL/dh_new (pre-zoneout), zero past the length.
template <typename scalar_t>
void bwd_h_rows(int64_t b0, int64_t b1, int64_t P, const scalar_t* dout, const scalar_t* zh, const scalar_t* valid,
                scalar_t* dh, scalar_t* dhn) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  const V zero(scalar_t(0));
  for (int64_t b = b0; b < b1; ++b) {
    if (valid && valid[b] == scalar_t(0)) {  // frozen: dh passes through unchanged
      std::fill(dhn + b * P, dhn + (b + 1) * P, scalar_t(0));
      continue;
    }
    for (int64_t j = 0; j < P; j += W) {
      const int64_t n = std::min<int64_t>(W, P - j);
      V dhz = ld(dh + b * P + j, n);
      if (dout) dhz = dhz + ld(dout + b * P + j, n);
      V dprev = zero, dnew = dhz;
      if (zh) {
        V msk = ld(zh + b * P + j, n) != zero;
        dprev = V::blendv(zero, dhz, msk);
        dnew = V::blendv(dhz, zero, msk);
      }
      st(dprev, dh + b * P + j, n);
      st(dnew, dhn + b * P + j, n);
    }
  }
}

// Backward pointwise pass for rows [b0, b1) of step t. dhin (B, H) holds dL/dh_t (no projection: also
// dout and zoneout apply) or dL/dm_t (projection: dout = zh = null); dc (B, H) holds dL/dc_t on entry and the
// direct part of dL/dc_{t-1} on exit. dhout (B, H), null with a projection, gets the direct (zoneout) part of
// dL/dh_{t-1}; it may alias dhin. With the cell layer norm, dcout (B, H) gets dL/dc_out (zero past the length).
template <typename scalar_t, bool PEEP, bool CIFG>
void bwd_rows(int64_t b0, int64_t b1, int64_t H,
              const scalar_t* dout,                           // (B, H) or null
              const scalar_t* gates, const scalar_t* cprev, const scalar_t* tanhc,
              const scalar_t* wci, const scalar_t* wcf, const scalar_t* wco,
              const scalar_t* zh, const scalar_t* zc, const scalar_t* valid,
              CellLN<scalar_t> ln, scalar_t* dcout,
              const scalar_t* dhin, scalar_t* dhout, scalar_t* dc, scalar_t* dpre) {
  using V = Vectorized<scalar_t>;
  using Blocks = GateBlocks<CIFG>;
  constexpr int64_t G = Blocks::G, oi = Blocks::oi, of = Blocks::of, og = Blocks::og, oo = Blocks::oo;
  constexpr int64_t W = V::size();
  const V one(scalar_t(1)), zero(scalar_t(0));
  const bool lnc = ln.gain != nullptr;
  for (int64_t b = b0; b < b1; ++b) {
    scalar_t* dp = dpre + b * G * H;
    if (valid && valid[b] == scalar_t(0)) {  // frozen step: gradients pass straight through
      std::fill(dp, dp + G * H, scalar_t(0));
      if (lnc) std::fill(dcout + b * H, dcout + (b + 1) * H, scalar_t(0));
      continue;
    }
    const scalar_t* gt = gates + b * G * H;
    const scalar_t* cp = cprev + b * H;
    const scalar_t* tcb = tanhc + b * H;
    const scalar_t* dob = dout ? dout + b * H : nullptr;
    const scalar_t* zhb = zh ? zh + b * H : nullptr;
    const scalar_t* zcb = zc ? zc + b * H : nullptr;
    const scalar_t* dhb = dhin + b * H;
    scalar_t* dcb = dc + b * H;
    // dL/dh_new (pre-zoneout) and the zoneout part of dL/dh_{t-1}
    auto split_dh = [&](int64_t j, int64_t n, V& dh_prev, V& dhn) {
      V dhz = ld(dhb + j, n);
      if (dob) dhz = dhz + ld(dob + j, n);
      dh_prev = zero;
      dhn = dhz;
      if (zhb) {
        V msk = ld(zhb + j, n) != zero;
        dh_prev = V::blendv(zero, dhz, msk);
        dhn = V::blendv(dhz, zero, msk);
      }
    };
    if (lnc) {  // dL/dc_out, then dL/dc_new through the layer norm into dcout's row (read back below)
      scalar_t* dco = dcout + b * H;
      for (int64_t j = 0; j < H; j += W) {
        const int64_t n = std::min<int64_t>(W, H - j);
        V dh_prev, dhn;
        split_dh(j, n, dh_prev, dhn);
        V tc = ld(tcb + j, n);
        st(dhn * ld(gt + oo * H + j, n) * (one - tc * tc), dco + j, n);
      }
    }
    scalar_t* dcln = lnc ? ln.scratch + b * H : nullptr;  // dL/dc_new through the layer norm
    if (lnc) ln_bwd_row(H, dcout + b * H, ln.chat + b * H, ln.gain, ln.rstd[b], dcln);
    for (int64_t j = 0; j < H; j += W) {
      const int64_t n = std::min<int64_t>(W, H - j);
      V dh_prev, dhn;
      split_dh(j, n, dh_prev, dhn);
      V dcz = ld(dcb + j, n);
      V dc_prev = zero, dcn = dcz;
      if (zcb) {
        V msk = ld(zcb + j, n) != zero;
        dc_prev = V::blendv(zero, dcz, msk);
        dcn = V::blendv(dcz, zero, msk);
      }
      V c0 = ld(cp + j, n);
      V f = ld(gt + of * H + j, n);
      V g = ld(gt + og * H + j, n);
      V o = ld(gt + oo * H + j, n);
      V i = CIFG ? one - f : ld(gt + oi * H + j, n);
      V tc = ld(tcb + j, n);
      V d_o = dhn * tc;
      if (lnc) dcn = dcn + ld(dcln + j, n);
      else dcn = dcn + dhn * o * (one - tc * tc);
      V do_pre = d_o * o * (one - o);
      if (PEEP) dcn = dcn + do_pre * ld(wco + j, n);
      V di = dcn * g;
      V dg = dcn * i;
      V df = dcn * c0;
      dc_prev = dc_prev + dcn * f;
      if (CIFG) df = df - di;
      V dg_pre = dg * (one - g * g);
      V df_pre = df * f * (one - f);
      if (!CIFG) {
        V di_pre = di * i * (one - i);
        if (PEEP) dc_prev = dc_prev + di_pre * ld(wci + j, n);
        st(di_pre, dp + oi * H + j, n);
      }
      if (PEEP) dc_prev = dc_prev + df_pre * ld(wcf + j, n);
      st(df_pre, dp + of * H + j, n);
      st(dg_pre, dp + og * H + j, n);
      st(do_pre, dp + oo * H + j, n);
      if (dhout) st(dh_prev, dhout + b * H + j, n);
      st(dc_prev, dcb + j, n);
    }
  }
}


// ---------------------------------------------------------------------------------------------
// The kernel's large buffers (per-step states, gates, their gradients: several (T, B, 4H) arrays a call) come
// from a cache of freed blocks, keyed by exact size. Fresh from the system allocator each call, every page of
// them faulted in anew: at (T, B, I, H) = (100, 32, 64, 128) with layer norm that was ~10k page faults and
// over half the time of a training step. Training repeats the same shapes, so blocks are reused as they are;
// the cache holds at most kCacheBytes and is emptied when a block does not fit, so a change of shapes does not
// strand memory.
class BlockCache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    void* p = nullptr;
    if (posix_memalign(&p, 64, bytes) != 0) throw std::bad_alloc();
    return p;
  }
  void give(void* p, size_t bytes) {
    std::vector<void*> drop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + bytes > kCacheBytes) {  // full: let everything cached go, keep the newest
        for (auto& [size, blocks] : free_) drop.insert(drop.end(), blocks.begin(), blocks.end());
        free_.clear();
        cached_ = 0;
      }
      if (bytes <= kCacheBytes) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        p = nullptr;
      }
    }
    for (void* q : drop) std::free(q);
    std::free(p);
  }

 private:
  static constexpr size_t kCacheBytes = size_t(1) << 30;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: tensors may be freed after static destructors
  return *cache;
}

// at::empty, with blocks from 64 KiB up taken from (and returned to) the cache
Tensor buffer(at::IntArrayRef sizes, const at::TensorOptions& opts) {
  const size_t bytes =
      size_t(c10::multiply_integers(sizes)) * c10::elementSize(c10::typeMetaToScalarType(opts.dtype()));
  if (bytes < (size_t(1) << 16)) return at::empty(sizes, opts);
  void* p = block_cache().take(bytes);
  return at::from_blob(p, sizes, [bytes](void* q) { block_cache().give(q, bytes); }, opts);
}

// ---------------------------------------------------------------------------------------------
// Per-step products C (M, N) (+)= A (M, K) @ B (K, N), all row-major, through oneDNN's brgemm micro-kernel
// (at::native::cpublas::brgemm: JIT code cached per shape, no per-call allocation or dispatch; 2-2.5x the speed
// of at::mm here, whose MKL takes a generic path on this CPU). In bf16 mode A is rounded to bf16 and B is a
// VNNI-packed bf16 copy (fp32 accumulation). Without the micro-kernel (older torch, other CPUs, fp64):
// at::mm on views of the same memory.

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

// The right-hand matrix B (K, N) of a per-step product, kept for the whole layer call. For the micro-kernel it
// is stored in column blocks of kBlock: block j holds columns [j*kBlock, j*kBlock + w) as its own row-major
// (K, w) matrix (bf16: VNNI2, (Kp/2, w, 2)), so each block streams from contiguous memory whatever N is (with
// a row stride of N, large K made the micro-kernel 1.9x slower).
constexpr int64_t kBlock = 128;

template <typename scalar_t>
struct RightMat {
  Tensor dense;   // (K, N), any strides, scalar_t: the at::mm fallback and the source of the blocks
  Tensor blocks;  // the micro-kernel's copy (flat), undefined where at::mm runs
  bool vnni = false;
  int64_t K = 0, N = 0, Kp = 0;  // Kp: K rounded up to even in bf16 mode

  RightMat() = default;
  // detached: the at::mm fallback may run on a worker thread, where grad mode is on
  RightMat(const Tensor& b, bool bf16) : dense(b.detach()), K(b.size(0)), N(b.size(1)), Kp(K) {
    if (!std::is_same_v<scalar_t, float>) return;
    if (bf16) {
      vnni = true;
      Kp = (K + 1) / 2 * 2;
    } else if (!brgemm_f32()) {
      return;
    }
    Tensor src = dense;
    if (vnni) {
      src = buffer({Kp, N}, dense.options().dtype(at::kBFloat16)).zero_();
      src.narrow(0, 0, K).copy_(dense);
    }
    blocks = buffer({Kp * N}, src.options());
    for (int64_t n0 = 0; n0 < N; n0 += kBlock) {
      const int64_t w = std::min(kBlock, N - n0);
      Tensor part = blocks.narrow(0, n0 * Kp, Kp * w);
      Tensor cols = src.narrow(1, n0, w);  // (Kp, w)
      if (vnni) part.view({Kp / 2, w, 2}).copy_(cols.reshape({Kp / 2, 2, w}).transpose(1, 2));
      else part.view({Kp, w}).copy_(cols);
    }
  }

  // C[0:M) (ldc) = (add ? C : 0) + A[0:M) (lda) @ B; abf: scratch of M * Kp bf16 (bf16 mode only)
  void mul(int64_t M, const scalar_t* A, int64_t lda, scalar_t* C, int64_t ldc, bool add, at::BFloat16* abf) const {
    if (M == 0) return;
    if constexpr (std::is_same_v<scalar_t, float>) {
      if (blocks.defined()) {
#ifdef CPUBLAS_BRGEMM_BF16BF16F32
        if (vnni) {
          for (int64_t i = 0; i < M; ++i) {
            at::BFloat16* row = abf + i * Kp;
            at::vec::convert(A + i * lda, row, K);
            if (Kp > K) row[K] = at::BFloat16(0.0f);
          }
          const at::BFloat16* bp = blocks.const_data_ptr<at::BFloat16>();
          for (int64_t n0 = 0; n0 < N; n0 += kBlock) {
            const int64_t w = std::min(kBlock, N - n0);
            at::native::cpublas::brgemm(M, w, Kp, Kp, w, ldc, add, abf, bp + n0 * Kp, C + n0, true);
          }
          return;
        }
#endif
#ifdef CPUBLAS_BRGEMM_F32F32F32
        const float* bp = blocks.const_data_ptr<float>();
        for (int64_t n0 = 0; n0 < N; n0 += kBlock) {
          const int64_t w = std::min(kBlock, N - n0);
          at::native::cpublas::brgemm(M, w, K, lda, w, ldc, add, A, bp + n0 * K, C + n0, false);
        }
        return;
#endif
      }
    }
    auto opts = dense.options();
    Tensor a = at::from_blob(const_cast<scalar_t*>(A), {M, K}, {lda, 1}, opts);
    Tensor c = at::from_blob(C, {M, N}, {ldc, 1}, opts);
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

// X (N, K) @ B for all rows at once, B (K, M) given as its transpose's source `b` (K, M) (any strides): through
// the micro-kernel in row blocks across the threads, into a cached buffer (a fresh (T*B, 4H) output from
// oneDNN was faulted in page by page on every call); bf16: operands rounded to bf16, fp32 result. Elsewhere
// at::mm.
Tensor rows_times(const Tensor& x, const Tensor& b, bool bf16) {
  const int64_t N = x.size(0), K = x.size(1), M = b.size(1);
  bf16 = bf16 && x.scalar_type() == at::kFloat && brgemm_bf16();
  if (x.scalar_type() != at::kFloat || !(bf16 || brgemm_f32())) return at::mm(x, b);
  const RightMat<float> rm(b, bf16);
  const Tensor xc = x.contiguous();
  Tensor out = buffer({N, M}, xc.options());
  constexpr int64_t kRows = 64;
  Tensor abf = buffer({bf16 ? at::get_num_threads() * kRows * rm.Kp : 0}, xc.options().dtype(at::kBFloat16));
  const float* xp = xc.const_data_ptr<float>();
  float* op = out.mutable_data_ptr<float>();
  at::BFloat16* abf_p = bf16 ? abf.mutable_data_ptr<at::BFloat16>() : nullptr;
  at::parallel_for(0, (N + kRows - 1) / kRows, 1, [&](int64_t c0, int64_t c1) {
    at::BFloat16* ab = abf_p ? abf_p + at::get_thread_num() * kRows * rm.Kp : nullptr;
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * kRows, rows = std::min(kRows, N - r0);
      rm.mul(rows, xp + r0 * K, K, op + r0 * M, M, false, ab);
    }
    release_tiles(bf16);
  });
  return out;
}

// dY^T X over all steps: dY (N, O), X (N, I) -> (O, I) in dY's dtype. Through oneDNN as (X^T dY)^T: oneDNN
// takes the transposed view of dY as its weight, and X^T is the smaller copy. bf16: both operands rounded to
// bf16 first (fp32 accumulation), the result in fp32. Elsewhere at::mm.
Tensor weight_grad(const Tensor& dy, const Tensor& x, bool bf16 = false) {
  const Linear& ops = linear_ops();
  const auto dtype = bf16 ? at::kBFloat16 : x.scalar_type();
  Tensor xt = buffer({x.size(1), x.size(0)}, x.options().dtype(dtype));
  xt.copy_(x.t());  // (I, N), transposed and rounded in one pass
  Tensor d = dy.to(dtype);
  if (!ops.onednn(xt, d.t())) return at::mm(d.t(), xt.t()).to(bf16 ? at::kFloat : dy.scalar_type());
  torch::jit::Stack stack = {xt, d.t(), c10::IValue(), c10::IValue(std::string("none")),
                             c10::IValue(c10::List<c10::optional<at::Scalar>>()), c10::IValue()};
  ops.unary->callBoxed(&stack);
  Tensor out = stack.back().toTensor();  // (I, O)
  Tensor result = at::empty({out.size(1), out.size(0)}, out.options().dtype(bf16 ? at::kFloat : dy.scalar_type()));
  return result.copy_(out.t());
}

template <typename F>
void dispatch_flags(bool peep, bool cifg, F&& f) {
  if (peep) {
    if (cifg) f(std::true_type{}, std::true_type{}); else f(std::true_type{}, std::false_type{});
  } else {
    if (cifg) f(std::false_type{}, std::true_type{}); else f(std::false_type{}, std::false_type{});
  }
}

template <typename scalar_t>
const scalar_t* cptr(const Tensor& t) {
  return t.numel() ? t.const_data_ptr<scalar_t>() : nullptr;
}
template <typename scalar_t>
scalar_t* mptr(const Tensor& t) {
  return t.numel() ? t.mutable_data_ptr<scalar_t>() : nullptr;
}

// Rows per task of a step. Measured on 2 cores: splitting every step's rows across the threads pays even at
// (T, B, I, H) = (200, 16, 32, 64), where a layer-norm training step's speed ratio to torch.nn.LSTM is 0.76
// split and 0.61 with each step on one thread; so tasks are as small as 4 rows.
constexpr int64_t kRowGrain = 4;

}  // namespace

// pre_x (T,B,G*H) = x W_ih^T (no bias); bias (G*H) = bias_ih + bias_hh or empty; g_ih (G*H) the input layer-norm
// gain (layernorm) or empty. Shapes: G gates, H hidden units, P = size of h (H without a projection). Optional
// tensors are empty.
// Returns output (T,B,P), h_n (B,P), c_n (B,H), gates (T,B,G*H) post-activation, h_states (T+1,B,P),
// c_states (T+1,B,H), c_new (T,B,H) pre-zoneout, tanh_c (T,B,H) = tanh(c_out);
// projection: m (T,B,H) = o * tanh(c_out); layernorm: xhat_hh (T,B,G*H) normalised h W_hh^T, rstd_hh (T,B),
// chat (T,B,H) normalised c_new, rstd_c (T,B), mean_ih and rstd_ih (T,B) of x W_ih^T's rows.
// (Empty when absent.)
// save = false (forward only, no backward to follow, no gate trace): h_states, c_states hold two slots;
// gates, c_new, tanh_c, m, xhat_hh, rstd_hh, chat, rstd_c, mean_ih, rstd_ih hold only the last step (leading
// size 1) and serve as per-step scratch. bf16 = true (fp32 tensors only): the recurrent products round their
// operands to bf16.
std::vector<Tensor> fused_forward(const Tensor& pre_x, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                                  const Tensor& bias, const Tensor& g_ih, const Tensor& wci, const Tensor& wcf,
                                  const Tensor& wco, const Tensor& w_hr,
                                  const Tensor& g_hh, const Tensor& g_c, const Tensor& b_c, const Tensor& h_mask,
                                  const Tensor& zh, const Tensor& zc, const Tensor& valid, bool peephole,
                                  bool cifg, bool save, bool bf16) {
  TORCH_CHECK(pre_x.dim() == 3 && pre_x.is_contiguous(), "pre_x must be contiguous (T, B, G*H)");
  const int64_t T = pre_x.size(0), B = pre_x.size(1), GH = pre_x.size(2), H = c0.size(1), P = h0.size(1);
  const int64_t G = cifg ? 3 : 4;
  const bool proj = w_hr.numel() > 0, ln = g_hh.numel() > 0;
  TORCH_CHECK(GH == G * H, "pre_x has ", GH, " columns, expected ", G * H);
  TORCH_CHECK(proj || P == H, "h0 has ", P, " columns, expected ", H);
  bf16 = bf16 && pre_x.scalar_type() == at::kFloat && brgemm_bf16();
  auto opts = pre_x.options();
  auto empty = at::empty({0}, opts);
  Tensor output = buffer({T, B, P}, opts);
  Tensor h_states = buffer({save ? T + 1 : 2, B, P}, opts);  // forward only: two slots used in turn
  Tensor c_states = buffer({save ? T + 1 : 2, B, H}, opts);
  const int64_t TS = save ? T : 1;  // steps kept for the backward
  Tensor gates = buffer({TS, B, GH}, opts);
  Tensor c_new = buffer({TS, B, H}, opts);
  Tensor tanh_c = buffer({TS, B, H}, opts);
  Tensor m_all = proj ? buffer({TS, B, H}, opts) : empty;
  Tensor xhat_hh = ln ? buffer({TS, B, GH}, opts) : empty;
  Tensor rstd_hh = ln ? buffer({TS, B}, opts) : empty;
  Tensor chat = ln ? buffer({TS, B, H}, opts) : empty;
  Tensor rstd_c = ln ? buffer({TS, B}, opts) : empty;
  Tensor mean_ih = ln ? buffer({TS, B}, opts) : empty;
  Tensor rstd_ih = ln ? buffer({TS, B}, opts) : empty;
  h_states[0].copy_(h0);
  c_states[0].copy_(c0);
  Tensor hrec = h_mask.numel() ? buffer({B, P}, opts) : empty;  // h * mask, as the product sees it
  Tensor hraw = proj ? buffer({B, P}, opts) : empty;            // m W_hr^T before zoneout/lengths
  const int64_t Kmax = (std::max(P, H) + 1) / 2 * 2;
  Tensor abf = buffer({bf16 ? B * Kmax : 0}, opts.dtype(at::kBFloat16));
  AT_DISPATCH_FLOATING_TYPES(pre_x.scalar_type(), "lstm_fused_forward", [&] {
    const RightMat<scalar_t> whh_t(w_hh.t(), bf16);                           // (P, G*H)
    const RightMat<scalar_t> whr_t = proj ? RightMat<scalar_t>(w_hr.t(), bf16) : RightMat<scalar_t>();  // (H, P)
    const scalar_t *px = pre_x.const_data_ptr<scalar_t>(), *wci_p = cptr<scalar_t>(wci),
                   *wcf_p = cptr<scalar_t>(wcf), *wco_p = cptr<scalar_t>(wco), *hm = cptr<scalar_t>(h_mask),
                   *zh_p = cptr<scalar_t>(zh), *zc_p = cptr<scalar_t>(zc), *valid_p = cptr<scalar_t>(valid),
                   *ghh_p = cptr<scalar_t>(g_hh), *gc_p = cptr<scalar_t>(g_c), *bc_p = cptr<scalar_t>(b_c),
                   *bias_p = cptr<scalar_t>(bias), *gih_p = cptr<scalar_t>(g_ih);
    scalar_t *mis = mptr<scalar_t>(mean_ih), *ris = mptr<scalar_t>(rstd_ih);
    scalar_t *out = output.mutable_data_ptr<scalar_t>(), *hs = h_states.mutable_data_ptr<scalar_t>(),
             *cs = c_states.mutable_data_ptr<scalar_t>(), *gts = gates.mutable_data_ptr<scalar_t>(),
             *cws = c_new.mutable_data_ptr<scalar_t>(), *tcs = tanh_c.mutable_data_ptr<scalar_t>(),
             *ms = mptr<scalar_t>(m_all), *xhs = mptr<scalar_t>(xhat_hh), *rhs = mptr<scalar_t>(rstd_hh),
             *chs = mptr<scalar_t>(chat), *rcs = mptr<scalar_t>(rstd_c), *hrec_p = mptr<scalar_t>(hrec),
             *hraw_p = mptr<scalar_t>(hraw);
    at::BFloat16* abf_p = bf16 ? abf.mutable_data_ptr<at::BFloat16>() : nullptr;
    dispatch_flags(peephole, cifg, [&](auto peep_c, auto cifg_c) {
      constexpr bool PEEP = decltype(peep_c)::value;
      constexpr bool CIFG = decltype(cifg_c)::value;
      for (int64_t t = 0; t < T; ++t) {
        const int64_t ts = save ? t : 0, s0 = save ? t : t % 2, s1 = save ? t + 1 : (t + 1) % 2;
        const scalar_t* h = hs + s0 * B * P;
        const scalar_t* c = cs + s0 * B * H;
        scalar_t* hn = hs + s1 * B * P;
        scalar_t* cn = cs + s1 * B * H;
        scalar_t* gt = gts + ts * B * GH;
        scalar_t* ou = out + t * B * P;
        scalar_t* mt = proj ? ms + ts * B * H : nullptr;
        const scalar_t* pxt = px + t * B * GH;
        const scalar_t* zht = zh_p ? zh_p + t * B * P : nullptr;
        const scalar_t* zct = zc_p ? zc_p + t * B * H : nullptr;
        const scalar_t* vt = valid_p ? valid_p + t * B : nullptr;
        CellLN<scalar_t> cln;
        if (ln) {
          cln.gain = gc_p;
          cln.bias = bc_p;
          cln.chat = chs + ts * B * H;
          cln.rstd = rcs + ts * B;
        }
        // every row of a step is independent: one task does the products and passes for its rows
        at::parallel_for(0, B, kRowGrain, [&](int64_t b0, int64_t b1) {
          const int64_t M = b1 - b0;
          at::BFloat16* ab = abf_p ? abf_p + b0 * Kmax : nullptr;
          const scalar_t* a = h + b0 * P;  // h as the recurrent product sees it
          if (hm) {
            at::vec::map2<scalar_t>([](auto x, auto y) { return x * y; }, hrec_p + b0 * P, h + b0 * P,
                                    hm + b0 * P, M * P);
            a = hrec_p + b0 * P;
          }
          if (ln) {  // gt = LN(x W_ih^T) * g_ih + bias + LN(hr W_hh^T) * g_hh, each LN per row over G*H
            scalar_t* xr = xhs + ts * B * GH;
            whh_t.mul(M, a, P, xr + b0 * GH, GH, false, ab);
            ln_in_fwd_rows<scalar_t>(b0, b1, GH, pxt, gih_p, bias_p, mis + ts * B, ris + ts * B, gt);
            ln_rec_fwd_rows<scalar_t>(b0, b1, GH, gt, xr, ghh_p, rhs + ts * B, gt);
          } else {  // gt = x W_ih^T + bias + hr W_hh^T
            if (bias_p) {
              for (int64_t b = b0; b < b1; ++b)
                at::vec::map2<scalar_t>([](auto x, auto y) { return x + y; }, gt + b * GH, pxt + b * GH, bias_p, GH);
            } else {
              std::copy(pxt + b0 * GH, pxt + b1 * GH, gt + b0 * GH);
            }
            whh_t.mul(M, a, P, gt + b0 * GH, GH, true, ab);
          }
          // the pass reads each row's pre-activations from gt before writing its gates there
          fwd_rows<scalar_t, PEEP, CIFG>(b0, b1, H, gt, h, c, wci_p, wcf_p, wco_p, proj ? nullptr : zht, zct, vt,
                                         cln, gt, hn, cn, cws + ts * B * H, tcs + ts * B * H, ou, mt);
          if (proj) {  // h_new = m_t W_hr^T (B, P), then zoneout/lengths on the P units
            whr_t.mul(M, mt + b0 * H, H, hraw_p + b0 * P, P, false, ab);
            fwd_h_rows<scalar_t>(b0, b1, P, hraw_p, h, zht, vt, hn, ou);
          }
          release_tiles(bf16);
        });
      }
    });
  });
  const int64_t last = save ? T : T % 2;
  Tensor h_n = h_states[last].clone();
  Tensor c_n = c_states[last].clone();
  return {output, h_n, c_n, gates, h_states, c_states, c_new, tanh_c, m_all, xhat_hh, rstd_hh, chat, rstd_c,
          mean_ih, rstd_ih};
}

// Returns d_pre_x (T,B,G*H), dh0 (B,P), dc0 (B,H), dW_hh (G*H,P), d bias (G*H; empty without bias),
// d ln_gain_ih (G*H), dwci, dwcf, dwco (H; empty when no peephole), dW_hr (P,H; empty without projection),
// d ln_gain_hh (G*H), d ln_gain_c (H), d ln_bias_c (H) (layer-norm gradients empty without layernorm).
std::vector<Tensor> fused_backward(const Tensor& dout, const Tensor& dh_n, const Tensor& dc_n, const Tensor& w_hh,
                                   const Tensor& bias, const Tensor& g_ih, const Tensor& wci, const Tensor& wcf,
                                   const Tensor& wco, const Tensor& w_hr,
                                   const Tensor& g_hh, const Tensor& g_c, const Tensor& h_mask,
                                   const Tensor& zh, const Tensor& zc, const Tensor& valid, const Tensor& gates,
                                   const Tensor& h_states, const Tensor& c_states, const Tensor& c_new,
                                   const Tensor& tanh_c, const Tensor& m_all, const Tensor& xhat_hh,
                                   const Tensor& rstd_hh, const Tensor& chat, const Tensor& rstd_c,
                                   const Tensor& mean_ih, const Tensor& rstd_ih, const Tensor& pre_x, bool peephole,
                                   bool cifg, bool bf16) {
  const int64_t T = gates.size(0), B = gates.size(1), GH = gates.size(2), H = c_states.size(2),
                P = h_states.size(2);
  const bool proj = w_hr.numel() > 0, ln = g_hh.numel() > 0;
  bf16 = bf16 && gates.scalar_type() == at::kFloat && brgemm_bf16();
  auto opts = gates.options();
  auto empty = at::empty({0}, opts);
  // dL/d(gate pre-activations); with layernorm only a step's worth, as the layer norms' backward takes it over
  Tensor dpre = ln ? buffer({B, GH}, opts) : buffer({T, B, GH}, opts);
  Tensor drec = ln ? buffer({T, B, GH}, opts) : dpre;        // dL/d(h_rec W_hh^T)
  Tensor dpx = ln ? buffer({T, B, GH}, opts) : dpre;         // dL/d(x W_ih^T)
  Tensor dcout = ln ? buffer({T, B, H}, opts) : empty;       // dL/dc_out (cell layer-norm output)
  Tensor lnscratch = ln ? buffer({B, H}, opts) : empty;
  Tensor dhn_all = proj ? buffer({T, B, P}, opts) : empty;  // dL/dh_new (pre-zoneout)
  Tensor dm = proj ? buffer({B, H}, opts) : empty;          // dL/dm_t = dhn_t W_hr
  Tensor dhm = h_mask.numel() ? buffer({B, P}, opts) : empty;  // dr W_hh before the mask
  Tensor dh = dh_n.numel() ? dh_n.clone() : buffer({B, P}, opts).zero_();
  Tensor dc = dc_n.numel() ? dc_n.clone() : buffer({B, H}, opts).zero_();
  // per-thread sums over steps and rows, gathered while each step's rows are in cache: the peephole gradients
  // (3H: ci, cf, co) and the layer-norm gains and bias (G*H for g_hh, then H each for g_c and b_c)
  // and the input layer-norm gain (G*H) and the bias (G*H)
  const bool has_bias = bias.numel() > 0;
  const int64_t n_peep = peephole ? 3 * H : 0, n_ln = ln ? 2 * GH + 2 * H : 0, n_bias = has_bias ? GH : 0;
  Tensor sums = buffer({at::get_num_threads(), n_peep + n_ln + n_bias}, opts).zero_();
  const int64_t Kmax = (std::max(GH, P) + 1) / 2 * 2;
  Tensor abf = buffer({bf16 ? B * Kmax : 0}, opts.dtype(at::kBFloat16));
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_fused_backward", [&] {
    const RightMat<scalar_t> whh(w_hh, bf16);                                               // (G*H, P)
    const RightMat<scalar_t> whr = proj ? RightMat<scalar_t>(w_hr, bf16) : RightMat<scalar_t>();  // (P, H)
    const scalar_t *wci_p = cptr<scalar_t>(wci), *wcf_p = cptr<scalar_t>(wcf), *wco_p = cptr<scalar_t>(wco),
                   *hm = cptr<scalar_t>(h_mask), *zh_p = cptr<scalar_t>(zh), *zc_p = cptr<scalar_t>(zc),
                   *valid_p = cptr<scalar_t>(valid), *dout_p = cptr<scalar_t>(dout), *ghh_p = cptr<scalar_t>(g_hh),
                   *gc_p = cptr<scalar_t>(g_c), *gts = gates.const_data_ptr<scalar_t>(),
                   *cs = c_states.const_data_ptr<scalar_t>(), *tcs = tanh_c.const_data_ptr<scalar_t>(),
                   *xhs = cptr<scalar_t>(xhat_hh), *rhs = cptr<scalar_t>(rstd_hh), *chs = cptr<scalar_t>(chat),
                   *rcs = cptr<scalar_t>(rstd_c), *cws = c_new.const_data_ptr<scalar_t>();
    scalar_t* sums_p = sums.mutable_data_ptr<scalar_t>();
    const int64_t sums_w = n_peep + n_ln + n_bias;
    const scalar_t *mis = cptr<scalar_t>(mean_ih), *ris = cptr<scalar_t>(rstd_ih), *gih_p = cptr<scalar_t>(g_ih),
                   *pxs = cptr<scalar_t>(pre_x);
    scalar_t* dpxs = dpx.mutable_data_ptr<scalar_t>();
    scalar_t *dh_p = dh.mutable_data_ptr<scalar_t>(), *dc_p = dc.mutable_data_ptr<scalar_t>(),
             *dps = dpre.mutable_data_ptr<scalar_t>(), *drs = drec.mutable_data_ptr<scalar_t>(),
             *dcos = mptr<scalar_t>(dcout), *lns = mptr<scalar_t>(lnscratch), *dhns = mptr<scalar_t>(dhn_all),
             *dm_p = mptr<scalar_t>(dm), *dhm_p = mptr<scalar_t>(dhm);
    at::BFloat16* abf_p = bf16 ? abf.mutable_data_ptr<at::BFloat16>() : nullptr;
    dispatch_flags(peephole, cifg, [&](auto peep_c, auto cifg_c) {
      constexpr bool PEEP = decltype(peep_c)::value;
      constexpr bool CIFG = decltype(cifg_c)::value;
      for (int64_t t = T - 1; t >= 0; --t) {
        scalar_t* dpp = ln ? dps : dps + t * B * GH;
        scalar_t* drp = drs + t * B * GH;
        const scalar_t* dot = dout_p ? dout_p + t * B * P : nullptr;
        const scalar_t* zht = zh_p ? zh_p + t * B * P : nullptr;
        const scalar_t* zct = zc_p ? zc_p + t * B * H : nullptr;
        const scalar_t* vt = valid_p ? valid_p + t * B : nullptr;
        CellLN<scalar_t> cln;
        scalar_t* dcop = nullptr;
        if (ln) {
          cln.gain = gc_p;
          cln.chat = const_cast<scalar_t*>(chs) + t * B * H;
          cln.rstd = const_cast<scalar_t*>(rcs) + t * B;
          cln.scratch = lns;
          dcop = dcos + t * B * H;
        }
        at::parallel_for(0, B, kRowGrain, [&](int64_t b0, int64_t b1) {
          const int64_t M = b1 - b0;
          at::BFloat16* ab = abf_p ? abf_p + b0 * Kmax : nullptr;
          const scalar_t* dhin = dh_p;
          if (proj) {  // dhn_t on the P units, then dL/dm_t = dhn_t W_hr (B, H)
            scalar_t* dhnp = dhns + t * B * P;
            bwd_h_rows<scalar_t>(b0, b1, P, dot, zht, vt, dh_p, dhnp);
            whr.mul(M, dhnp + b0 * P, P, dm_p + b0 * H, H, false, ab);
            dhin = dm_p;
          }
          bwd_rows<scalar_t, PEEP, CIFG>(b0, b1, H, proj ? nullptr : dot, gts + t * B * GH, cs + t * B * H,
                                         tcs + t * B * H, wci_p, wcf_p, wco_p, proj ? nullptr : zht, zct, vt, cln,
                                         dcop, dhin, proj ? nullptr : dh_p, dc_p, dpp);
          scalar_t* acc = sums_p + at::get_thread_num() * sums_w;
          if (PEEP) {  // dw_ci += di_pre * c_{t-1}, dw_cf += df_pre * c_{t-1}, dw_co += do_pre * c_new
            constexpr int64_t oi = GateBlocks<CIFG>::oi, of = GateBlocks<CIFG>::of, oo = GateBlocks<CIFG>::oo;
            for (int64_t b = b0; b < b1; ++b) {
              const scalar_t* cp = cs + (t * B + b) * H;
              const scalar_t* dp = dpp + b * GH;
              if (!CIFG) acc_rows(acc, dp + oi * H, cp, H);
              acc_rows(acc + H, dp + of * H, cp, H);
              acc_rows(acc + 2 * H, dp + oo * H, cws + (t * B + b) * H, H);
            }
          }
          if (ln) {  // through both gate layer norms, per row over G*H: drec_t and dpx_t from dpre_t
            const scalar_t* xh = xhs + t * B * GH;
            const scalar_t *rs = rhs + t * B, *mi = mis + t * B, *ri = ris + t * B;
            scalar_t* al = acc + n_peep;
            scalar_t* ab_sum = has_bias ? acc + n_peep + n_ln : nullptr;
            for (int64_t b = b0; b < b1; ++b) {
              const int64_t row = (t * B + b) * GH;
              ln_pair_bwd_row<scalar_t>(GH, dpp + b * GH, xh + b * GH, ghh_p, rs[b], pxs + row, mi[b], ri[b], gih_p,
                                        drp + b * GH, dpxs + row, al, al + GH + 2 * H, ab_sum);
              acc_rows(al + GH, dcop + b * H, chs + (t * B + b) * H, H);  // d ln_gain_c
              acc_rows<scalar_t>(al + GH + H, dcop + b * H, nullptr, H);  // d ln_bias_c
            }
          } else if (has_bias) {
            for (int64_t b = b0; b < b1; ++b) acc_rows<scalar_t>(acc + n_peep + n_ln, dpp + b * GH, nullptr, GH);
          }
          if (hm) {  // dh += (dr W_hh) * mask
            whh.mul(M, drp + b0 * GH, GH, dhm_p + b0 * P, P, false, ab);
            for (int64_t k = b0 * P; k < b1 * P; ++k) dh_p[k] += dhm_p[k] * hm[k];
          } else {  // dh += dr W_hh
            whh.mul(M, drp + b0 * GH, GH, dh_p + b0 * P, P, true, ab);
          }
          release_tiles(bf16);
        });
      }
    });
  });
  Tensor h_prev = h_states.narrow(0, 0, T);
  if (h_mask.numel()) h_prev = h_prev * h_mask;
  Tensor dw_hh = weight_grad(drec.view({T * B, GH}), h_prev.reshape({T * B, P}), bf16);
  Tensor dwci = empty, dwcf = empty, dwco = empty, dw_hr = empty, dg_hh = empty, dg_c = empty, db_c = empty,
         dg_ih = empty, dbias = empty;
  Tensor total = sums.sum(0);
  if (peephole) {
    if (!cifg) dwci = total.narrow(0, 0, H);
    dwcf = total.narrow(0, H, H);
    dwco = total.narrow(0, 2 * H, H);
  }
  if (proj) dw_hr = weight_grad(dhn_all.view({T * B, P}), m_all.view({T * B, H}), bf16);  // (P, H)
  if (ln) {
    dg_hh = total.narrow(0, n_peep, GH);
    dg_c = total.narrow(0, n_peep + GH, H);
    db_c = total.narrow(0, n_peep + GH + H, H);
    dg_ih = total.narrow(0, n_peep + GH + 2 * H, GH);
  }
  if (has_bias) dbias = total.narrow(0, n_peep + n_ln, GH);
  return {dpx, dh, dc, dw_hh, dbias, dg_ih, dwci, dwcf, dwco, dw_hr, dg_hh, dg_c, db_c};
}

// A counter-based hash (two rounds of the "lowbias32" integer mixer, seeded with both halves of `seed`): a
// uniform 32-bit draw per element index, fast and vectorisable, for dropout-style masks.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// A bool tensor of `shape`, each element true with probability p, independently; the same seed gives the same
// mask on every machine and thread count.
Tensor bernoulli_mask(std::vector<int64_t> shape, double p, int64_t seed) {
  TORCH_CHECK(p >= 0.0 && p <= 1.0, "p must be in [0, 1], got ", p);
  Tensor out = at::empty(shape, at::TensorOptions().dtype(at::kBool));
  bool* o = out.data_ptr<bool>();
  const uint64_t threshold = uint64_t(p * 4294967296.0);  // draw < threshold, draws in [0, 2^32)
  const uint32_t s0 = uint32_t(uint64_t(seed)), s1 = uint32_t(uint64_t(seed) >> 32);
  at::parallel_for(0, out.numel(), int64_t(1) << 16, [&](int64_t a, int64_t b) {
    for (int64_t k = a; k < b; ++k) o[k] = uint64_t(mix32(mix32(uint32_t(k) ^ s0) ^ s1)) < threshold;
  });
  return out;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &fused_forward, "fused LSTM layer forward (CPU)");
  m.def("backward", &fused_backward, "fused LSTM layer backward (CPU)");
  m.def("weight_grad", [](const Tensor& dy, const Tensor& x, bool bf16) {
    return weight_grad(dy.contiguous(), x.contiguous(), bf16);
  }, "dy^T x: dy (N, O), x (N, I) -> (O, I), through oneDNN for fp32 when torch has it",
  py::arg("dy"), py::arg("x"), py::arg("bf16") = false);
  m.def("rows_times", &rows_times, "x (N, K) @ b (K, M), through the micro-kernel in row blocks (bf16: bf16 operands)",
        py::arg("x"), py::arg("b"), py::arg("bf16") = false);
  m.def("bernoulli_mask", &bernoulli_mask, "bool mask of the shape, true with probability p; counter-based",
        py::arg("shape"), py::arg("p"), py::arg("seed"));
  m.def("bf16_products", []() { return brgemm_bf16(); }, "whether the recurrent products can run in bf16");
}
