// Errors raised below the addon layer. The addon turns them into rejected promises with the right JS type.
#pragma once
#include <stdexcept>
#include <string>

namespace lw {

enum class ErrorKind { Range, Type, Runtime, Aborted, Device };

struct Error : std::runtime_error {
  ErrorKind kind;
  Error(ErrorKind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
};

[[noreturn]] inline void throw_range(const std::string& msg) { throw Error(ErrorKind::Range, msg); }
[[noreturn]] inline void throw_runtime(const std::string& msg) { throw Error(ErrorKind::Runtime, msg); }
[[noreturn]] inline void throw_device(const std::string& msg) { throw Error(ErrorKind::Device, msg); }
[[noreturn]] inline void throw_aborted() { throw Error(ErrorKind::Aborted, "The operation was aborted"); }

}  // namespace lw
