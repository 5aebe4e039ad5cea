// Vector helpers of the pointwise passes and the layer norms: loads and stores of a whole or partial vector,
// the sigmoid, and sums over a row.
//
// Shapes: n elements of a row; W = Vectorized<scalar_t>::size() lanes (8 floats with AVX2, 16 with AVX-512).
// Loops step j over [0, n) by W, and the last step handles the n - j < W tail with partial loads and stores
// (a partial load fills the missing lanes with zeros).
#pragma once

#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cstdint>

namespace lstmkit {

using at::vec::Vectorized;

// n (<= W) elements from p; the lanes past n are zero
template <typename scalar_t>
inline Vectorized<scalar_t> load(const scalar_t* p, int64_t n) {
  return n == Vectorized<scalar_t>::size() ? Vectorized<scalar_t>::loadu(p) : Vectorized<scalar_t>::loadu(p, n);
}

// the first n (<= W) lanes of v to p
template <typename scalar_t>
inline void store(const Vectorized<scalar_t>& v, scalar_t* p, int64_t n) {
  if (n == Vectorized<scalar_t>::size()) v.store(p); else v.store(p, n);
}

template <typename scalar_t>
inline Vectorized<scalar_t> sigmoid(const Vectorized<scalar_t>& x) {
  const Vectorized<scalar_t> one(scalar_t(1));
  return one / (one + x.neg().exp());
}

// the sum of v's lanes, first to last
template <typename scalar_t>
inline scalar_t lane_sum(const Vectorized<scalar_t>& v) {
  constexpr int64_t W = Vectorized<scalar_t>::size();
  scalar_t lanes[W];
  v.store(lanes);
  scalar_t sum = 0;
  for (int64_t k = 0; k < W; ++k) sum += lanes[k];
  return sum;
}

// Sum of x[0:n): whole vectors lane by lane, then the lanes, then the tail.
template <typename scalar_t>
scalar_t row_sum(const scalar_t* x, int64_t n) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  V acc(scalar_t(0));
  int64_t j = 0;
  for (; j + W <= n; j += W) acc = acc + V::loadu(x + j);
  scalar_t sum = lane_sum(acc);
  for (; j < n; ++j) sum += x[j];
  return sum;
}

// sum[0:n) += a[0:n) * b[0:n), or += a[0:n) when b is null: gradient sums over rows and steps
template <typename scalar_t>
void add_product(scalar_t* sum, const scalar_t* a, const scalar_t* b, int64_t n) {
  using V = Vectorized<scalar_t>;
  constexpr int64_t W = V::size();
  for (int64_t j = 0; j < n; j += W) {
    const int64_t k = std::min<int64_t>(W, n - j);
    V term = b ? load(a + j, k) * load(b + j, k) : load(a + j, k);
    store(load(sum + j, k) + term, sum + j, k);
  }
}

}  // namespace lstmkit
