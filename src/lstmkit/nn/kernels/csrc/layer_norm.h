// The layer norms of the layernorm variant (Ba et al. 2016), forward and backward, one row at a time.
//
// Shapes: B rows, G gates, H hidden units; GH = G*H. The two gate layer norms normalise a row of G*H gate
// pre-activations: the input one x W_ih^T (gain ln_gain_ih, then + bias), the recurrent one h_rec W_hh^T (gain
// ln_gain_hh). The cell layer norm normalises a row of H units of c_t (gain ln_gain_c, bias ln_bias_c).
// Forward: xhat = (x - mean) * rstd, rstd = 1/sqrt(var + eps) with the biased variance, y = xhat * gain (+ bias).
// Backward of a row: dx = rstd * (dy*gain - mean(dy*gain) - xhat * mean(dy*gain*xhat)).
#pragma once

#include "vec_ops.h"

#include <cmath>

namespace lstmkit {

constexpr double kLayerNormEps = 1e-5;  // as torch.nn.LayerNorm

// The mean and rstd of one row x[0:n).
template <typename scalar_t>
void row_moments(const scalar_t* x, int64_t n, scalar_t& mean, scalar_t& rstd) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  mean = row_sum(x, n) / scalar_t(n);
  const V mean_v(mean);
  V acc(scalar_t(0));
  int64_t j = 0;
  for (; j + W <= n; j += W) {
    V centred = V::loadu(x + j) - mean_v;
    acc = acc + centred * centred;
  }
  scalar_t var = lane_sum(acc);
  for (; j < n; ++j) var += (x[j] - mean) * (x[j] - mean);
  var /= scalar_t(n);
  rstd = scalar_t(1) / std::sqrt(var + scalar_t(kLayerNormEps));
}

// The cell layer norm's tensors for one step (all null without layernorm).
template <typename scalar_t>
struct CellNorm {
  const scalar_t* gain = nullptr;  // (H) ln_gain_c
  const scalar_t* bias = nullptr;  // (H) ln_bias_c
  scalar_t* c_hat = nullptr;       // (B, H) normalised c_new of this step
  scalar_t* rstd = nullptr;        // (B)
  scalar_t* d_c_new = nullptr;     // (B, H) backward only: scratch for dL/dc_new through the layer norm

  bool on() const { return gain != nullptr; }
};

// Recurrent layer norm, forward, rows [b0, b1): rec (B, GH) holds h_rec W_hh^T on entry and its xhat on exit;
// rstd (B); preact (B, GH) = input_part + xhat * gain (preact may alias input_part).
template <typename scalar_t>
void recurrent_norm_rows(int64_t b0, int64_t b1, int64_t GH, const scalar_t* input_part, scalar_t* rec,
                         const scalar_t* gain, scalar_t* rstd, scalar_t* preact) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  for (int64_t b = b0; b < b1; ++b) {
    scalar_t* row = rec + b * GH;
    scalar_t mean, row_rstd;
    row_moments(row, GH, mean, row_rstd);
    rstd[b] = row_rstd;
    const V mean_v(mean), rstd_v(row_rstd);
    for (int64_t j = 0; j < GH; j += W) {
      const int64_t n = std::min<int64_t>(W, GH - j);
      V xhat = (load(row + j, n) - mean_v) * rstd_v;
      store(xhat, row + j, n);
      store(load(input_part + b * GH + j, n) + xhat * load(gain + j, n), preact + b * GH + j, n);
    }
  }
}

// Input layer norm, forward, rows [b0, b1): raw (B, GH) = this step's x W_ih^T; mean and rstd (B) are kept for
// the backward to recompute xhat from raw; preact (B, GH) = xhat * gain + bias (bias may be null).
template <typename scalar_t>
void input_norm_rows(int64_t b0, int64_t b1, int64_t GH, const scalar_t* raw, const scalar_t* gain,
                     const scalar_t* bias, scalar_t* mean, scalar_t* rstd, scalar_t* preact) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* row = raw + b * GH;
    scalar_t row_mean, row_rstd;
    row_moments(row, GH, row_mean, row_rstd);
    mean[b] = row_mean;
    rstd[b] = row_rstd;
    const V mean_v(row_mean), rstd_v(row_rstd);
    for (int64_t j = 0; j < GH; j += W) {
      const int64_t n = std::min<int64_t>(W, GH - j);
      V xhat = (load(row + j, n) - mean_v) * rstd_v;
      V y = xhat * load(gain + j, n);
      if (bias) y = y + load(bias + j, n);
      store(y, preact + b * GH + j, n);
    }
  }
}

// Layer-norm backward of one row of n units: dy, xhat, dx (n), gain (n), the row's rstd.
template <typename scalar_t>
void norm_backward_row(int64_t n, const scalar_t* dy, const scalar_t* xhat, const scalar_t* gain, scalar_t rstd,
                       scalar_t* dx) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  V sum_dyg(scalar_t(0)), sum_dyg_xhat(scalar_t(0));
  for (int64_t j = 0; j < n; j += W) {
    const int64_t k = std::min<int64_t>(W, n - j);  // partial loads fill with zeros
    V dyg = load(dy + j, k) * load(gain + j, k);
    sum_dyg = sum_dyg + dyg;
    sum_dyg_xhat = sum_dyg_xhat + dyg * load(xhat + j, k);
  }
  const V mean_dyg(lane_sum(sum_dyg) / scalar_t(n)), mean_dyg_xhat(lane_sum(sum_dyg_xhat) / scalar_t(n));
  const V rstd_v(rstd);
  for (int64_t j = 0; j < n; j += W) {
    const int64_t k = std::min<int64_t>(W, n - j);
    store(rstd_v * (load(dy + j, k) * load(gain + j, k) - mean_dyg - load(xhat + j, k) * mean_dyg_xhat), dx + j, k);
  }
}

// One row of both gate layer norms, as the backward reads them. Without layernorm there are none.
template <typename scalar_t>
struct GateNormsRow {
  const scalar_t* rec_xhat;    // (GH) the recurrent norm's saved xhat
  const scalar_t* rec_gain;    // (GH) ln_gain_hh
  scalar_t rec_rstd;
  const scalar_t* input_raw;   // (GH) x W_ih^T, from which the input norm's xhat is recomputed
  scalar_t input_mean, input_rstd;
  const scalar_t* input_gain;  // (GH) ln_gain_ih
};

// Both gate layer norms' backward for one row, in two passes over its GH columns: d_preact = dL/d(gate
// pre-activations) gives d_rec = dL/d(h_rec W_hh^T) and d_input = dL/d(x W_ih^T). The first pass also adds
// d_preact * xhat to the gains' gradient sums (sum_rec_gain, sum_input_gain) and d_preact to the bias's
// (sum_bias, or null).
template <typename scalar_t>
void gate_norms_backward_row(int64_t GH, const scalar_t* d_preact, const GateNormsRow<scalar_t> norms,
                             scalar_t* d_rec, scalar_t* d_input, scalar_t* sum_rec_gain, scalar_t* sum_input_gain,
                             scalar_t* sum_bias) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  // locals, not the struct's fields: the stores below could alias its scalars, which would be reloaded
  const scalar_t *rec_xhat = norms.rec_xhat, *rec_gain = norms.rec_gain, *raw = norms.input_raw,
                 *input_gain = norms.input_gain;
  const V input_mean(norms.input_mean), input_rstd(norms.input_rstd), rec_rstd(norms.rec_rstd);
  V rec_sum_dyg(scalar_t(0)), rec_sum_dyg_xhat(scalar_t(0)), in_sum_dyg(scalar_t(0)), in_sum_dyg_xhat(scalar_t(0));
  for (int64_t j = 0; j < GH; j += W) {
    const int64_t n = std::min<int64_t>(W, GH - j);  // partial loads fill with zeros, which add nothing
    const V dy = load(d_preact + j, n), rec_x = load(rec_xhat + j, n);
    const V in_x = (load(raw + j, n) - input_mean) * input_rstd;
    const V rec_dyg = dy * load(rec_gain + j, n), in_dyg = dy * load(input_gain + j, n);
    rec_sum_dyg = rec_sum_dyg + rec_dyg;
    rec_sum_dyg_xhat = rec_sum_dyg_xhat + rec_dyg * rec_x;
    in_sum_dyg = in_sum_dyg + in_dyg;
    in_sum_dyg_xhat = in_sum_dyg_xhat + in_dyg * in_x;
    store(load(sum_rec_gain + j, n) + dy * rec_x, sum_rec_gain + j, n);
    store(load(sum_input_gain + j, n) + dy * in_x, sum_input_gain + j, n);
    if (sum_bias) store(load(sum_bias + j, n) + dy, sum_bias + j, n);
  }
  const V rec_mean_dyg(lane_sum(rec_sum_dyg) / scalar_t(GH));
  const V rec_mean_dyg_xhat(lane_sum(rec_sum_dyg_xhat) / scalar_t(GH));
  const V in_mean_dyg(lane_sum(in_sum_dyg) / scalar_t(GH));
  const V in_mean_dyg_xhat(lane_sum(in_sum_dyg_xhat) / scalar_t(GH));
  for (int64_t j = 0; j < GH; j += W) {
    const int64_t n = std::min<int64_t>(W, GH - j);
    const V dy = load(d_preact + j, n), rec_x = load(rec_xhat + j, n);
    const V in_x = (load(raw + j, n) - input_mean) * input_rstd;
    store(rec_rstd * (dy * load(rec_gain + j, n) - rec_mean_dyg - rec_x * rec_mean_dyg_xhat), d_rec + j, n);
    store(input_rstd * (dy * load(input_gain + j, n) - in_mean_dyg - in_x * in_mean_dyg_xhat), d_input + j, n);
  }
}

}  // namespace lstmkit
