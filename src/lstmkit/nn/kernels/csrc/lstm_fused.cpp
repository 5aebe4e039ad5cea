// Fused CPU kernel for one LSTM layer in one direction (lstmkit issue 5, first increment).
//
// Forward: per step one recurrent product (addmm into a preallocated buffer) and one fused, vectorised
// pointwise pass over (B, G*H). Backward: hand-derived BPTT, per step one fused pointwise pass and one
// product with W_hh; dW_hh and the peephole gradients as large products/reductions over all steps.
// The input projection (and its gradients) stays on the Python side.
//
// Variants: peephole, cifg; zoneout on h and c, variational mask on h, per-sequence lengths.
// Absent optional tensors are passed as empty tensors (numel() == 0).
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
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

int64_t grain_for(int64_t H) { return std::max<int64_t>(1, 32768 / std::max<int64_t>(H, 1)); }

// ---------------------------------------------------------------------------------------------
// Forward pointwise pass for rows [b0, b1) of step t.
template <typename scalar_t, bool PEEP, bool CIFG>
void fwd_rows(int64_t b0, int64_t b1, int64_t H,
              const scalar_t* pre,        // (B, G*H): pre_x[t] + h_rec @ W_hh^T
              const scalar_t* hprev, const scalar_t* cprev,   // (B, H)
              const scalar_t* wci, const scalar_t* wcf, const scalar_t* wco,
              const scalar_t* zh, const scalar_t* zc,         // (B, H) or null
              const scalar_t* valid,                          // (B) or null
              scalar_t* gates, scalar_t* hnext, scalar_t* cnext, scalar_t* cnew, scalar_t* tanhc, scalar_t* out) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t G = CIFG ? 3 : 4;
  constexpr int64_t W = V::size();
  const V one(scalar_t(1)), zero(scalar_t(0));
  const int64_t oi = 0, of = CIFG ? 0 : 1, og = CIFG ? 1 : 2, oo = CIFG ? 2 : 3;
  for (int64_t b = b0; b < b1; ++b) {
    const scalar_t* p = pre + b * G * H;
    const scalar_t* hp = hprev + b * H;
    const scalar_t* cp = cprev + b * H;
    scalar_t* gt = gates + b * G * H;
    scalar_t* hn_ = hnext + b * H;
    scalar_t* cn_ = cnext + b * H;
    scalar_t* cw = cnew + b * H;
    scalar_t* tc_ = tanhc + b * H;
    scalar_t* ou = out + b * H;
    if (valid && valid[b] == scalar_t(0)) {  // past this sequence's length: state frozen, output zero
      std::copy(hp, hp + H, hn_);
      std::copy(cp, cp + H, cn_);
      std::fill(ou, ou + H, scalar_t(0));
      std::fill(gt, gt + G * H, scalar_t(0));
      std::fill(cw, cw + H, scalar_t(0));
      std::fill(tc_, tc_ + H, scalar_t(0));
      continue;
    }
    const scalar_t* zhb = zh ? zh + b * H : nullptr;
    const scalar_t* zcb = zc ? zc + b * H : nullptr;
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
      V tc = cn.tanh();
      V hn = o * tc;
      st(f, gt + of * H + j, n);
      st(g, gt + og * H + j, n);
      st(o, gt + oo * H + j, n);
      st(cn, cw + j, n);
      st(tc, tc_ + j, n);
      V cz = cn, hz = hn;
      if (zcb) cz = V::blendv(cn, c0, ld(zcb + j, n) != zero);
      if (zhb) hz = V::blendv(hn, ld(hp + j, n), ld(zhb + j, n) != zero);
      st(cz, cn_ + j, n);
      st(hz, hn_ + j, n);
      st(hz, ou + j, n);
    }
  }
}

// Backward pointwise pass for rows [b0, b1) of step t. dh, dc (B, H) hold dL/dh_t, dL/dc_t on entry and the
// direct parts of dL/dh_{t-1} (everything except the recurrent product) and dL/dc_{t-1} on exit.
template <typename scalar_t, bool PEEP, bool CIFG>
void bwd_rows(int64_t b0, int64_t b1, int64_t H,
              const scalar_t* dout,                           // (B, H) or null
              const scalar_t* gates, const scalar_t* cprev, const scalar_t* tanhc,
              const scalar_t* wci, const scalar_t* wcf, const scalar_t* wco,
              const scalar_t* zh, const scalar_t* zc, const scalar_t* valid,
              scalar_t* dh, scalar_t* dc, scalar_t* dpre) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t G = CIFG ? 3 : 4;
  constexpr int64_t W = V::size();
  const V one(scalar_t(1)), zero(scalar_t(0));
  const int64_t oi = 0, of = CIFG ? 0 : 1, og = CIFG ? 1 : 2, oo = CIFG ? 2 : 3;
  for (int64_t b = b0; b < b1; ++b) {
    scalar_t* dp = dpre + b * G * H;
    if (valid && valid[b] == scalar_t(0)) {  // frozen step: gradients pass straight through
      std::fill(dp, dp + G * H, scalar_t(0));
      continue;
    }
    const scalar_t* gt = gates + b * G * H;
    const scalar_t* cp = cprev + b * H;
    const scalar_t* tcb = tanhc + b * H;
    const scalar_t* dob = dout ? dout + b * H : nullptr;
    const scalar_t* zhb = zh ? zh + b * H : nullptr;
    const scalar_t* zcb = zc ? zc + b * H : nullptr;
    scalar_t* dhb = dh + b * H;
    scalar_t* dcb = dc + b * H;
    for (int64_t j = 0; j < H; j += W) {
      const int64_t n = std::min<int64_t>(W, H - j);
      V dhz = ld(dhb + j, n);
      if (dob) dhz = dhz + ld(dob + j, n);
      V dh_prev = zero, dhn = dhz;
      if (zhb) {
        V m = ld(zhb + j, n) != zero;
        dh_prev = V::blendv(zero, dhz, m);
        dhn = V::blendv(dhz, zero, m);
      }
      V dcz = ld(dcb + j, n);
      V dc_prev = zero, dcn = dcz;
      if (zcb) {
        V m = ld(zcb + j, n) != zero;
        dc_prev = V::blendv(zero, dcz, m);
        dcn = V::blendv(dcz, zero, m);
      }
      V c0 = ld(cp + j, n);
      V f = ld(gt + of * H + j, n);
      V g = ld(gt + og * H + j, n);
      V o = ld(gt + oo * H + j, n);
      V i = CIFG ? one - f : ld(gt + oi * H + j, n);
      V tc = ld(tcb + j, n);
      V d_o = dhn * tc;
      dcn = dcn + dhn * o * (one - tc * tc);
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
      st(dh_prev, dhb + j, n);
      st(dc_prev, dcb + j, n);
    }
  }
}

template <typename F>
void dispatch_flags(bool peep, bool cifg, F&& f) {
  if (peep) {
    if (cifg) f(std::true_type{}, std::true_type{}); else f(std::true_type{}, std::false_type{});
  } else {
    if (cifg) f(std::false_type{}, std::true_type{}); else f(std::false_type{}, std::false_type{});
  }
}

}  // namespace

// Returns output (T,B,H), h_n (B,H), c_n (B,H), gates (T,B,G*H) post-activation, h_states (T+1,B,H),
// c_states (T+1,B,H), c_new (T,B,H) pre-zoneout, tanh_c (T,B,H).
std::vector<Tensor> fused_forward(const Tensor& pre_x, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                                  const Tensor& wci, const Tensor& wcf, const Tensor& wco, const Tensor& h_mask,
                                  const Tensor& zh, const Tensor& zc, const Tensor& valid, bool peephole,
                                  bool cifg) {
  TORCH_CHECK(pre_x.dim() == 3 && pre_x.is_contiguous(), "pre_x must be contiguous (T, B, G*H)");
  const int64_t T = pre_x.size(0), B = pre_x.size(1), GH = pre_x.size(2), H = h0.size(1);
  const int64_t G = cifg ? 3 : 4;
  TORCH_CHECK(GH == G * H, "pre_x has ", GH, " columns, expected ", G * H);
  auto opts = pre_x.options();
  Tensor output = at::empty({T, B, H}, opts);
  Tensor gates = at::empty({T, B, GH}, opts);
  Tensor h_states = at::empty({T + 1, B, H}, opts);
  Tensor c_states = at::empty({T + 1, B, H}, opts);
  Tensor c_new = at::empty({T, B, H}, opts);
  Tensor tanh_c = at::empty({T, B, H}, opts);
  h_states[0].copy_(h0);
  c_states[0].copy_(c0);
  Tensor w_t = w_hh.t();
  Tensor hrec = h_mask.numel() ? at::empty({B, H}, opts) : Tensor();
  const int64_t grain = grain_for(H);
  AT_DISPATCH_FLOATING_TYPES(pre_x.scalar_type(), "lstm_fused_forward", [&] {
    const scalar_t* wci_p = static_cast<const scalar_t*>(opt_ptr(wci));
    const scalar_t* wcf_p = static_cast<const scalar_t*>(opt_ptr(wcf));
    const scalar_t* wco_p = static_cast<const scalar_t*>(opt_ptr(wco));
    const scalar_t* zh_p = static_cast<const scalar_t*>(opt_ptr(zh));
    const scalar_t* zc_p = static_cast<const scalar_t*>(opt_ptr(zc));
    const scalar_t* valid_p = static_cast<const scalar_t*>(opt_ptr(valid));
    dispatch_flags(peephole, cifg, [&](auto peep_c, auto cifg_c) {
      constexpr bool PEEP = decltype(peep_c)::value;
      constexpr bool CIFG = decltype(cifg_c)::value;
      for (int64_t t = 0; t < T; ++t) {
        Tensor h = h_states[t];
        Tensor gt = gates[t];  // the pre-activations land here, then the pointwise pass overwrites them
        if (h_mask.numel()) {
          at::mul_out(hrec, h, h_mask);
          at::addmm_out(gt, pre_x[t], hrec, w_t);
        } else {
          at::addmm_out(gt, pre_x[t], h, w_t);
        }
        scalar_t* gp = gt.data_ptr<scalar_t>();
        const scalar_t* hp = h.data_ptr<scalar_t>();
        const scalar_t* cp = c_states[t].data_ptr<scalar_t>();
        scalar_t* hn = h_states[t + 1].data_ptr<scalar_t>();
        scalar_t* cn = c_states[t + 1].data_ptr<scalar_t>();
        scalar_t* cw = c_new[t].data_ptr<scalar_t>();
        scalar_t* tc = tanh_c[t].data_ptr<scalar_t>();
        scalar_t* ou = output[t].data_ptr<scalar_t>();
        const scalar_t* zht = zh_p ? zh_p + t * B * H : nullptr;
        const scalar_t* zct = zc_p ? zc_p + t * B * H : nullptr;
        const scalar_t* vt = valid_p ? valid_p + t * B : nullptr;
        at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
          // in place: each row reads its pre-activations before writing its gates
          fwd_rows<scalar_t, PEEP, CIFG>(b0, b1, H, gp, hp, cp, wci_p, wcf_p, wco_p, zht, zct, vt, gp, hn, cn,
                                         cw, tc, ou);
        });
      }
    });
  });
  Tensor h_n = h_states[T].clone();
  Tensor c_n = c_states[T].clone();
  return {output, h_n, c_n, gates, h_states, c_states, c_new, tanh_c};
}

// Returns d_pre_x (T,B,G*H), dh0, dc0, dW_hh (G*H,H), dwci, dwcf, dwco (empty when no peephole).
std::vector<Tensor> fused_backward(const Tensor& dout, const Tensor& dh_n, const Tensor& dc_n, const Tensor& w_hh,
                                   const Tensor& wci, const Tensor& wcf, const Tensor& wco, const Tensor& h_mask,
                                   const Tensor& zh, const Tensor& zc, const Tensor& valid, const Tensor& gates,
                                   const Tensor& h_states, const Tensor& c_states, const Tensor& c_new,
                                   const Tensor& tanh_c, bool peephole, bool cifg) {
  const int64_t T = gates.size(0), B = gates.size(1), GH = gates.size(2), H = h_states.size(2);
  auto opts = gates.options();
  Tensor dpre = at::empty({T, B, GH}, opts);
  Tensor dh = dh_n.numel() ? dh_n.clone() : at::zeros({B, H}, opts);
  Tensor dc = dc_n.numel() ? dc_n.clone() : at::zeros({B, H}, opts);
  Tensor tmp = h_mask.numel() ? at::empty({B, H}, opts) : Tensor();
  const int64_t grain = grain_for(H);
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstm_fused_backward", [&] {
    const scalar_t* wci_p = static_cast<const scalar_t*>(opt_ptr(wci));
    const scalar_t* wcf_p = static_cast<const scalar_t*>(opt_ptr(wcf));
    const scalar_t* wco_p = static_cast<const scalar_t*>(opt_ptr(wco));
    const scalar_t* zh_p = static_cast<const scalar_t*>(opt_ptr(zh));
    const scalar_t* zc_p = static_cast<const scalar_t*>(opt_ptr(zc));
    const scalar_t* valid_p = static_cast<const scalar_t*>(opt_ptr(valid));
    const scalar_t* dout_p = static_cast<const scalar_t*>(opt_ptr(dout));
    scalar_t* dh_p = dh.data_ptr<scalar_t>();
    scalar_t* dc_p = dc.data_ptr<scalar_t>();
    dispatch_flags(peephole, cifg, [&](auto peep_c, auto cifg_c) {
      constexpr bool PEEP = decltype(peep_c)::value;
      constexpr bool CIFG = decltype(cifg_c)::value;
      for (int64_t t = T - 1; t >= 0; --t) {
        Tensor dp = dpre[t];
        scalar_t* dpp = dp.data_ptr<scalar_t>();
        const scalar_t* gp = gates.data_ptr<scalar_t>() + t * B * GH;
        const scalar_t* cp = c_states.data_ptr<scalar_t>() + t * B * H;
        const scalar_t* tc = tanh_c.data_ptr<scalar_t>() + t * B * H;
        const scalar_t* dot = dout_p ? dout_p + t * B * H : nullptr;
        const scalar_t* zht = zh_p ? zh_p + t * B * H : nullptr;
        const scalar_t* zct = zc_p ? zc_p + t * B * H : nullptr;
        const scalar_t* vt = valid_p ? valid_p + t * B : nullptr;
        at::parallel_for(0, B, grain, [&](int64_t b0, int64_t b1) {
          bwd_rows<scalar_t, PEEP, CIFG>(b0, b1, H, dot, gp, cp, tc, wci_p, wcf_p, wco_p, zht, zct, vt, dh_p, dc_p,
                                         dpp);
        });
        if (h_mask.numel()) {
          at::mm_out(tmp, dp, w_hh);
          dh.addcmul_(tmp, h_mask);
        } else {
          dh.addmm_(dp, w_hh);
        }
      }
    });
  });
  Tensor h_prev = h_states.narrow(0, 0, T);
  if (h_mask.numel()) h_prev = h_prev * h_mask;
  Tensor dw_hh = at::mm(dpre.view({T * B, GH}).t(), h_prev.reshape({T * B, H}));
  Tensor dwci, dwcf, dwco;
  if (peephole) {
    Tensor cprev = c_states.narrow(0, 0, T);
    const int64_t of = cifg ? 0 : 1, oo = cifg ? 2 : 3;
    if (!cifg) dwci = (dpre.narrow(2, 0, H) * cprev).sum({0, 1});
    dwcf = (dpre.narrow(2, of * H, H) * cprev).sum({0, 1});
    dwco = (dpre.narrow(2, oo * H, H) * c_new).sum({0, 1});
  }
  auto def = [&](const Tensor& t) { return t.defined() ? t : at::empty({0}, opts); };
  return {dpre, dh, dc, dw_hh, def(dwci), def(dwcf), def(dwco)};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &fused_forward, "fused LSTM layer forward (CPU)");
  m.def("backward", &fused_backward, "fused LSTM layer backward (CPU)");
}
