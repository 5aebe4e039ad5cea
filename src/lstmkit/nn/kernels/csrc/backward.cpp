// The backward pass of the fused layer: hand-derived BPTT, step after step from the last, each step's rows split
// into tasks across torch's threads.
//
// Shapes: T steps, B rows, G gates, H hidden units, P = size of h; GH = G*H. Per step and block of rows:
//   projection:  d_h_new (B, P) from dL/dh_t through zoneout and lengths; dL/dm_t (B, H) = d_h_new W_hr
//   the pointwise pass (pointwise.h): d_preact (B, GH) = dL/d(gate pre-activations), dL/dc_{t-1}
//   layernorm:   both gate layer norms' backward: d_rec = dL/d(h_rec W_hh^T), d_pre_x = dL/d(x W_ih^T)
//   dL/dh_{t-1} += d_rec W_hh (B, P) (times h_mask with recurrent dropout)
// The bias, peephole and layer-norm gradients are summed per row block while each step's rows are in cache;
// dW_hh (GH, P) = sum over t of d_rec_t^T h_rec_{t-1}, and dW_hr (P, H) = sum over t of d_h_new_t^T m_t, follow
// as one large product each over all steps.
#include "lstm_fused.h"
#include "pointwise.h"
#include "products.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>

namespace lstmkit {
namespace {

// Where each gradient summed per row block lies in its block's row of sums, each part only with its variant:
// [w_ci, w_cf, w_co (H each) | ln_gain_hh (GH), ln_gain_c (H), ln_bias_c (H), ln_gain_ih (GH) | bias (GH)].
struct SumsLayout {
  int64_t peephole = 0, ln_gain_hh = 0, ln_gain_c = 0, ln_bias_c = 0, ln_gain_ih = 0, bias = 0, width = 0;

  SumsLayout(int64_t GH, int64_t H, bool has_peephole, bool layernorm, bool has_bias) {
    const int64_t n_peephole = has_peephole ? 3 * H : 0, n_layernorm = layernorm ? 2 * GH + 2 * H : 0;
    ln_gain_hh = n_peephole;
    ln_gain_c = ln_gain_hh + GH;
    ln_bias_c = ln_gain_c + H;
    ln_gain_ih = ln_bias_c + H;
    bias = n_peephole + n_layernorm;
    width = bias + (has_bias ? GH : 0);
  }
};

// The backward's buffers. With layernorm, d_preact holds one step only, as the layer norms' backward takes it
// over into d_rec and d_pre_x; without, all three are one (T, B, GH) tensor.
struct BackwardBuffers {
  Tensor d_preact;   // dL/d(gate pre-activations)
  Tensor d_rec;      // (T, B, GH) dL/d(h_rec W_hh^T)
  Tensor d_pre_x;    // (T, B, GH) dL/d(x W_ih^T)
  Tensor d_c_out;    // (T, B, H) layernorm: dL/dc_out (the cell layer norm's output)
  Tensor d_c_new;    // (B, H) layernorm: scratch for dL/dc_new
  Tensor d_h_new;    // (T, B, P) projection: dL/dh_new (before zoneout)
  Tensor d_m;        // (B, H) projection: dL/dm_t = d_h_new W_hr
  Tensor d_h_rec;    // (B, P) recurrent dropout: d_rec W_hh before the mask
  Tensor d_h;        // (B, P) dL/dh_t, becoming dL/dh_{t-1}
  Tensor d_c;        // (B, H) dL/dc_t, becoming dL/dc_{t-1}
  Tensor sums;       // (row blocks, SumsLayout::width), added in block order
  Tensor a_bf16;     // rows rounded to bf16 for bf16 products
  int64_t k_max = 0;  // a_bf16's columns per row
};

BackwardBuffers allocate_buffers(const Tensor& d_h_n, const Tensor& d_c_n, int64_t T, int64_t B, int64_t GH,
                                 int64_t H, int64_t P, bool projection, bool layernorm, bool h_mask,
                                 const SumsLayout& sums, bool bf16, const at::TensorOptions& options) {
  const Tensor empty = at::empty({0}, options);
  BackwardBuffers buffers;
  buffers.d_preact = layernorm ? buffer({B, GH}, options) : buffer({T, B, GH}, options);
  buffers.d_rec = layernorm ? buffer({T, B, GH}, options) : buffers.d_preact;
  buffers.d_pre_x = layernorm ? buffer({T, B, GH}, options) : buffers.d_preact;
  buffers.d_c_out = layernorm ? buffer({T, B, H}, options) : empty;
  buffers.d_c_new = layernorm ? buffer({B, H}, options) : empty;
  buffers.d_h_new = projection ? buffer({T, B, P}, options) : empty;
  buffers.d_m = projection ? buffer({B, H}, options) : empty;
  buffers.d_h_rec = h_mask ? buffer({B, P}, options) : empty;
  buffers.d_h = d_h_n.numel() ? d_h_n.clone() : buffer({B, P}, options).zero_();
  buffers.d_c = d_c_n.numel() ? d_c_n.clone() : buffer({B, H}, options).zero_();
  buffers.sums = buffer({row_blocks(B), sums.width}, options).zero_();
  buffers.k_max = (std::max(GH, P) + 1) / 2 * 2;
  buffers.a_bf16 = buffer({bf16 ? B * buffers.k_max : 0}, options.dtype(at::kBFloat16));
  return buffers;
}

template <typename scalar_t>
void run_backward(const Tensor& d_output, const LayerWeights& weights, const LayerMasks& masks,
                  const ForwardRecord& record, const Tensor& pre_x, const LayerFlags& flags, const SumsLayout& layout,
                  BackwardBuffers& buffers) {
  const int64_t T = record.gates.size(0), B = record.gates.size(1), GH = record.gates.size(2),
                H = record.c_states.size(2), P = record.h_states.size(2);
  const bool projection = weights.w_hr.numel() > 0, layernorm = weights.ln_gain_hh.numel() > 0;
  const bool has_bias = weights.bias.numel() > 0, bf16 = flags.bf16;
  const RightMat<scalar_t> w_hh(weights.w_hh, bf16);  // (GH, P)
  const RightMat<scalar_t> w_hr = projection ? RightMat<scalar_t>(weights.w_hr, bf16) : RightMat<scalar_t>();  // (P, H)
  auto read = [](const Tensor& t) { return data_or_null<scalar_t>(t); };  // null when absent
  auto write = [](const Tensor& t) { return mutable_data_or_null<scalar_t>(t); };
  const Peepholes<scalar_t> peep{read(weights.peep_i), read(weights.peep_f), read(weights.peep_o)};
  const scalar_t* ln_gain_hh = read(weights.ln_gain_hh);
  const scalar_t* ln_gain_c = read(weights.ln_gain_c);
  const scalar_t* ln_gain_ih = read(weights.ln_gain_ih);
  const scalar_t* h_mask = read(masks.h_mask);
  const scalar_t* zoneout_h = read(masks.zoneout_h);
  const scalar_t* zoneout_c = read(masks.zoneout_c);
  const scalar_t* valid = read(masks.valid);
  const scalar_t* d_out = read(d_output);
  const scalar_t* gates = read(record.gates);
  const scalar_t* c_states = read(record.c_states);
  const scalar_t* tanh_c = read(record.tanh_c);
  const scalar_t* c_new = read(record.c_new);
  const scalar_t* xhat_hh = read(record.xhat_hh);
  const scalar_t* rstd_hh = read(record.rstd_hh);
  const scalar_t* mean_ih = read(record.mean_ih);
  const scalar_t* rstd_ih = read(record.rstd_ih);
  const scalar_t* c_hat = read(record.c_hat);
  const scalar_t* rstd_c = read(record.rstd_c);
  const scalar_t* pre_x_data = read(pre_x);
  scalar_t* d_h = write(buffers.d_h);
  scalar_t* d_c = write(buffers.d_c);
  scalar_t* d_preact = write(buffers.d_preact);
  scalar_t* d_rec = write(buffers.d_rec);
  scalar_t* d_pre_x = write(buffers.d_pre_x);
  scalar_t* d_c_out = write(buffers.d_c_out);
  scalar_t* d_c_new = write(buffers.d_c_new);
  scalar_t* d_h_new = write(buffers.d_h_new);
  scalar_t* d_m = write(buffers.d_m);
  scalar_t* d_h_rec = write(buffers.d_h_rec);
  scalar_t* sums = write(buffers.sums);
  at::BFloat16* a_bf16 = bf16 ? buffers.a_bf16.mutable_data_ptr<at::BFloat16>() : nullptr;
  const int64_t k_max = buffers.k_max;

  dispatch_flags(flags.peephole, flags.cifg, [&](auto peephole_c, auto cifg_c) {
    constexpr bool PEEP = decltype(peephole_c)::value;
    constexpr bool CIFG = decltype(cifg_c)::value;
    using Blocks = GateBlocks<CIFG>;
    for (int64_t t = T - 1; t >= 0; --t) {
      scalar_t* d_preact_t = layernorm ? d_preact : d_preact + t * B * GH;
      scalar_t* d_rec_t = d_rec + t * B * GH;
      const scalar_t* d_out_t = d_out ? d_out + t * B * P : nullptr;
      const scalar_t* zoneout_h_t = zoneout_h ? zoneout_h + t * B * P : nullptr;
      const scalar_t* valid_t = valid ? valid + t * B : nullptr;
      const scalar_t* c_prev_t = c_states + t * B * H;
      scalar_t* d_h_new_t = projection ? d_h_new + t * B * P : nullptr;
      BackwardStep<scalar_t> step;
      step.d_output = projection ? nullptr : d_out_t;
      step.gates = gates + t * B * GH;
      step.c_prev = c_prev_t;
      step.tanh_c = tanh_c + t * B * H;
      step.zoneout_h = projection ? nullptr : zoneout_h_t;
      step.zoneout_c = zoneout_c ? zoneout_c + t * B * H : nullptr;
      step.valid = valid_t;
      step.d_h = projection ? d_m : d_h;
      step.d_h_prev = projection ? nullptr : d_h;
      step.d_c = d_c;
      step.d_c_out = layernorm ? d_c_out + t * B * H : nullptr;
      step.d_preact = d_preact_t;
      CellNorm<scalar_t> cell_norm;
      if (layernorm) {
        cell_norm.gain = ln_gain_c;
        cell_norm.c_hat = const_cast<scalar_t*>(c_hat) + t * B * H;
        cell_norm.rstd = const_cast<scalar_t*>(rstd_c) + t * B;
        cell_norm.d_c_new = d_c_new;
      }
      for_row_blocks(B, [&](int64_t block, int64_t b0, int64_t b1) {
        const int64_t rows = b1 - b0;
        at::BFloat16* a_rows_bf16 = a_bf16 ? a_bf16 + b0 * k_max : nullptr;
        if (projection) {  // d_h_new on the P units, then dL/dm_t = d_h_new W_hr (B, H)
          projected_h_backward_rows<scalar_t>(b0, b1, P, d_out_t, zoneout_h_t, valid_t, d_h, d_h_new_t);
          w_hr.mul(rows, d_h_new_t + b0 * P, P, d_m + b0 * H, H, false, a_rows_bf16);
        }
        backward_rows<scalar_t, PEEP, CIFG>(b0, b1, H, step, peep, cell_norm);
        scalar_t* block_sums = sums + block * layout.width;
        if (PEEP) {  // dw_ci += d_i_pre * c_{t-1}, dw_cf += d_f_pre * c_{t-1}, dw_co += d_o_pre * c_new
          for (int64_t b = b0; b < b1; ++b) {
            const scalar_t* c_old = c_prev_t + b * H;
            const scalar_t* d_row = d_preact_t + b * GH;
            if (!CIFG) add_product(block_sums + layout.peephole, d_row + Blocks::i * H, c_old, H);
            add_product(block_sums + layout.peephole + H, d_row + Blocks::f * H, c_old, H);
            add_product(block_sums + layout.peephole + 2 * H, d_row + Blocks::o * H, c_new + (t * B + b) * H, H);
          }
        }
        if (layernorm) {  // through both gate layer norms, per row over GH: d_rec_t and d_pre_x_t from d_preact_t
          scalar_t* sum_bias = has_bias ? block_sums + layout.bias : nullptr;
          for (int64_t b = b0; b < b1; ++b) {
            const int64_t row = (t * B + b) * GH;
            const GateNormsRow<scalar_t> norms{xhat_hh + row, ln_gain_hh, rstd_hh[t * B + b], pre_x_data + row,
                                               mean_ih[t * B + b], rstd_ih[t * B + b], ln_gain_ih};
            gate_norms_backward_row<scalar_t>(GH, d_preact_t + b * GH, norms, d_rec_t + b * GH, d_pre_x + row,
                                              block_sums + layout.ln_gain_hh, block_sums + layout.ln_gain_ih,
                                              sum_bias);
            const scalar_t* d_c_out_row = step.d_c_out + b * H;
            add_product(block_sums + layout.ln_gain_c, d_c_out_row, c_hat + (t * B + b) * H, H);
            add_product<scalar_t>(block_sums + layout.ln_bias_c, d_c_out_row, nullptr, H);
          }
        } else if (has_bias) {
          for (int64_t b = b0; b < b1; ++b)
            add_product<scalar_t>(block_sums + layout.bias, d_preact_t + b * GH, nullptr, GH);
        }
        if (h_mask) {  // d_h += (d_rec W_hh) * mask
          w_hh.mul(rows, d_rec_t + b0 * GH, GH, d_h_rec + b0 * P, P, false, a_rows_bf16);
          for (int64_t k = b0 * P; k < b1 * P; ++k) d_h[k] += d_h_rec[k] * h_mask[k];
        } else {  // d_h += d_rec W_hh
          w_hh.mul(rows, d_rec_t + b0 * GH, GH, d_h + b0 * P, P, true, a_rows_bf16);
        }
        release_tiles(bf16);
      });
    }
  });
}

}  // namespace

LayerGrads fused_backward(const Tensor& d_output, const Tensor& d_h_n, const Tensor& d_c_n,
                          const LayerWeights& weights, const LayerMasks& masks, const ForwardRecord& record,
                          const Tensor& pre_x, LayerFlags flags) {
  const int64_t T = record.gates.size(0), B = record.gates.size(1), GH = record.gates.size(2),
                H = record.c_states.size(2), P = record.h_states.size(2);
  const bool projection = weights.w_hr.numel() > 0, layernorm = weights.ln_gain_hh.numel() > 0;
  const bool has_bias = weights.bias.numel() > 0, has_mask = masks.h_mask.numel() > 0;
  flags.bf16 = flags.bf16 && record.gates.scalar_type() == at::kFloat && brgemm_bf16();
  const auto options = record.gates.options();
  const SumsLayout layout(GH, H, flags.peephole, layernorm, has_bias);
  BackwardBuffers buffers =
      allocate_buffers(d_h_n, d_c_n, T, B, GH, H, P, projection, layernorm, has_mask, layout, flags.bf16, options);
  AT_DISPATCH_FLOATING_TYPES(record.gates.scalar_type(), "lstm_fused_backward", [&] {
    run_backward<scalar_t>(d_output, weights, masks, record, pre_x, flags, layout, buffers);
  });

  const Tensor empty = at::empty({0}, options);
  LayerGrads grads;
  grads.pre_x = buffers.d_pre_x;
  grads.h0 = buffers.d_h;
  grads.c0 = buffers.d_c;
  LayerWeights& dw = grads.weights;
  dw = LayerWeights{empty, empty, empty, empty, empty, empty, empty, empty, empty, empty};
  Tensor h_rec = record.h_states.narrow(0, 0, T);  // h_{t-1} as the recurrent product saw it
  if (has_mask) h_rec = h_rec * masks.h_mask;
  dw.w_hh = weight_grad(buffers.d_rec.view({T * B, GH}), h_rec.reshape({T * B, P}), flags.bf16);  // (GH, P)
  if (projection)  // (P, H)
    dw.w_hr = weight_grad(buffers.d_h_new.view({T * B, P}), record.m.view({T * B, H}), flags.bf16);
  const Tensor total = buffers.sums.sum(0);
  if (flags.peephole) {
    if (!flags.cifg) dw.peep_i = total.narrow(0, layout.peephole, H);
    dw.peep_f = total.narrow(0, layout.peephole + H, H);
    dw.peep_o = total.narrow(0, layout.peephole + 2 * H, H);
  }
  if (layernorm) {
    dw.ln_gain_hh = total.narrow(0, layout.ln_gain_hh, GH);
    dw.ln_gain_c = total.narrow(0, layout.ln_gain_c, H);
    dw.ln_bias_c = total.narrow(0, layout.ln_bias_c, H);
    dw.ln_gain_ih = total.narrow(0, layout.ln_gain_ih, GH);
  }
  if (has_bias) dw.bias = total.narrow(0, layout.bias, GH);
  return grads;
}

}  // namespace lstmkit
