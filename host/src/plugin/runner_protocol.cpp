#include "runner_protocol.hpp"

#include <poll.h>
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

}  // namespace

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

std::optional<Frame> FrameReader::read(const std::chrono::steady_clock::time_point *deadline, bool *timed_out) {
  for (;;) {
    const size_t have = buffer_.size() - start_;
    if (have >= 4) {
      uint32_t length;
      std::memcpy(&length, buffer_.data() + start_, 4);
      if (length < 5) throw ProtocolError("a frame is shorter than its header");
      if (length > kMaxFrameBytes)
        throw ProtocolError("a frame of " + std::to_string(length) + " bytes is over the limit of " +
                            std::to_string(kMaxFrameBytes));
      if (have >= 4 + size_t(length)) {
        const char *at = buffer_.data() + start_;
        Frame f;
        f.type = Msg(uint8_t(at[4]));
        std::memcpy(&f.call, at + 5, 4);
        f.payload.assign(at + 9, length - 5);
        explicit_bzero(buffer_.data() + start_, 4 + length);
        start_ += 4 + length;
        if (start_ == buffer_.size()) buffer_.clear(), start_ = 0;
        return f;
      }
    }
    if (deadline && !readable_by(fd_, *deadline)) {
      if (have > 0) throw ProtocolError("it stopped in the middle of a frame");
      *timed_out = true;
      return std::nullopt;
    }
    if (start_ > 0) {  // move what is left to the front, wiping where it was
      std::memmove(buffer_.data(), buffer_.data() + start_, have);
      explicit_bzero(buffer_.data() + have, buffer_.size() - have);
      buffer_.resize(have);
      start_ = 0;
    }
    const size_t old = buffer_.size();
    buffer_.resize(old + 65536);
    ssize_t r;
    do r = ::read(fd_, buffer_.data() + old, 65536);
    while (r < 0 && errno == EINTR);
    buffer_.resize(old + size_t(std::max<ssize_t>(r, 0)));
    if (r <= 0) {
      if (old == 0) return std::nullopt;  // a clean end between frames (or the peer is gone)
      if (r == 0) throw ProtocolError("the stream ended in the middle of a frame");
      return std::nullopt;
    }
  }
}

}  // namespace credplug::runner
