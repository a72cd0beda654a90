//===- OneDnnMatmul.cpp - the oneDNN peer of qlow-bench -------------------===//
//
// Plain oneDNN usage: the weights get format_tag::any so that oneDNN may
// reorder them into its own blocked layout once, outside the timed loop, as
// qlow packs its weights at compile time. Fair to both.
//
//===----------------------------------------------------------------------===//

#include "OneDnnMatmul.h"
#include "Machine.h"

#include "oneapi/dnnl/dnnl.hpp"

#include <algorithm>
#include <cstring>

using namespace qlow::bench;

struct OneDnnMatmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul primitive;
  dnnl::memory a, w, bias, c;
  /// The reordered weights' storage (PageBuffer: 2 MB or 4 KB pages).
  std::unique_ptr<PageBuffer> wPages;
  bool requantize = false;
  int64_t m = 0, k = 0, n = 0;
};

OneDnnMatmul::OneDnnMatmul(int64_t m, int64_t k, int64_t n,
                           const std::vector<uint8_t> &a,
                           const std::vector<int8_t> &w, bool requantize,
                           const std::vector<int32_t> &bias,
                           const std::vector<float> &scales,
                           bool hugePages)
    : impl(std::make_unique<Impl>()) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  impl->requantize = requantize;
  impl->m = m;
  impl->k = k;
  impl->n = n;
  dnnl::memory::desc aDesc({m, k}, dt::u8, tag::ab);
  dnnl::memory::desc wPlain({k, n}, dt::s8, tag::ab);
  dnnl::memory::desc wAny({k, n}, dt::s8, tag::any);
  dnnl::memory::desc cDesc({m, n}, requantize ? dt::s8 : dt::s32, tag::ab);
  dnnl::memory::desc biasDesc({1, n}, dt::s32, tag::ab);
  dnnl::primitive_attr attr;
  if (requantize)
    attr.set_output_scales(/*mask=*/1 << 1, scales);
  dnnl::matmul::desc desc =
      requantize ? dnnl::matmul::desc(aDesc, wAny, biasDesc, cDesc)
                 : dnnl::matmul::desc(aDesc, wAny, cDesc);
  dnnl::matmul::primitive_desc pd(desc, attr, impl->engine);
  impl->primitive = dnnl::matmul(pd);

  impl->a = dnnl::memory(aDesc, impl->engine);
  std::memcpy(impl->a.get_data_handle(), a.data(), a.size());
  dnnl::memory wUser(wPlain, impl->engine);
  std::memcpy(wUser.get_data_handle(), w.data(), w.size());
  impl->wPages = std::make_unique<PageBuffer>(pd.weights_desc().get_size(),
                                              hugePages);
  impl->w =
      dnnl::memory(pd.weights_desc(), impl->engine, impl->wPages->data());
  dnnl::reorder(wUser, impl->w).execute(impl->stream, wUser, impl->w);
  if (requantize) {
    impl->bias = dnnl::memory(biasDesc, impl->engine);
    std::memcpy(impl->bias.get_data_handle(), bias.data(),
                bias.size() * sizeof(int32_t));
  }
  impl->c = dnnl::memory(cDesc, impl->engine);
  impl->stream.wait();
}

OneDnnMatmul::~OneDnnMatmul() = default;

void OneDnnMatmul::run() {
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, impl->a},
                                                {DNNL_ARG_WEIGHTS, impl->w},
                                                {DNNL_ARG_DST, impl->c}};
  if (impl->requantize)
    args[DNNL_ARG_BIAS] = impl->bias;
  impl->primitive.execute(impl->stream, args);
  impl->stream.wait();
}

const char *OneDnnMatmul::weightPages() const { return impl->wPages->pages(); }

void OneDnnMatmul::writeInput(const std::vector<uint8_t> &a) {
  size_t bytes = static_cast<size_t>(impl->m * impl->k);
  std::memcpy(impl->a.get_data_handle(), a.data(), std::min(a.size(), bytes));
  std::memset(impl->c.get_data_handle(), 0, impl->c.get_desc().get_size());
}

std::vector<int32_t> OneDnnMatmul::result() const {
  int64_t count = impl->m * impl->n;
  std::vector<int32_t> out(count);
  if (impl->requantize) {
    const int8_t *data = static_cast<const int8_t *>(impl->c.get_data_handle());
    for (int64_t i = 0; i < count; ++i)
      out[i] = data[i];
  } else {
    std::memcpy(out.data(), impl->c.get_data_handle(), count * sizeof(int32_t));
  }
  return out;
}

struct OneDnnFloatMatmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul primitive;
  dnnl::memory a, w, c;
  int64_t m = 0, n = 0;
};

OneDnnFloatMatmul::OneDnnFloatMatmul(int64_t m, int64_t k, int64_t n,
                                     const std::vector<float> &a,
                                     const std::vector<float> &w)
    : impl(std::make_unique<Impl>()) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  impl->m = m;
  impl->n = n;
  dnnl::memory::desc aDesc({m, k}, dt::f32, tag::ab);
  dnnl::memory::desc wPlain({k, n}, dt::f32, tag::ab);
  dnnl::memory::desc wAny({k, n}, dt::f32, tag::any);
  dnnl::memory::desc cDesc({m, n}, dt::f32, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(aDesc, wAny, cDesc),
                                  impl->engine);
  impl->primitive = dnnl::matmul(pd);
  impl->a = dnnl::memory(aDesc, impl->engine);
  std::memcpy(impl->a.get_data_handle(), a.data(), a.size() * sizeof(float));
  dnnl::memory wUser(wPlain, impl->engine);
  std::memcpy(wUser.get_data_handle(), w.data(), w.size() * sizeof(float));
  impl->w = dnnl::memory(pd.weights_desc(), impl->engine);
  dnnl::reorder(wUser, impl->w).execute(impl->stream, wUser, impl->w);
  impl->c = dnnl::memory(cDesc, impl->engine);
  impl->stream.wait();
}

OneDnnFloatMatmul::~OneDnnFloatMatmul() = default;

void OneDnnFloatMatmul::run() {
  impl->primitive.execute(impl->stream, {{DNNL_ARG_SRC, impl->a},
                                         {DNNL_ARG_WEIGHTS, impl->w},
                                         {DNNL_ARG_DST, impl->c}});
  impl->stream.wait();
}

std::vector<float> OneDnnFloatMatmul::result() const {
  const float *data = static_cast<const float *>(impl->c.get_data_handle());
  return std::vector<float>(data, data + impl->m * impl->n);
}
