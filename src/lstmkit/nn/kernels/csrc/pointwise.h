// The pointwise passes of one step, over a block of rows [b0, b1): the gates, the cell and h, forward and
// backward, vectorised over the H units of a row (ATen's Vectorized, Sleef exp and tanh).
//
// Shapes: B rows, G gates (3 with cifg, else 4), H hidden units, P = size of h (proj_size, else H). A row of
// gate pre-activations holds G blocks of H columns in torch's order i, f, g, o (cifg: f, g, o).
// Forward:  i = sigmoid(i_pre [+ w_ci * c_{t-1}]) (cifg: i = 1 - f), f = sigmoid(f_pre [+ w_cf * c_{t-1}]),
//           g = tanh(g_pre), c_new = f * c_{t-1} + i * g, o = sigmoid(o_pre [+ w_co * c_new]),
//           c_out = c_new (layernorm: LN(c_new) * gain_c + bias_c), h = o * tanh(c_out) (projection: m, and
//           h = m W_hr^T after the product); then zoneout (a unit keeps its previous value where its mask is
//           set) and lengths (past a sequence's length its state is frozen and its output zero).
// Backward: the same equations, differentiated by hand.
#pragma once

#include "layer_norm.h"
#include "vec_ops.h"

#include <cstdint>

namespace lstmkit {

// The gate blocks of a row of pre-activations: their number G and the index of each block.
template <bool CIFG>
struct GateBlocks {
  static constexpr int64_t G = CIFG ? 3 : 4, i = 0, f = CIFG ? 0 : 1, g = CIFG ? 1 : 2, o = CIFG ? 2 : 3;
};

// The peephole weights (H each; all null without peepholes, input null with cifg).
template <typename scalar_t>
struct Peepholes {
  const scalar_t* input = nullptr;   // w_ci
  const scalar_t* forget = nullptr;  // w_cf
  const scalar_t* output = nullptr;  // w_co
};

// One step's rows as the forward pointwise pass reads and writes them. With a projection, h, its zoneout and
// the output are left to `projected_h_rows` (h_prev, h_next, output and zoneout_h unused, m set).
template <typename scalar_t>
struct ForwardStep {
  const scalar_t* preact = nullptr;     // (B, G*H) gate pre-activations: x W_ih^T + bias + h_rec W_hh^T (or LNs)
  const scalar_t* h_prev = nullptr;     // (B, H) h_{t-1}
  const scalar_t* c_prev = nullptr;     // (B, H) c_{t-1}
  const scalar_t* zoneout_h = nullptr;  // (B, H) or null: nonzero where a unit of h keeps h_{t-1}
  const scalar_t* zoneout_c = nullptr;  // (B, H) or null: nonzero where a unit of c keeps c_{t-1}
  const scalar_t* valid = nullptr;      // (B) or null: zero past a sequence's length
  scalar_t* gates = nullptr;            // (B, G*H) i, f, g, o after their activations (may alias preact)
  scalar_t* c_new = nullptr;            // (B, H) f * c_{t-1} + i * g, before zoneout
  scalar_t* c_next = nullptr;           // (B, H) c_t, after zoneout and lengths
  scalar_t* tanh_c = nullptr;           // (B, H) tanh(c_out)
  scalar_t* h_next = nullptr;           // (B, H) h_t, after zoneout and lengths
  scalar_t* output = nullptr;           // (B, H) this step's output: h_t, zero past the length
  scalar_t* m = nullptr;                // (B, H) projection only: o * tanh(c_out); else null
};

// The structs come by value and their pointers are read into locals: kept in registers across the calls to
// Sleef's exp and tanh, where through references they were reloaded after each call (~10% more instructions).
template <typename scalar_t, bool PEEP, bool CIFG>
void forward_rows(int64_t b0, int64_t b1, int64_t H, const ForwardStep<scalar_t> step, const Peepholes<scalar_t> peep,
                  const CellNorm<scalar_t> norm) {
  using V = Vectorized<scalar_t>;
  using Blocks = GateBlocks<CIFG>;
  constexpr int64_t G = Blocks::G;
  constexpr int64_t W = V::size();
  const V one(scalar_t(1)), zero(scalar_t(0));
  const bool layernorm = norm.on();
  const scalar_t *peep_i = peep.input, *peep_f = peep.forget, *peep_o = peep.output;
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* preact = step.preact + b * G * H;
    const scalar_t* c_prev = step.c_prev + b * H;
    const scalar_t* h_prev = step.h_prev ? step.h_prev + b * H : nullptr;
    scalar_t* gates = step.gates + b * G * H;
    scalar_t* c_next = step.c_next + b * H;
    scalar_t* c_new = step.c_new + b * H;
    scalar_t* tanh_c = step.tanh_c + b * H;
    scalar_t* m = step.m ? step.m + b * H : nullptr;
    scalar_t* h_next = step.h_next ? step.h_next + b * H : nullptr;
    scalar_t* output = step.output ? step.output + b * H : nullptr;
    if (step.valid && step.valid[b] == scalar_t(0)) {  // past this sequence's length: state frozen, output zero
      if (m) {
        std::fill(m, m + H, scalar_t(0));
      } else {
        std::copy(h_prev, h_prev + H, h_next);
        std::fill(output, output + H, scalar_t(0));
      }
      std::copy(c_prev, c_prev + H, c_next);
      std::fill(gates, gates + G * H, scalar_t(0));
      std::fill(c_new, c_new + H, scalar_t(0));
      std::fill(tanh_c, tanh_c + H, scalar_t(0));
      if (layernorm) {
        std::fill(norm.c_hat + b * H, norm.c_hat + (b + 1) * H, scalar_t(0));
        norm.rstd[b] = scalar_t(0);
      }
      continue;
    }
    const scalar_t* zoneout_h = step.zoneout_h ? step.zoneout_h + b * H : nullptr;
    const scalar_t* zoneout_c = step.zoneout_c ? step.zoneout_c + b * H : nullptr;
    // h = o * tanh(c_out) from o and c_out: into m with a projection, else through zoneout into h and output
    auto emit_h = [&](int64_t j, int64_t n, const V& o, const V& c_out) {
      V tanh_c_out = c_out.tanh();
      V h = o * tanh_c_out;
      store(tanh_c_out, tanh_c + j, n);
      if (m) {
        store(h, m + j, n);
        return;
      }
      V h_kept = h;
      if (zoneout_h) h_kept = V::blendv(h, load(h_prev + j, n), load(zoneout_h + j, n) != zero);
      store(h_kept, h_next + j, n);
      store(h_kept, output + j, n);
    };
    for (int64_t j = 0; j < H; j += W) {
      const int64_t n = std::min<int64_t>(W, H - j);
      V c_old = load(c_prev + j, n);
      V f_pre = load(preact + Blocks::f * H + j, n);
      V g_pre = load(preact + Blocks::g * H + j, n);
      V o_pre = load(preact + Blocks::o * H + j, n);
      if (PEEP) f_pre = f_pre + load(peep_f + j, n) * c_old;
      V f = sigmoid(f_pre);
      V i;
      if (CIFG) {
        i = one - f;
      } else {
        V i_pre = load(preact + Blocks::i * H + j, n);
        if (PEEP) i_pre = i_pre + load(peep_i + j, n) * c_old;
        i = sigmoid(i_pre);
        store(i, gates + Blocks::i * H + j, n);
      }
      V g = g_pre.tanh();
      V c = f * c_old + i * g;
      if (PEEP) o_pre = o_pre + load(peep_o + j, n) * c;
      V o = sigmoid(o_pre);
      store(f, gates + Blocks::f * H + j, n);
      store(g, gates + Blocks::g * H + j, n);
      store(o, gates + Blocks::o * H + j, n);
      store(c, c_new + j, n);
      V c_kept = c;
      if (zoneout_c) c_kept = V::blendv(c, c_old, load(zoneout_c + j, n) != zero);
      store(c_kept, c_next + j, n);
      if (!layernorm) emit_h(j, n, o, c);
    }
    if (layernorm) {  // c_out = LN(c_new) * gain_c + bias_c over the row's H units, then h from tanh(c_out)
      scalar_t mean, rstd;
      row_moments(c_new, H, mean, rstd);
      norm.rstd[b] = rstd;
      const V mean_v(mean), rstd_v(rstd);
      scalar_t* c_hat = norm.c_hat + b * H;
      for (int64_t j = 0; j < H; j += W) {
        const int64_t n = std::min<int64_t>(W, H - j);
        V xhat = (load(c_new + j, n) - mean_v) * rstd_v;
        store(xhat, c_hat + j, n);
        emit_h(j, n, load(gates + Blocks::o * H + j, n), xhat * load(norm.gain + j, n) + load(norm.bias + j, n));
      }
    }
  }
}

// Forward, projection only: h_new = projected (B, P) = m W_hr^T, then zoneout and lengths on the P units into
// h_next and output (B, P); h_prev (B, P), zoneout_h (B, P) or null, valid (B) or null.
template <typename scalar_t>
void projected_h_rows(int64_t b0, int64_t b1, int64_t P, const scalar_t* projected, const scalar_t* h_prev,
                      const scalar_t* zoneout_h, const scalar_t* valid, scalar_t* h_next, scalar_t* output) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  const V zero(scalar_t(0));
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* h_old = h_prev + b * P;
    if (valid && valid[b] == scalar_t(0)) {
      std::copy(h_old, h_old + P, h_next + b * P);
      std::fill(output + b * P, output + (b + 1) * P, scalar_t(0));
      continue;
    }
    for (int64_t j = 0; j < P; j += W) {
      const int64_t n = std::min<int64_t>(W, P - j);
      V h = load(projected + b * P + j, n);
      if (zoneout_h) h = V::blendv(h, load(h_old + j, n), load(zoneout_h + b * P + j, n) != zero);
      store(h, h_next + b * P + j, n);
      store(h, output + b * P + j, n);
    }
  }
}

// Backward, projection only, on the P units: d_h (B, P) holds dL/dh_t on entry (d_output, or null, is added)
// and the zoneout part of dL/dh_{t-1} on exit; d_h_new (B, P) = dL/dh_new (before zoneout), zero past the length.
template <typename scalar_t>
void projected_h_backward_rows(int64_t b0, int64_t b1, int64_t P, const scalar_t* d_output,
                               const scalar_t* zoneout_h, const scalar_t* valid, scalar_t* d_h, scalar_t* d_h_new) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  const V zero(scalar_t(0));
  for (int64_t b = b0; b < b1; ++b) {
    if (valid && valid[b] == scalar_t(0)) {  // frozen: d_h passes through unchanged
      std::fill(d_h_new + b * P, d_h_new + (b + 1) * P, scalar_t(0));
      continue;
    }
    for (int64_t j = 0; j < P; j += W) {
      const int64_t n = std::min<int64_t>(W, P - j);
      V d_kept = load(d_h + b * P + j, n);
      if (d_output) d_kept = d_kept + load(d_output + b * P + j, n);
      V d_prev = zero, d_new = d_kept;
      if (zoneout_h) {
        V kept = load(zoneout_h + b * P + j, n) != zero;
        d_prev = V::blendv(zero, d_kept, kept);
        d_new = V::blendv(d_kept, zero, kept);
      }
      store(d_prev, d_h + b * P + j, n);
      store(d_new, d_h_new + b * P + j, n);
    }
  }
}

// One step's rows as the backward pointwise pass reads and writes them. With a projection d_h is dL/dm_t,
// and d_output, zoneout_h and d_h_prev are null (`projected_h_backward_rows` handled them on the P units).
template <typename scalar_t>
struct BackwardStep {
  const scalar_t* d_output = nullptr;   // (B, H) dL/d output_t, or null
  const scalar_t* gates = nullptr;      // (B, G*H) saved i, f, g, o
  const scalar_t* c_prev = nullptr;     // (B, H) c_{t-1}
  const scalar_t* tanh_c = nullptr;     // (B, H) saved tanh(c_out)
  const scalar_t* zoneout_h = nullptr;  // (B, H) or null
  const scalar_t* zoneout_c = nullptr;  // (B, H) or null
  const scalar_t* valid = nullptr;      // (B) or null
  const scalar_t* d_h = nullptr;        // (B, H) dL/dh_t (projection: dL/dm_t)
  scalar_t* d_h_prev = nullptr;         // (B, H) gets the direct (zoneout) part of dL/dh_{t-1}; may alias d_h
  scalar_t* d_c = nullptr;              // (B, H) dL/dc_t on entry, the direct part of dL/dc_{t-1} on exit
  scalar_t* d_c_out = nullptr;          // (B, H) layernorm only: gets dL/dc_out (zero past the length)
  scalar_t* d_preact = nullptr;         // (B, G*H) gets dL/d(gate pre-activations)
};

template <typename scalar_t, bool PEEP, bool CIFG>
void backward_rows(int64_t b0, int64_t b1, int64_t H, const BackwardStep<scalar_t> step,
                   const Peepholes<scalar_t> peep, const CellNorm<scalar_t> norm) {
  using V = Vectorized<scalar_t>;
  using Blocks = GateBlocks<CIFG>;
  constexpr int64_t G = Blocks::G;
  constexpr int64_t W = V::size();
  const V one(scalar_t(1)), zero(scalar_t(0));
  const bool layernorm = norm.on();
  const scalar_t *peep_i = peep.input, *peep_f = peep.forget, *peep_o = peep.output;
  for (int64_t b = b0; b < b1; ++b) {
    scalar_t* d_preact = step.d_preact + b * G * H;
    if (step.valid && step.valid[b] == scalar_t(0)) {  // frozen step: gradients pass straight through
      std::fill(d_preact, d_preact + G * H, scalar_t(0));
      if (layernorm) std::fill(step.d_c_out + b * H, step.d_c_out + (b + 1) * H, scalar_t(0));
      continue;
    }
    const scalar_t* gates = step.gates + b * G * H;
    const scalar_t* c_prev = step.c_prev + b * H;
    const scalar_t* tanh_c = step.tanh_c + b * H;
    const scalar_t* d_output = step.d_output ? step.d_output + b * H : nullptr;
    const scalar_t* zoneout_h = step.zoneout_h ? step.zoneout_h + b * H : nullptr;
    const scalar_t* zoneout_c = step.zoneout_c ? step.zoneout_c + b * H : nullptr;
    const scalar_t* d_h = step.d_h + b * H;
    scalar_t* d_h_prev_row = step.d_h_prev ? step.d_h_prev + b * H : nullptr;
    scalar_t* d_c = step.d_c + b * H;
    // dL/dh_new (before zoneout) and the zoneout part of dL/dh_{t-1}
    auto split_d_h = [&](int64_t j, int64_t n, V& d_h_prev, V& d_h_new) {
      V d_kept = load(d_h + j, n);
      if (d_output) d_kept = d_kept + load(d_output + j, n);
      d_h_prev = zero;
      d_h_new = d_kept;
      if (zoneout_h) {
        V kept = load(zoneout_h + j, n) != zero;
        d_h_prev = V::blendv(zero, d_kept, kept);
        d_h_new = V::blendv(d_kept, zero, kept);
      }
    };
    scalar_t* d_c_norm = nullptr;  // dL/dc_new through the cell layer norm
    if (layernorm) {  // dL/dc_out into d_c_out's row, then through the layer norm into d_c_norm
      scalar_t* d_c_out = step.d_c_out + b * H;
      for (int64_t j = 0; j < H; j += W) {
        const int64_t n = std::min<int64_t>(W, H - j);
        V d_h_prev, d_h_new;
        split_d_h(j, n, d_h_prev, d_h_new);
        V tc = load(tanh_c + j, n);
        store(d_h_new * load(gates + Blocks::o * H + j, n) * (one - tc * tc), d_c_out + j, n);
      }
      d_c_norm = norm.d_c_new + b * H;
      norm_backward_row(H, d_c_out, norm.c_hat + b * H, norm.gain, norm.rstd[b], d_c_norm);
    }
    for (int64_t j = 0; j < H; j += W) {
      const int64_t n = std::min<int64_t>(W, H - j);
      V d_h_prev, d_h_new;
      split_d_h(j, n, d_h_prev, d_h_new);
      V d_c_kept = load(d_c + j, n);
      V d_c_prev = zero, d_c_new = d_c_kept;
      if (zoneout_c) {
        V kept = load(zoneout_c + j, n) != zero;
        d_c_prev = V::blendv(zero, d_c_kept, kept);
        d_c_new = V::blendv(d_c_kept, zero, kept);
      }
      V c_old = load(c_prev + j, n);
      V f = load(gates + Blocks::f * H + j, n);
      V g = load(gates + Blocks::g * H + j, n);
      V o = load(gates + Blocks::o * H + j, n);
      V i = CIFG ? one - f : load(gates + Blocks::i * H + j, n);
      V tc = load(tanh_c + j, n);
      V d_o = d_h_new * tc;
      if (layernorm) d_c_new = d_c_new + load(d_c_norm + j, n);
      else d_c_new = d_c_new + d_h_new * o * (one - tc * tc);
      V d_o_pre = d_o * o * (one - o);
      if (PEEP) d_c_new = d_c_new + d_o_pre * load(peep_o + j, n);
      V d_i = d_c_new * g;
      V d_g = d_c_new * i;
      V d_f = d_c_new * c_old;
      d_c_prev = d_c_prev + d_c_new * f;
      if (CIFG) d_f = d_f - d_i;
      V d_g_pre = d_g * (one - g * g);
      V d_f_pre = d_f * f * (one - f);
      if (!CIFG) {
        V d_i_pre = d_i * i * (one - i);
        if (PEEP) d_c_prev = d_c_prev + d_i_pre * load(peep_i + j, n);
        store(d_i_pre, d_preact + Blocks::i * H + j, n);
      }
      if (PEEP) d_c_prev = d_c_prev + d_f_pre * load(peep_f + j, n);
      store(d_f_pre, d_preact + Blocks::f * H + j, n);
      store(d_g_pre, d_preact + Blocks::g * H + j, n);
      store(d_o_pre, d_preact + Blocks::o * H + j, n);
      if (d_h_prev_row) store(d_h_prev, d_h_prev_row + j, n);
      store(d_c_prev, d_c + j, n);
    }
  }
}

}  // namespace lstmkit
