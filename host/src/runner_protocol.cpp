#include "runner_protocol.hpp"

#include <sys/socket.h>
#include <unistd.h>

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

bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

// False at a clean end of stream before the first byte; throws when the
// stream ends inside.
bool read_all(int fd, char *p, size_t n, bool at_frame_start) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (got == 0 && at_frame_start) return false;
      if (r == 0) throw ProtocolError("the stream ended in the middle of a frame");
      return false;  // ECONNRESET and the like: the peer is gone
    }
    got += size_t(r);
  }
  return true;
}

}  // namespace

bool write_frame(int fd, Msg type, uint32_t call, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes - 5) return false;
  char head[9];
  uint32_t length = uint32_t(payload.size() + 5);
  std::memcpy(head, &length, 4);
  head[4] = char(type);
  std::memcpy(head + 5, &call, 4);
  // One buffer, one send: frames from several threads are written under the
  // caller's lock, and fewer system calls is most of a round trip's cost.
  std::string frame;
  frame.reserve(sizeof head + payload.size());
  frame.append(head, sizeof head).append(payload);
  bool ok = write_all(fd, frame.data(), frame.size());
  wipe(frame);
  return ok;
}

std::optional<Frame> read_frame(int fd) {
  char head[9];
  if (!read_all(fd, head, 4, true)) return std::nullopt;
  uint32_t length;
  std::memcpy(&length, head, 4);
  if (length < 5) throw ProtocolError("a frame is shorter than its header");
  if (length > kMaxFrameBytes)
    throw ProtocolError("a frame of " + std::to_string(length) + " bytes is over the limit of " +
                        std::to_string(kMaxFrameBytes));
  if (!read_all(fd, head + 4, 5, false)) return std::nullopt;
  Frame f;
  f.type = Msg(uint8_t(head[4]));
  std::memcpy(&f.call, head + 5, 4);
  f.payload.resize(length - 5);
  if (!f.payload.empty() && !read_all(fd, f.payload.data(), f.payload.size(), false)) return std::nullopt;
  return f;
}

}  // namespace credplug::runner
