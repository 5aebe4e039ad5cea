// The Python module of the fused kernel (fused.py calls it): converts the argument tuples to the kernel's structs
// and back, and nothing else.
//
// Shapes: T steps, B rows, G gates, H hidden units, P = size of h; see lstm_fused.h for every tensor.
// Each tuple's order is that of its NamedTuple in fused.py: weights (FusedWeights, 10 tensors), masks
// (FusedMasks, 4), flags (FusedFlags, 4 bools), record (FusedRecord, 12).
// Only pybind11 and torch's type casters are included here, not torch/extension.h (the whole C++ frontend):
// that alone took most of the extension's build time.
#include <torch/csrc/utils/pybind.h>

#include "lstm_fused.h"

#include <array>

namespace lstmkit {
namespace {

using Weights = std::array<Tensor, 10>;
using Masks = std::array<Tensor, 4>;
using Flags = std::array<bool, 4>;
using Record = std::array<Tensor, 12>;

LayerWeights weights_of(const Weights& w) { return {w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9]}; }
LayerMasks masks_of(const Masks& m) { return {m[0], m[1], m[2], m[3]}; }
LayerFlags flags_of(const Flags& f) { return {f[0], f[1], f[2], f[3]}; }
ForwardRecord record_of(const Record& r) {
  return {r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]};
}
Record tuple_of(const ForwardRecord& r) {
  return {r.gates, r.h_states, r.c_states, r.c_new, r.tanh_c, r.m, r.xhat_hh, r.rstd_hh, r.c_hat, r.rstd_c,
          r.mean_ih, r.rstd_ih};
}
Weights tuple_of(const LayerWeights& w) {
  return {w.w_hh, w.bias, w.ln_gain_ih, w.peep_i, w.peep_f, w.peep_o, w.w_hr, w.ln_gain_hh, w.ln_gain_c, w.ln_bias_c};
}

// (output, h_n, c_n, record)
std::tuple<Tensor, Tensor, Tensor, Record> forward(const Tensor& pre_x, const Tensor& h0, const Tensor& c0,
                                                   const Weights& weights, const Masks& masks, const Flags& flags) {
  ForwardResult r = fused_forward(pre_x, h0, c0, weights_of(weights), masks_of(masks), flags_of(flags));
  return {r.output, r.h_n, r.c_n, tuple_of(r.record)};
}

// (d_pre_x, d_h0, d_c0, d_weights)
std::tuple<Tensor, Tensor, Tensor, Weights> backward(const Tensor& d_output, const Tensor& d_h_n, const Tensor& d_c_n,
                                                     const Weights& weights, const Masks& masks, const Record& record,
                                                     const Tensor& pre_x, const Flags& flags) {
  LayerGrads g = fused_backward(d_output, d_h_n, d_c_n, weights_of(weights), masks_of(masks), record_of(record), pre_x,
                                flags_of(flags));
  return {g.pre_x, g.h0, g.c0, tuple_of(g.weights)};
}

}  // namespace
}  // namespace lstmkit

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  using namespace lstmkit;
  m.def("forward", &forward, "fused LSTM layer forward (CPU)", py::arg("pre_x"), py::arg("h0"), py::arg("c0"),
        py::arg("weights"), py::arg("masks"), py::arg("flags"));
  m.def("backward", &backward, "fused LSTM layer backward (CPU)", py::arg("d_output"), py::arg("d_h_n"),
        py::arg("d_c_n"), py::arg("weights"), py::arg("masks"), py::arg("record"), py::arg("pre_x"), py::arg("flags"));
  m.def("weight_grad", [](const Tensor& dy, const Tensor& x, bool bf16) {
    return weight_grad(dy.contiguous(), x.contiguous(), bf16);
  }, "dy^T x: dy (N, O), x (N, I) -> (O, I), through oneDNN for fp32 (and bf16 where it has bf16) when torch has it",
  py::arg("dy"), py::arg("x"), py::arg("bf16") = false);
  m.def("rows_times", &rows_times, "x (N, K) @ b (K, M), through the micro-kernel in row blocks (bf16: bf16 operands)",
        py::arg("x"), py::arg("b"), py::arg("bf16") = false);
  m.def("bernoulli_mask", &bernoulli_mask, "bool mask of the shape, true with probability p; counter-based",
        py::arg("shape"), py::arg("p"), py::arg("seed"));
  m.def("bf16_products", &brgemm_bf16, "whether the products can take bf16 operands (the CPU has bf16 dot products)");
  m.def("onednn_bf16", &onednn_bf16, "whether oneDNN runs bf16 inner products here (else weight_grad's bf16 products "
        "are the bf16-rounded operands multiplied in fp32)");
}
