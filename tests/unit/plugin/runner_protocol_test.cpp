// The runner protocol's framing and field codec: every frame from a runner
// is hostile, so a short, long or malformed one is an error, never a read
// past the end.
#include "plugin/runner_protocol.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace credplug::runner;

namespace {

struct Pair {
  int fd[2];
  Pair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0); }
  ~Pair() {
    close(fd[0]);
    if (fd[1] >= 0) close(fd[1]);
  }
  void write_raw(const std::string &bytes) {
    REQUIRE(::write(fd[1], bytes.data(), bytes.size()) == ssize_t(bytes.size()));
  }
  void close_writer() {
    close(fd[1]);
    fd[1] = -1;
  }
};

std::string u32(uint32_t v) { return std::string(reinterpret_cast<const char *>(&v), 4); }

}  // namespace

TEST_CASE("runner protocol: fields round-trip; reading past a frame's end or a NUL in text is an error") {
  Encoder e;
  e.u8(7).u32(42).u64(1ull << 40).i64(-5).str("name").str(std::string("a\0b", 3));
  Decoder d(e.bytes());
  CHECK(d.u8() == 7);
  CHECK(d.u32() == 42);
  CHECK(d.u64() == 1ull << 40);
  CHECK(d.i64() == -5);
  CHECK(d.cstr() == "name");
  CHECK_THROWS_AS(d.cstr(), ProtocolError);  // "a\0b" would be cut at the NUL
  Decoder again(e.bytes());
  again.u8(), again.u32(), again.u64(), again.i64(), again.str();
  CHECK(again.str().size() == 3);
  again.end();
  CHECK_THROWS_AS(again.u8(), ProtocolError);

  // A length that claims more than the frame holds.
  std::string lying = u32(1000) + "short";
  Decoder liar(lying);
  CHECK_THROWS_AS(liar.str(), ProtocolError);
  const std::string two_left = u32(1) + "ab";  // a Decoder reads in place: the bytes must outlive it
  Decoder extra(two_left);
  extra.str();
  CHECK_THROWS_AS(extra.end(), ProtocolError);
}

TEST_CASE("runner protocol: frames cross a socket whole; oversized, short and cut frames are errors") {
  {
    Pair p;
    REQUIRE(write_frame(p.fd[1], Msg::Log, 9, "payload"));
    REQUIRE(write_frame(p.fd[1], Msg::Done, 10, ""));
    p.close_writer();
    FrameReader reader(p.fd[0]);
    auto a = reader.next();
    REQUIRE(a);
    CHECK(a->type == Msg::Log);
    CHECK(a->call == 9);
    CHECK(a->payload == "payload");
    auto b = reader.next();
    REQUIRE(b);
    CHECK(b->payload.empty());
    CHECK_FALSE(reader.next());  // a clean end between frames
  }
  {
    Pair p;
    p.write_raw(u32(uint32_t(kMaxFrameBytes + 1)));
    CHECK_THROWS_WITH_AS(FrameReader(p.fd[0]).next(), doctest::Contains("over the limit"), ProtocolError);
  }
  {
    Pair p;
    p.write_raw(u32(3) + "abc");
    CHECK_THROWS_WITH_AS(FrameReader(p.fd[0]).next(), doctest::Contains("shorter than its header"), ProtocolError);
  }
  {
    Pair p;
    p.write_raw(u32(100) + std::string("\x04\x01\x00\x00\x00", 5) + "only part");
    p.close_writer();
    CHECK_THROWS_WITH_AS(FrameReader(p.fd[0]).next(), doctest::Contains("ended in the middle of a frame"),
                         ProtocolError);
  }
  {
    Pair p;
    p.close_writer();
    CHECK_FALSE(write_frame(p.fd[0], Msg::Log, 1, "to nobody"));  // EPIPE, not SIGPIPE
  }
}

// Issue 23: the reader keeps one buffer (never zero-filled per read) and
// may poll before it sleeps. Frames of every size, split at every kind of
// boundary and written by another thread, come out whole and in order:
// through a socket with and without the poll, and through a pipe (where
// recv() does not work and the reader falls back to read()).
TEST_CASE("runner protocol: frames of 0 B to 300 KiB, written in odd pieces, read whole, spinning or not") {
  std::vector<std::string> payloads;
  for (size_t n : {size_t(0), size_t(1), size_t(4), size_t(65535), size_t(65536), size_t(65537), size_t(300000),
                   size_t(17), size_t(131072), size_t(3)}) {
    std::string p(n, '\0');
    for (size_t i = 0; i < n; ++i) p[i] = char('a' + (i * 7 + n) % 26);
    payloads.push_back(p);
  }
  std::string stream;
  for (size_t i = 0; i < payloads.size(); ++i) append_frame(stream, Msg::Log, uint32_t(i + 1), payloads[i]);
  for (const char *how : {"socket, spinning", "socket, sleeping", "pipe, spinning"}) {
    CAPTURE(how);
    int fd[2];
    if (std::strncmp(how, "pipe", 4) == 0)
      REQUIRE(pipe(fd) == 0);
    else
      REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
    std::thread writer([&] {
      // Pieces of 1, 3, 4, 5 ... bytes and larger: headers and payloads cut
      // anywhere, with pauses so the reader finds the stream empty mid-frame.
      size_t at = 0, piece = 1;
      while (at < stream.size()) {
        const size_t n = std::min(piece, stream.size() - at);
        const ssize_t w = ::write(fd[1], stream.data() + at, n);
        if (w <= 0) break;  // the reader failed and closed: its checks say why
        at += size_t(w);
        piece = piece < 70000 ? piece * 3 + 1 : 1;
        if (piece % 4 == 0) std::this_thread::yield();
      }
      close(fd[1]);
    });
    FrameReader reader(fd[0]);
    if (std::strstr(how, "spinning")) reader.set_spin(std::chrono::microseconds(50));
    for (size_t i = 0; i < payloads.size(); ++i) {
      bool timed_out = false;
      auto f = reader.next(std::chrono::steady_clock::now() + std::chrono::seconds(20), &timed_out);
      REQUIRE_FALSE(timed_out);
      REQUIRE(f);
      CHECK(f->call == uint32_t(i + 1));
      CHECK(f->payload.size() == payloads[i].size());
      CHECK(f->payload == payloads[i]);
    }
    CHECK_FALSE(reader.next());
    writer.join();
    close(fd[0]);
  }
}
