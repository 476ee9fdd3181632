// The one async pattern: validate + unpack on the JS thread, run `execute` on a libuv worker (which may fan out
// onto the native pool), then build results on the JS thread. Inputs stay pinned (references + device-buffer
// holds) until the promise settles. lw::Error kinds map to RangeError / TypeError / Error with a `code`.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tuning.h"

namespace lw {
namespace addon {

struct Pins {
  std::vector<Napi::ObjectReference> refs;
  std::vector<std::shared_ptr<void>> holds;  // e.g. device allocations kept alive while in flight
  void pin(const Napi::Value& v) {
    if (v.IsObject()) refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
};

Napi::Error make_error(Napi::Env env, ErrorKind kind, const std::string& msg);

class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Finish = std::function<Napi::Value(Napi::Env)>;

  Task(Napi::Env env, Work execute, Finish resolve, Pins pins)
      : Napi::AsyncWorker(env, "lengthwise"),
        deferred_(Napi::Promise::Deferred::New(env)),
        execute_(std::move(execute)),
        resolve_(std::move(resolve)),
        pins_(std::move(pins)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    host_mark("worker start");
    try {
      execute_();
    } catch (const Error& e) {
      kind_ = e.kind;
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      kind_ = ErrorKind::Runtime;
      SetError("out of host memory");
    } catch (const std::exception& e) {
      kind_ = ErrorKind::Runtime;
      SetError(e.what());
    }
    host_mark("worker end");
  }
  // A worker_thread terminated while this task ran completes it in an environment that can no longer run
  // JavaScript: node-addon-api then throws from its HandleScope / promise calls, and an exception escaping this
  // libuv callback would abort the whole process. Nothing can be settled any more; just free the task.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
      Destroy();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    host_mark("js resolve");
    try {
      deferred_.Resolve(resolve_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
    host_mark("js resolved");
  }
  void OnError(const Napi::Error& e) override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    deferred_.Reject(make_error(env, kind_, e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Work execute_;
  Finish resolve_;
  Pins pins_;
  ErrorKind kind_ = ErrorKind::Runtime;
};

// Runs the work on the calling (JS) thread and returns a settled promise: the synchronous fast path of
// `opts.sync` for calls so small that the thread hop to a libuv worker and back costs more than the work.
inline Napi::Value run_now(Napi::Env env, const Task::Work& execute, const Task::Finish& resolve) {
  auto deferred = Napi::Promise::Deferred::New(env);
  host_mark("sync start");
  ErrorKind kind = ErrorKind::Runtime;
  std::string msg;
  bool ok = false;
  try {
    execute();
    ok = true;
  } catch (const Error& e) {
    kind = e.kind;
    msg = e.what();
  } catch (const std::bad_alloc&) {
    msg = "out of host memory";
  } catch (const std::exception& e) {
    msg = e.what();
  }
  host_mark("sync end");
  if (!ok) {
    deferred.Reject(make_error(env, kind, msg).Value());
    return deferred.Promise();
  }
  try {
    deferred.Resolve(resolve(env));
  } catch (const Napi::Error& e) {
    deferred.Reject(e.Value());
  }
  host_mark("js resolved");
  return deferred.Promise();
}

// Queues the work and returns its promise (sync: runs it now on this thread, see run_now).
inline Napi::Value run_async(Napi::Env env, Task::Work execute, Task::Finish resolve, Pins pins, bool sync = false) {
  host_mark("js unpacked");
  if (sync) return run_now(env, execute, resolve);
  auto* task = new Task(env, std::move(execute), std::move(resolve), std::move(pins));
  Napi::Promise p = task->promise();
  task->Queue();
  return p;
}

// Runs `f` synchronously and converts lw::Error into a thrown JS error of the right type.
template <typename F>
Napi::Value guard(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    make_error(env, e.kind, e.what()).ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    make_error(env, ErrorKind::Runtime, e.what()).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

}  // namespace addon
}  // namespace lw
