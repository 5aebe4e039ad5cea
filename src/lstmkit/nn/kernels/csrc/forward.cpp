// The forward pass of the fused layer: step after step, each step's rows split into tasks across torch's threads,
// each task doing its rows' whole step.
//
// Shapes: T steps, B rows, G gates, H hidden units, P = size of h; GH = G*H. Per step and block of rows:
//   preact (B, GH) = x W_ih^T + bias + h_rec W_hh^T       (h_rec = h_{t-1}, or h_{t-1} * h_mask)
//     layernorm:   = LN(x W_ih^T) * ln_gain_ih + bias + LN(h_rec W_hh^T) * ln_gain_hh
//   the pointwise pass (pointwise.h): gates, c_t, and h_t (or m_t with a projection)
//   projection:    h_t (B, P) = m_t W_hr^T, then zoneout and lengths on the P units.
#include "lstm_fused.h"
#include "pointwise.h"
#include "products.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/functional.h>

namespace lstmkit {
namespace {

// The record's tensors for T steps (1 step of scratch when nothing is saved), and the states' slots.
ForwardRecord allocate_record(int64_t T, int64_t B, int64_t GH, int64_t H, int64_t P, bool projection,
                              bool layernorm, bool save, const at::TensorOptions& options) {
  const int64_t kept = save ? T : 1;  // steps kept for the backward
  const Tensor empty = at::empty({0}, options);
  ForwardRecord record;
  record.gates = buffer({kept, B, GH}, options);
  record.h_states = buffer({save ? T + 1 : 2, B, P}, options);  // forward only: two slots used in turn
  record.c_states = buffer({save ? T + 1 : 2, B, H}, options);
  record.c_new = buffer({kept, B, H}, options);
  record.tanh_c = buffer({kept, B, H}, options);
  record.m = projection ? buffer({kept, B, H}, options) : empty;
  record.xhat_hh = layernorm ? buffer({kept, B, GH}, options) : empty;
  record.rstd_hh = layernorm ? buffer({kept, B}, options) : empty;
  record.c_hat = layernorm ? buffer({kept, B, H}, options) : empty;
  record.rstd_c = layernorm ? buffer({kept, B}, options) : empty;
  record.mean_ih = layernorm ? buffer({kept, B}, options) : empty;
  record.rstd_ih = layernorm ? buffer({kept, B}, options) : empty;
  return record;
}

template <typename scalar_t>
void run_forward(const Tensor& pre_x, const LayerWeights& weights, const LayerMasks& masks, const LayerFlags& flags,
                 Tensor& output, ForwardRecord& record) {
  const int64_t T = pre_x.size(0), B = pre_x.size(1), GH = pre_x.size(2), H = record.c_states.size(2),
                P = record.h_states.size(2);
  const bool projection = weights.w_hr.numel() > 0, layernorm = weights.ln_gain_hh.numel() > 0;
  const bool save = flags.save, bf16 = flags.bf16;
  const auto options = pre_x.options();
  const Tensor empty = at::empty({0}, options);
  Tensor h_rec = masks.h_mask.numel() ? buffer({B, P}, options) : empty;  // h * h_mask, as the product sees it
  Tensor projected = projection ? buffer({B, P}, options) : empty;        // m W_hr^T before zoneout/lengths
  const int64_t k_max = (std::max(P, H) + 1) / 2 * 2;
  Tensor a_bf16 = buffer({bf16 ? B * k_max : 0}, options.dtype(at::kBFloat16));  // rows rounded for bf16 products

  const RightMat<scalar_t> w_hh_t(weights.w_hh.t(), bf16);  // (P, G*H)
  const RightMat<scalar_t> w_hr_t =
      projection ? RightMat<scalar_t>(weights.w_hr.t(), bf16) : RightMat<scalar_t>();  // (H, P)
  auto read = [](const Tensor& t) { return data_or_null<scalar_t>(t); };  // null when absent
  auto write = [](const Tensor& t) { return mutable_data_or_null<scalar_t>(t); };
  const Peepholes<scalar_t> peep{read(weights.peep_i), read(weights.peep_f), read(weights.peep_o)};
  const scalar_t* pre_x_data = read(pre_x);
  const scalar_t* bias = read(weights.bias);
  const scalar_t* ln_gain_ih = read(weights.ln_gain_ih);
  const scalar_t* ln_gain_hh = read(weights.ln_gain_hh);
  const scalar_t* ln_gain_c = read(weights.ln_gain_c);
  const scalar_t* ln_bias_c = read(weights.ln_bias_c);
  const scalar_t* h_mask = read(masks.h_mask);
  const scalar_t* zoneout_h = read(masks.zoneout_h);
  const scalar_t* zoneout_c = read(masks.zoneout_c);
  const scalar_t* valid = read(masks.valid);
  scalar_t* out = write(output);
  scalar_t* h_states = write(record.h_states);
  scalar_t* c_states = write(record.c_states);
  scalar_t* gates = write(record.gates);
  scalar_t* c_new = write(record.c_new);
  scalar_t* tanh_c = write(record.tanh_c);
  scalar_t* m = write(record.m);
  scalar_t* xhat_hh = write(record.xhat_hh);
  scalar_t* rstd_hh = write(record.rstd_hh);
  scalar_t* c_hat = write(record.c_hat);
  scalar_t* rstd_c = write(record.rstd_c);
  scalar_t* mean_ih = write(record.mean_ih);
  scalar_t* rstd_ih = write(record.rstd_ih);
  scalar_t* h_rec_data = write(h_rec);
  scalar_t* projected_data = write(projected);
  at::BFloat16* a_bf16_data = bf16 ? a_bf16.mutable_data_ptr<at::BFloat16>() : nullptr;

  dispatch_flags(flags.peephole, flags.cifg, [&](auto peephole_c, auto cifg_c) {
    constexpr bool PEEP = decltype(peephole_c)::value;
    constexpr bool CIFG = decltype(cifg_c)::value;
    for (int64_t t = 0; t < T; ++t) {
      // the record's step (0 when only scratch is kept) and the states' slots of h_{t-1}, c_{t-1} and h_t, c_t
      const int64_t kept = save ? t : 0, before = save ? t : t % 2, after = save ? t + 1 : (t + 1) % 2;
      const scalar_t* h_prev = h_states + before * B * P;
      scalar_t* h_next = h_states + after * B * P;
      scalar_t* preact = gates + kept * B * GH;  // the pointwise pass reads each row here before its gates go there
      scalar_t* m_t = projection ? m + kept * B * H : nullptr;
      const scalar_t* pre_x_t = pre_x_data + t * B * GH;
      const scalar_t* zoneout_h_t = zoneout_h ? zoneout_h + t * B * P : nullptr;
      const scalar_t* valid_t = valid ? valid + t * B : nullptr;
      ForwardStep<scalar_t> step;
      step.preact = preact;
      step.h_prev = projection ? nullptr : h_prev;
      step.c_prev = c_states + before * B * H;
      step.zoneout_h = projection ? nullptr : zoneout_h_t;
      step.zoneout_c = zoneout_c ? zoneout_c + t * B * H : nullptr;
      step.valid = valid_t;
      step.gates = preact;
      step.c_new = c_new + kept * B * H;
      step.c_next = c_states + after * B * H;
      step.tanh_c = tanh_c + kept * B * H;
      step.h_next = projection ? nullptr : h_next;
      step.output = projection ? nullptr : out + t * B * P;
      step.m = m_t;
      CellNorm<scalar_t> cell_norm;
      if (layernorm) {
        cell_norm.gain = ln_gain_c;
        cell_norm.bias = ln_bias_c;
        cell_norm.c_hat = c_hat + kept * B * H;
        cell_norm.rstd = rstd_c + kept * B;
      }
      // every row of a step is independent: one task does the products and passes for its rows
      for_row_blocks(B, [&](int64_t, int64_t b0, int64_t b1) {
        const int64_t rows = b1 - b0;
        at::BFloat16* a_rows_bf16 = a_bf16_data ? a_bf16_data + b0 * k_max : nullptr;
        const scalar_t* h_rec_rows = h_prev + b0 * P;  // h as the recurrent product sees it
        if (h_mask) {
          at::vec::map2<scalar_t>([](auto h, auto mask) { return h * mask; }, h_rec_data + b0 * P, h_prev + b0 * P,
                                  h_mask + b0 * P, rows * P);
          h_rec_rows = h_rec_data + b0 * P;
        }
        if (layernorm) {  // preact = LN(x W_ih^T) * g_ih + bias + LN(h_rec W_hh^T) * g_hh, each LN per row over GH
          scalar_t* rec = xhat_hh + kept * B * GH;
          w_hh_t.mul(rows, h_rec_rows, P, rec + b0 * GH, GH, false, a_rows_bf16);
          input_norm_rows<scalar_t>(b0, b1, GH, pre_x_t, ln_gain_ih, bias, mean_ih + kept * B, rstd_ih + kept * B,
                                    preact);
          recurrent_norm_rows<scalar_t>(b0, b1, GH, preact, rec, ln_gain_hh, rstd_hh + kept * B, preact);
        } else {  // preact = x W_ih^T + bias + h_rec W_hh^T
          if (bias) {
            for (int64_t b = b0; b < b1; ++b)
              at::vec::map2<scalar_t>([](auto x, auto y) { return x + y; }, preact + b * GH, pre_x_t + b * GH, bias,
                                      GH);
          } else {
            std::copy(pre_x_t + b0 * GH, pre_x_t + b1 * GH, preact + b0 * GH);
          }
          w_hh_t.mul(rows, h_rec_rows, P, preact + b0 * GH, GH, true, a_rows_bf16);
        }
        forward_rows<scalar_t, PEEP, CIFG>(b0, b1, H, step, peep, cell_norm);
        if (projection) {  // h_t = m_t W_hr^T (B, P), then zoneout/lengths on the P units
          w_hr_t.mul(rows, m_t + b0 * H, H, projected_data + b0 * P, P, false, a_rows_bf16);
          projected_h_rows<scalar_t>(b0, b1, P, projected_data, h_prev, zoneout_h_t, valid_t, h_next,
                                     out + t * B * P);
        }
        release_tiles(bf16);
      });
    }
  });
}

}  // namespace

ForwardResult fused_forward(const Tensor& pre_x, const Tensor& h0, const Tensor& c0, const LayerWeights& weights,
                            const LayerMasks& masks, LayerFlags flags) {
  TORCH_CHECK(pre_x.dim() == 3 && pre_x.is_contiguous(), "pre_x must be contiguous (T, B, G*H)");
  const int64_t T = pre_x.size(0), B = pre_x.size(1), GH = pre_x.size(2), H = c0.size(1), P = h0.size(1);
  const int64_t G = flags.cifg ? 3 : 4;
  const bool projection = weights.w_hr.numel() > 0, layernorm = weights.ln_gain_hh.numel() > 0;
  TORCH_CHECK(GH == G * H, "pre_x has ", GH, " columns, expected ", G * H);
  TORCH_CHECK(projection || P == H, "h0 has ", P, " columns, expected ", H);
  flags.bf16 = flags.bf16 && pre_x.scalar_type() == at::kFloat && brgemm_bf16();
  const auto options = pre_x.options();
  ForwardResult result;
  result.output = buffer({T, B, P}, options);
  result.record = allocate_record(T, B, GH, H, P, projection, layernorm, flags.save, options);
  result.record.h_states[0].copy_(h0);
  result.record.c_states[0].copy_(c0);
  AT_DISPATCH_FLOATING_TYPES(pre_x.scalar_type(), "lstm_fused_forward", [&] {
    run_forward<scalar_t>(pre_x, weights, masks, flags, result.output, result.record);
  });
  const int64_t last = flags.save ? T : T % 2;
  result.h_n = result.record.h_states[last].clone();
  result.c_n = result.record.c_states[last].clone();
  return result;
}

}  // namespace lstmkit
