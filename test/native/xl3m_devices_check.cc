// Native check of the XL3M multi-device split (core/xl3m_score.cc), without a GPU: this program supplies its own
// device layer (3 "visible" devices instead of native/cpu/device_none.cc) and a fake "cuda" backend whose row
// function records which device scored which rows (on which host thread) and computes each row with the float64
// reference. Checks: explicit lists (one device, a device twice, all three) give the one-device scores bit for
// bit and cover every row once, in ranges that start on 16-byte row offsets; the automatic list splits only
// from kXl3mMultiDeviceMinBytes per row block; host rows not split go to Xl3mChunkArgs::device; bad ordinals,
// lists with device data, and a failing range give core's errors; the CPU backend ignores the list.
// Built and run by `npm run check:native` (check xl3m_devices in native/sources.json).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/backend.h"
#include "core/device.h"
#include "core/error.h"
#include "core/row_error.h"
#include "core/xl3m_score.h"

#include "check.h"

using namespace lw;

// ---- the device layer of a pretend 3-GPU host (nothing here touches memory: the fake backend reads host data)
namespace lw {
namespace device {
bool compiled() { return true; }
int count() { return 3; }
RuntimeReport runtime_report() { return {}; }
std::string status() { return "fake devices of xl3m_devices_check"; }
Info info(int) { return {}; }
void* alloc(int, size_t) { throw_device("xl3m_devices_check: no device memory"); }
void release(int, void*) noexcept {}
void to_device(int, void*, const void*, size_t) { throw_device("xl3m_devices_check: no device memory"); }
void to_host(int, void*, const void*, size_t) { throw_device("xl3m_devices_check: no device memory"); }
int pointer_device(const void*) { return -1; }
}  // namespace device
}  // namespace lw

namespace {

struct Call {
  int device;
  int64_t row_offset, rows;
  std::thread::id thread;
};
std::mutex g_mu;
std::vector<Call> g_calls;
int g_misaligned = 0;

void fake_rows(const Xl3mChunkArgs& a, float* values) {
  const LogitsView& l = a.logits;
  const size_t row_bytes = static_cast<size_t>(l.vocab) * dtype_size(l.dtype);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_calls.push_back({a.device, a.row_offset, l.rows, std::this_thread::get_id()});
    // Row blocks start at multiples of 2^16 rows; a range inside one must start on a 16-byte row offset.
    if ((static_cast<size_t>(a.row_offset % (int64_t(1) << 16)) * row_bytes) % 16 != 0) ++g_misaligned;
  }
  for (int64_t r = 0; r < l.rows; ++r) {
    const void* row = static_cast<const uint8_t*>(l.mem.data) + static_cast<size_t>(r) * row_bytes;
    bool all_neg_inf = true;
    for (int64_t v = 0; v < l.vocab && all_neg_inf; ++v) all_neg_inf = std::isinf(load_as_float(row, l.dtype, v)) &&
                                                                      load_as_float(row, l.dtype, v) < 0;
    if (all_neg_inf) throw_row_error("logits", a.row_offset + r, RowError::AllNegInf);
    const int32_t t = a.targets ? a.targets[r] : 0;
    values[r] = static_cast<float>(xl3m_row_value_reference(row, l.dtype, l.vocab, a.metric, t, a.temperature));
  }
}

KernelTable fake_table() {
  KernelTable t;
  t.name = "cuda";
  t.device_memory = true;
  t.xl3m_rows = fake_rows;
  return t;
}
const KernelTable kFake = fake_table();
const BackendRegistrar kRegisterFake(kFake);

std::vector<uint8_t> make_logits(DType dt, int64_t rows, int64_t V, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> n(0.f, 3.f);
  std::vector<uint8_t> buf(static_cast<size_t>(rows * V) * dtype_size(dt));
  for (int64_t i = 0; i < rows * V; ++i) {
    float x = n(g);
    if (dt == DType::F32) {
      std::memcpy(&buf[static_cast<size_t>(i) * 4], &x, 4);
    } else {  // bf16 by truncation: any bits will do here
      uint32_t b;
      std::memcpy(&b, &x, 4);
      uint16_t h = static_cast<uint16_t>(b >> 16);
      std::memcpy(&buf[static_cast<size_t>(i) * 2], &h, 2);
    }
  }
  return buf;
}

struct Input {
  std::vector<uint8_t> data;
  std::vector<int32_t> targets;
  DType dtype;
  int64_t rows, vocab, segments;
};

Input make_input(DType dt, int64_t segments, int64_t positions, int64_t V, uint32_t seed) {
  Input in{make_logits(dt, segments * positions, V, seed), {}, dt, segments * positions, V, segments};
  in.targets.resize(static_cast<size_t>(in.rows));
  for (int64_t r = 0; r < in.rows; ++r) in.targets[static_cast<size_t>(r)] = static_cast<int32_t>((r * 7919) % V);
  return in;
}

Xl3mChunkArgs args_of(const Input& in, Xl3mMetric metric, std::vector<int> devices) {
  Xl3mChunkArgs a;
  a.logits.mem.data = in.data.data();
  a.logits.dtype = in.dtype;
  a.logits.rows = in.rows;
  a.logits.vocab = in.vocab;
  a.targets = in.targets.data();
  a.metric = metric;
  a.temperature = 0.8f;
  a.segments = in.segments;
  a.positions = in.rows / in.segments;
  a.devices = std::move(devices);
  return a;
}

std::vector<float> run(Backend b, const Xl3mChunkArgs& a, Xl3mPooling pooling = Xl3mPooling::Mean) {
  g_calls.clear();
  std::vector<double> state(static_cast<size_t>(a.segments * kXl3mStateStride));
  xl3m_pool_init(state.data(), a.segments);
  xl3m_push(b, a, state.data());
  std::vector<float> s(static_cast<size_t>(a.segments));
  xl3m_pool_finish(state.data(), a.segments, a.positions, pooling, s.data());
  return s;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// Every row scored exactly once; ranges of one device list entry each (per row block), devices as listed.
void check_coverage(const Input& in, const std::vector<int>& devices, const char* what) {
  std::vector<int> seen(static_cast<size_t>(in.rows), 0);
  for (const Call& c : g_calls)
    for (int64_t r = c.row_offset; r < c.row_offset + c.rows; ++r) ++seen[static_cast<size_t>(r)];
  CHECK(std::all_of(seen.begin(), seen.end(), [](int k) { return k == 1; }), "%s: a row not scored exactly once",
        what);
  for (const Call& c : g_calls)
    CHECK(std::find(devices.begin(), devices.end(), c.device) != devices.end(), "%s: device %d is not in the list",
          what, c.device);
}

std::string error_of(Backend b, const Xl3mChunkArgs& a, ErrorKind* kind = nullptr) {
  try {
    run(b, a);
  } catch (const Error& e) {
    if (kind) *kind = e.kind;
    return e.what();
  }
  return "";
}

}  // namespace

int main() {
  // Explicit lists: bit-identical to one device, every row once, aligned ranges, one host thread per entry.
  struct Case {
    DType dt;
    int64_t segments, positions, vocab;
  };
  const Case cases[] = {{DType::F32, 1, 3, 1000}, {DType::BF16, 7, 5, 1000}, {DType::F32, 300, 2, 7},
                        {DType::BF16, 300, 1, 333}, {DType::F32, 7, 3, 32000}, {DType::BF16, 2, 5, 1}};
  const std::vector<std::vector<int>> lists = {{0}, {2}, {0, 0}, {0, 1, 2}, {2, 0, 1, 1}};
  for (const Case& c : cases) {
    const Input in = make_input(c.dt, c.segments, c.positions, c.vocab, static_cast<uint32_t>(c.vocab + c.segments));
    for (Xl3mMetric metric : {Xl3mMetric::Entropy, Xl3mMetric::Nll}) {
      const std::vector<float> one = run(Backend::Cuda, args_of(in, metric, {}));
      CHECK(g_calls.size() == 1 && g_calls[0].device == 0, "small automatic call: %zu calls, want 1 on device 0",
            g_calls.size());
      const std::vector<float> cpu = run(Backend::Cpu, args_of(in, metric, {}));
      for (size_t s = 0; s < cpu.size(); ++s)
        CHECK(std::fabs(cpu[s] - one[s]) <= 2e-5 + 2e-6 * std::fabs(one[s]), "cpu vs fake cuda, segment %zu: %g vs %g", s,
              cpu[s], one[s]);
      for (const auto& list : lists) {
        g_misaligned = 0;
        const std::vector<float> got = run(Backend::Cuda, args_of(in, metric, list));
        CHECK(same_bits(got, one), "V=%lld rows=%lld, %zu devices: scores differ from one device",
              static_cast<long long>(c.vocab), static_cast<long long>(in.rows), list.size());
        check_coverage(in, list, "explicit list");
        CHECK(g_misaligned == 0, "V=%lld: %d ranges start off a 16-byte row offset", static_cast<long long>(c.vocab),
              g_misaligned);
        std::vector<std::thread::id> threads;
        for (const Call& call : g_calls) threads.push_back(call.thread);
        std::sort(threads.begin(), threads.end());
        const size_t distinct = static_cast<size_t>(std::unique(threads.begin(), threads.end()) - threads.begin());
        CHECK(distinct <= list.size() && g_calls.size() <= list.size(), "%zu devices: %zu calls on %zu threads",
              list.size(), g_calls.size(), distinct);
      }
      // The CPU backend ignores the list, out-of-range ordinals included (as the scaling fit does).
      CHECK(same_bits(run(Backend::Cpu, args_of(in, metric, {0, 9})), cpu), "cpu backend with devices differs");
    }
  }

  // Row blocks: more than 2^16 rows are split block by block (each block over the list); 2-byte rows: 8-row units.
  {
    const Input in = make_input(DType::BF16, (int64_t(1) << 17) + 7, 1, 1, 5);
    const std::vector<float> one = run(Backend::Cuda, args_of(in, Xl3mMetric::Entropy, {}));
    g_misaligned = 0;
    const std::vector<float> got = run(Backend::Cuda, args_of(in, Xl3mMetric::Entropy, {1, 2, 0}));
    CHECK(same_bits(got, one), "2^17 + 7 rows over 3 devices differ from one device");
    check_coverage(in, {0, 1, 2}, "three row blocks");
    // 65536 + 65536 + 7 rows; the 7-row block is one 8-row unit (2-byte rows), so one device takes it.
    CHECK(g_calls.size() == 7 && g_misaligned == 0, "three row blocks over 3 devices: %zu calls (want 3 + 3 + 1), %d "
          "misaligned", g_calls.size(), g_misaligned);
  }

  // Automatic: every visible device from kXl3mMultiDeviceMinBytes of host logits per block, else `device` alone.
  {
    const int64_t V = 4096;  // 16 KiB rows (fp32): 4096 rows = 64 MiB
    const int64_t big = kXl3mMultiDeviceMinBytes / (V * 4);
    const Input in = make_input(DType::F32, big, 1, V, 9);
    Xl3mChunkArgs a = args_of(in, Xl3mMetric::Entropy, {});
    const std::vector<float> split = run(Backend::Cuda, a);
    CHECK(g_calls.size() == 3, "automatic, %lld MiB block: %zu calls, want 3 (one per visible device)",
          static_cast<long long>(kXl3mMultiDeviceMinBytes >> 20), g_calls.size());
    check_coverage(in, {0, 1, 2}, "automatic large");
    const std::vector<float> one = run(Backend::Cuda, args_of(in, Xl3mMetric::Entropy, {1}));
    CHECK(g_calls.size() == 1 && g_calls[0].device == 1, "devices [1]: %zu calls", g_calls.size());
    CHECK(same_bits(split, one), "automatic split differs from one device");
    a.logits.rows = big - 1;
    a.segments = big - 1;
    a.device = 2;
    run(Backend::Cuda, a);
    CHECK(g_calls.size() == 1 && g_calls[0].device == 2, "automatic, one row under the threshold: %zu calls (want 1, on "
          "Xl3mChunkArgs::device 2)", g_calls.size());
  }

  // Errors.
  {
    const Input in = make_input(DType::F32, 4, 2, 50, 3);
    ErrorKind kind = ErrorKind::Runtime;
    std::string e = error_of(Backend::Cuda, args_of(in, Xl3mMetric::Entropy, {0, 3}), &kind);
    CHECK(kind == ErrorKind::Range && e.find("opts.devices[1] = 3 is not a visible CUDA device") != std::string::npos,
          "ordinal 3 of 3 visible: '%s'", e.c_str());
    Xl3mChunkArgs dev = args_of(in, Xl3mMetric::Entropy, {0});
    dev.logits.mem.on_device = true;
    dev.logits.mem.device = 1;
    e = error_of(Backend::Cuda, dev, &kind);
    CHECK(kind == ErrorKind::Range && e.find("opts.devices applies to host logits") != std::string::npos,
          "devices with device data: '%s'", e.c_str());
    // A failing range (device 1's) fails the call with the row's global index.
    Input bad = in;
    for (int64_t v = 0; v < in.vocab; ++v) {
      const float ninf = -INFINITY;
      std::memcpy(&bad.data[static_cast<size_t>(5 * in.vocab + v) * 4], &ninf, 4);
    }
    e = error_of(Backend::Cuda, args_of(bad, Xl3mMetric::Entropy, {0, 1}), &kind);
    CHECK(kind == ErrorKind::Range && e == "logits row 5 is all -Infinity (no distribution)", "failing range: '%s'",
          e.c_str());
  }

  std::printf("xl3m_devices: %s (explicit lists bit-identical to one device, automatic split from %lld MiB/block)\n",
              failures ? "FAILED" : "ok", static_cast<long long>(kXl3mMultiDeviceMinBytes >> 20));
  return failures ? 1 : 0;
}
