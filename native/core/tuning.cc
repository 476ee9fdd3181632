#include "tuning.h"

#include <cstdlib>
#include <chrono>
#include <cstring>
#include <mutex>

namespace lw {
namespace {

Tuning from_environment() {
  Tuning t;
  if (const char* e = std::getenv("LENGTHWISE_THREADS")) t.threads = std::atoi(e);
  if (const char* e = std::getenv("LENGTHWISE_SIMD")) {
    if (!std::strcmp(e, "scalar")) t.simd_cap = 0;
    else if (!std::strcmp(e, "avx2")) t.simd_cap = 1;
    else if (!std::strcmp(e, "avx512")) t.simd_cap = 2;
  }
  if (const char* e = std::getenv("LENGTHWISE_TREE_PATH")) {
    if (!std::strcmp(e, "lazy")) t.tree_path = 1;
    else if (!std::strcmp(e, "rows")) t.tree_path = 2;
  }
  if (const char* e = std::getenv("LENGTHWISE_TREE_CLUSTER")) {
    const int n = std::atoi(e);
    t.tree_cluster = n < 1 ? 1 : n;  // set at all: forced (0 and junk force a single block, as they always did)
  }
  if (const char* e = std::getenv("LENGTHWISE_HOST_TIMING")) t.host_timing = !std::strcmp(e, "1");
  if (const char* e = std::getenv("LENGTHWISE_HOST_LEGACY")) t.host_legacy = !std::strcmp(e, "1");
  return t;
}

std::mutex g_marks_mu;
std::vector<HostMark> g_marks;

thread_local const Tuning* t_current = nullptr;

}  // namespace

const Tuning& process_tuning() {
  static const Tuning t = from_environment();
  return t;
}

const Tuning& current_tuning() { return t_current ? *t_current : process_tuning(); }

void host_mark(const char* name) {
  if (!process_tuning().host_timing) return;
  const long long ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch()).count();
  std::lock_guard<std::mutex> lock(g_marks_mu);
  g_marks.push_back(HostMark{name, ns});
}

void host_value(const char* name, long long value) {
  if (!process_tuning().host_timing) return;
  std::lock_guard<std::mutex> lock(g_marks_mu);
  g_marks.push_back(HostMark{name, value});
}

std::vector<HostMark> take_host_marks() {
  std::lock_guard<std::mutex> lock(g_marks_mu);
  std::vector<HostMark> out;
  out.swap(g_marks);
  return out;
}

TuningScope::TuningScope(const Tuning& t) : prev_(t_current) { t_current = &t; }
TuningScope::~TuningScope() { t_current = prev_; }

}  // namespace lw
