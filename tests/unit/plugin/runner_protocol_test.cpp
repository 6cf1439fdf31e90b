// The runner protocol's framing and field codec: every frame from a runner
// is hostile, so a short, long or malformed one is an error, never a read
// past the end.
#include "plugin/runner_protocol.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

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
