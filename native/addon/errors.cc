#include "async.h"

namespace lw {
namespace addon {

Napi::Error make_error(Napi::Env env, ErrorKind kind, const std::string& msg) {
  Napi::Error err;
  const char* code = "ERR_LENGTHWISE";
  switch (kind) {
    case ErrorKind::Range: err = Napi::RangeError::New(env, msg); code = "ERR_OUT_OF_RANGE"; break;
    case ErrorKind::Type: err = Napi::TypeError::New(env, msg); code = "ERR_INVALID_ARG_TYPE"; break;
    case ErrorKind::Aborted:
      err = Napi::Error::New(env, msg);
      err.Set("name", Napi::String::New(env, "AbortError"));
      code = "ABORT_ERR";
      break;
    case ErrorKind::Device: err = Napi::Error::New(env, msg); code = "ERR_LENGTHWISE_DEVICE"; break;
    default: err = Napi::Error::New(env, msg); break;
  }
  err.Set("code", Napi::String::New(env, code));
  return err;
}

}  // namespace addon
}  // namespace lw
