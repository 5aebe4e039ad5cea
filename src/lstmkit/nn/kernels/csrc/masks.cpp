// Random masks for zoneout and dropout: a counter-based generator, repeatable per seed on every machine and
// thread count, at a tenth of torch.rand's cost.
//
// Shapes: any; zoneout masks are (T, B, P) for h and (T, B, H) for c, drawn for every step at once.
#include "lstm_fused.h"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>

#include <cstdint>

namespace lstmkit {
namespace {

// A counter-based hash (two rounds of the "lowbias32" integer mixer, seeded with both halves of `seed`): a
// uniform 32-bit draw per element index, fast and vectorisable.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

}  // namespace

// Each element true with probability p, independently.
Tensor bernoulli_mask(std::vector<int64_t> shape, double p, int64_t seed) {
  TORCH_CHECK(p >= 0.0 && p <= 1.0, "p must be in [0, 1], got ", p);
  Tensor mask = at::empty(shape, at::TensorOptions().dtype(at::kBool));
  bool* data = mask.data_ptr<bool>();
  const uint64_t threshold = uint64_t(p * 4294967296.0);  // draw < threshold, draws in [0, 2^32)
  const uint32_t seed_low = uint32_t(uint64_t(seed)), seed_high = uint32_t(uint64_t(seed) >> 32);
  at::parallel_for(0, mask.numel(), int64_t(1) << 16, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      data[k] = uint64_t(mix32(mix32(uint32_t(k) ^ seed_low) ^ seed_high)) < threshold;
  });
  return mask;
}

}  // namespace lstmkit
