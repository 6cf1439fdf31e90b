#include "runner_protocol.hpp"

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace credplug::runner {

void wipe(std::string &s) {
  if (!s.empty()) explicit_bzero(s.data(), s.size());
  s.clear();
}

std::string_view Decoder::str() {
  uint32_t n = u32();
  if (in_.size() - pos_ < n) throw ProtocolError("a string runs past the end of its frame");
  std::string_view s = in_.substr(pos_, n);
  pos_ += n;
  return s;
}

std::string_view Decoder::cstr() {
  std::string_view s = str();
  if (s.find('\0') != std::string_view::npos) throw ProtocolError("a text field holds a NUL byte");
  return s;
}

void Decoder::end() const {
  if (pos_ != in_.size()) throw ProtocolError("a frame has bytes after its last field");
}

namespace {

// Waits until `fd` is readable or the deadline passes (false).
bool readable_by(int fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, int(std::min<long long>(left.count() + 1, 1 << 30)));
    if (r > 0 || (r < 0 && errno != EINTR)) return true;  // read() reports an error
  }
}

// A hint to the CPU that this is a wait loop (it yields to the sibling
// hyperthread and saves power).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

std::chrono::nanoseconds spin_before_sleep() {
  static const std::chrono::nanoseconds spin = [] {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    const bool several = sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 1;
    return several ? std::chrono::nanoseconds(std::chrono::microseconds(50)) : std::chrono::nanoseconds(0);
  }();
  return spin;
}

bool write_all(int fd, std::string_view bytes) {
  const char *p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

std::string encode_call(Op op, uint64_t instance, std::string_view credential_json, const std::string *state) {
  Encoder e;
  e.u8(uint8_t(op)).u64(instance).str(credential_json).u8(state ? 1 : 0).str(state ? *state : std::string_view());
  return std::move(e.bytes());
}

std::string encode_sign_request(const credplug_sign_request &req) {
  Encoder e;
  e.str(req.method ? req.method : "").str(req.url ? req.url : "");
  std::vector<std::pair<const char *, const char *>> headers;
  if (req.headers)
    for (const char *const *h = req.headers; h[0] != nullptr && h[1] != nullptr; h += 2)
      headers.emplace_back(h[0], h[1]);
  e.u32(uint32_t(headers.size()));
  for (const auto &[name, value] : headers) e.str(name).str(value);
  e.u8(req.body != nullptr ? 1 : 0)
      .str(req.body ? std::string_view(static_cast<const char *>(req.body), req.body_len) : std::string_view())
      .str(req.body_sha256 ? req.body_sha256 : "")
      .i64(req.time_ms);
  return std::move(e.bytes());
}

DecodedSignRequest::DecodedSignRequest(std::string_view payload) {
  Decoder d(payload);
  strings_.emplace_back(d.cstr());  // method
  strings_.emplace_back(d.cstr());  // url
  const uint32_t count = d.u32();
  if (count > 1024) throw ProtocolError("a request to sign with more than 1024 headers");
  std::vector<std::string> headers;
  for (uint32_t i = 0; i < 2 * count; ++i) headers.emplace_back(d.cstr());
  const bool has_body = d.u8() != 0;
  strings_.emplace_back(d.str());   // body
  strings_.emplace_back(d.cstr());  // body_sha256
  req_.time_ms = d.i64();
  d.end();
  for (auto &h : headers) strings_.push_back(std::move(h));
  for (size_t i = 4; i < strings_.size(); ++i) headers_.push_back(strings_[i].c_str());
  headers_.push_back(nullptr);
  headers_.push_back(nullptr);
  req_.struct_size = sizeof req_;
  req_.method = strings_[0].c_str();
  req_.url = strings_[1].c_str();
  req_.headers = headers_.data();
  req_.body = has_body ? strings_[2].data() : nullptr;
  req_.body_len = has_body ? strings_[2].size() : 0;
  req_.body_sha256 = strings_[3].c_str();
}

DecodedSignRequest::~DecodedSignRequest() {
  for (auto &s : strings_) wipe(s);
}

std::string encode_authorization(const credplug_authorization &auth) {
  auto text = [](const char *s) { return s ? std::string_view(s) : std::string_view(); };
  Encoder e;
  e.str(text(auth.redirect_uri)).str(text(auth.state)).str(text(auth.code_challenge));
  e.str(text(auth.code_challenge_method)).u8(auth.code ? 1 : 0).str(text(auth.code)).str(text(auth.code_verifier));
  return std::move(e.bytes());
}

DecodedAuthorization::DecodedAuthorization(std::string_view payload) {
  Decoder d(payload);
  for (int i = 0; i < 4; ++i) strings_[i] = std::string(d.cstr());
  const bool has_code = d.u8() != 0;
  strings_[4] = std::string(d.cstr());
  strings_[5] = std::string(d.cstr());
  d.end();
  auth_.struct_size = sizeof auth_;
  auth_.redirect_uri = strings_[0].c_str();
  auth_.state = strings_[1].c_str();
  auth_.code_challenge = strings_[2].c_str();
  auth_.code_challenge_method = strings_[3].c_str();
  auth_.code = has_code ? strings_[4].c_str() : nullptr;
  auth_.code_verifier = has_code ? strings_[5].c_str() : nullptr;
}

DecodedAuthorization::~DecodedAuthorization() {
  for (auto &s : strings_) wipe(s);
}

void append_frame(std::string &out, Msg type, uint32_t call, std::string_view payload) {
  char head[9];
  uint32_t length = uint32_t(payload.size() + 5);
  std::memcpy(head, &length, 4);
  head[4] = char(type);
  std::memcpy(head + 5, &call, 4);
  out.append(head, sizeof head).append(payload);
}

bool write_frame(int fd, Msg type, uint32_t call, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes - 5) return false;
  std::string frame;
  frame.reserve(9 + payload.size());
  append_frame(frame, type, call, payload);
  bool ok = write_all(fd, frame);
  wipe(frame);
  return ok;
}

std::optional<Frame> FrameReader::next() { return read(nullptr, nullptr); }

std::optional<Frame> FrameReader::next(std::chrono::steady_clock::time_point deadline, bool *timed_out) {
  *timed_out = false;
  return read(&deadline, timed_out);
}

std::optional<Frame> FrameReader::take_frame(size_t *frame_bytes) {
  *frame_bytes = 0;
  if (end_ - start_ < 4) return std::nullopt;
  uint32_t length;
  std::memcpy(&length, buffer_.data() + start_, 4);
  if (length < 5) throw ProtocolError("a frame is shorter than its header");
  if (length > kMaxFrameBytes)
    throw ProtocolError("a frame of " + std::to_string(length) + " bytes is over the limit of " +
                        std::to_string(kMaxFrameBytes));
  *frame_bytes = 4 + size_t(length);
  if (end_ - start_ < *frame_bytes) return std::nullopt;
  const char *at = buffer_.data() + start_;
  Frame f;
  f.type = Msg(uint8_t(at[4]));
  std::memcpy(&f.call, at + 5, 4);
  f.payload.assign(at + 9, length - 5);
  explicit_bzero(buffer_.data() + start_, 4 + length);
  start_ += 4 + length;
  if (start_ == end_) start_ = end_ = 0;
  return f;
}

// Room after end_ for at least 64 KiB, or for the rest of the frame begun
// (`frame_bytes` in all): what is left moves to the front, and a buffer
// grown is copied, the old one wiped.
void FrameReader::make_room(size_t frame_bytes) {
  constexpr size_t kReadSize = 65536;
  const size_t have = end_ - start_;
  if (start_ > 0 && buffer_.size() - end_ < kReadSize) {
    std::memmove(buffer_.data(), buffer_.data() + start_, have);
    explicit_bzero(buffer_.data() + have, end_ - have);
    start_ = 0;
    end_ = have;
  }
  const size_t wanted = std::max(end_ + kReadSize, frame_bytes);
  if (buffer_.size() >= wanted) return;
  std::string grown(std::max(wanted, 2 * buffer_.size()), '\0');
  std::memcpy(grown.data(), buffer_.data() + start_, have);
  wipe(buffer_);
  buffer_ = std::move(grown);
  start_ = 0;
  end_ = have;
}

ssize_t FrameReader::spin_read(const std::chrono::steady_clock::time_point *deadline) {
  if (spin_.count() <= 0 || !is_socket_) return -1;
  auto until = std::chrono::steady_clock::now() + spin_;
  if (deadline) until = std::min(until, *deadline);
  do {
    // The read is the check: one system call per look, and none more once
    // bytes are there (a system call costs ~1 us on this project's VM).
    const ssize_t r = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, MSG_DONTWAIT);
    if (r >= 0) return r;
    if (errno == ENOTSOCK) {
      is_socket_ = false;
      return -1;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return 0;  // read() says the same
    cpu_relax();
  } while (std::chrono::steady_clock::now() < until);
  return -1;
}

std::optional<Frame> FrameReader::read(const std::chrono::steady_clock::time_point *deadline, bool *timed_out) {
  for (;;) {
    size_t frame_bytes;
    if (auto f = take_frame(&frame_bytes)) return f;
    const size_t have = end_ - start_;
    make_room(frame_bytes);
    ssize_t r = spin_read(deadline);
    if (r < 0) {  // nothing yet: sleep until there is
      if (deadline && !readable_by(fd_, *deadline)) {
        if (have > 0) throw ProtocolError("it stopped in the middle of a frame");
        *timed_out = true;
        return std::nullopt;
      }
      do r = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
      while (r < 0 && errno == EINTR);
    }
    if (r <= 0) {
      if (have == 0) return std::nullopt;  // a clean end between frames (or the peer is gone)
      if (r == 0) throw ProtocolError("the stream ended in the middle of a frame");
      return std::nullopt;
    }
    end_ += size_t(r);
  }
}

}  // namespace credplug::runner
