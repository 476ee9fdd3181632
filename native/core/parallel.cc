#include "parallel.h"

#include "tuning.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace lw {
namespace {

thread_local bool t_inside_pool_task = false;

struct Job {
  size_t n = 0, chunk = 1, chunks = 0;
  const std::function<void(size_t, size_t)>* fn = nullptr;
  const Tuning* tuning = nullptr;  // the submitter's, installed on every thread that runs a chunk
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex m;
  std::condition_variable cv;
  std::exception_ptr error;
  std::mutex error_m;

  // Runs chunks until none are left; returns true if this call finished the last one.
  void work() {
    for (;;) {
      size_t c = next.fetch_add(1);
      if (c >= chunks) return;
      size_t b = c * chunk, e = std::min(n, b + chunk);
      try {
        bool was = t_inside_pool_task;
        t_inside_pool_task = true;
        TuningScope scope(*tuning);
        (*fn)(b, e);
        t_inside_pool_task = was;
      } catch (...) {
        t_inside_pool_task = false;
        std::lock_guard<std::mutex> lk(error_m);
        if (!error) error = std::current_exception();
      }
      if (done.fetch_add(1) + 1 == chunks) {
        std::lock_guard<std::mutex> lk(m);
        cv.notify_all();
      }
    }
  }
};

class Pool {
 public:
  Pool() {
    int n = process_tuning().threads;
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
    threads_ = n;
    for (int i = 0; i + 1 < n; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  void submit(const std::shared_ptr<Job>& job, size_t helpers) {
    {
      std::lock_guard<std::mutex> lk(m_);
      for (size_t i = 0; i < helpers; ++i) queue_.push_back(job);
    }
    if (helpers == 1) cv_.notify_one(); else cv_.notify_all();
  }

 private:
  void loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
        if (stop_ && queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job->work();
    }
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
};

Pool& pool() {
  // Intentionally leaked: worker threads must outlive every static destructor that might still submit work,
  // and joining threads during dlclose/exit is a classic source of hangs.
  static Pool* p = new Pool();
  return *p;
}

}  // namespace

int pool_threads() { return pool().threads(); }

void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& f) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  int threads = pool_threads();
  if (t_inside_pool_task || threads == 1 || n <= grain) {
    f(0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  job->n = n;
  // Around 4 chunks per thread balances uneven rows without making chunks tiny.
  size_t target = static_cast<size_t>(threads) * 4;
  job->chunk = std::max(grain, (n + target - 1) / target);
  job->chunks = (n + job->chunk - 1) / job->chunk;
  job->fn = &f;
  job->tuning = &current_tuning();
  size_t helpers = std::min(job->chunks - 1, static_cast<size_t>(threads - 1));
  if (helpers > 0) pool().submit(job, helpers);
  job->work();
  {
    std::unique_lock<std::mutex> lk(job->m);
    job->cv.wait(lk, [&] { return job->done.load() == job->chunks; });
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace lw
