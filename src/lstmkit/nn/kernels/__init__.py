"""Kernels that execute an LSTM layer. They take tensors and a `CellSpec`, and know nothing of modules.

- `reference`: the equations as a loop over time in PyTorch ops; every variant, the readable
  specification and the test oracle.
- `native`: PyTorch's own fused LSTM (oneDNN on CPU, cuDNN on GPU), for vanilla stacks; `native.supports`
  says where it cannot run (bf16 autocast on a CPU without AVX-512).
- `fused`: lstmkit's C++ layer (`csrc/`, one file per concern), compiled on first use and cached: one
  recurrent product and one vectorised pointwise pass per step, and a hand-derived backward.
"""
