// The zygote runner's requests and a spare runner's first frame, against the
// real runner program (host/runner/zygote.hpp): what it refuses, and that a
// spare waits for its plugin, loads the one it is told, refuses anything
// else, and ends without one when its host goes.
#include "plugin/runner_protocol.hpp"
#include "transport/runner_process.hpp"
#include "transport/runner_zygote.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

using namespace credplug;
using namespace credplug::runner;

namespace {

struct Zygote {
  pid_t pid = -1;
  int control = -1;
  Zygote() {
    int sv[2];
    REQUIRE(host::open_runner_channel(sv, SOCK_SEQPACKET));
    const host::RunnerProgram program{CREDPLUG_RUNNER};
    const int rc = host::spawn_runner_program(
        program, {"--protocol", std::to_string(kProtocolVersion), "--zygote", std::string(256, ' ')}, sv[1], &pid);
    host::close_runner_channel(sv[1]);
    REQUIRE(rc == 0);
    control = sv[0];
  }
  ~Zygote() {
    host::close_runner_channel(control);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  Zygote(const Zygote &) = delete;
  Zygote &operator=(const Zygote &) = delete;

  // One request: the answer (a pid, or -errno), and this side's end of the
  // new runner's channel in *channel.
  int32_t ask(uint8_t flags, const std::string &path, int *channel) const {
    int sv[2];
    REQUIRE(host::open_runner_channel(sv, SOCK_STREAM));
    REQUIRE(host::send_zygote_request(control, flags, path, sv[1]));
    host::close_runner_channel(sv[1]);
    int32_t answer = 0;
    REQUIRE(recv(control, &answer, sizeof answer, 0) == ssize_t(sizeof answer));
    *channel = sv[0];
    return answer;
  }
};

// A spare asked of `z`, once it has greeted (before it knows its plugin).
struct Spare {
  int32_t pid = -1;
  int channel = -1;
  std::unique_ptr<FrameReader> reader;
  Spare(const Zygote &z, uint8_t flags) {
    pid = z.ask(flags, "", &channel);
    REQUIRE(pid > 0);
    reader = std::make_unique<FrameReader>(channel);
    auto hello = reader->next();
    REQUIRE(hello.has_value());
    CHECK(hello->type == Msg::Hello);
  }
  Frame next() {
    auto frame = reader->next();
    REQUIRE(frame.has_value());
    return std::move(*frame);
  }
};

// How a runner (this process's child: CLONE_PARENT) ended.
int exit_status_of(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

std::string load_frame(const std::string &path) {
  Encoder e;
  e.str(path);
  std::string out;
  append_frame(out, Msg::Load, 0, e.bytes());
  return out;
}

}  // namespace

TEST_CASE("zygote: requests with unknown flags, a spare given a path, or a path not absolute are refused") {
#if defined(__SANITIZE_THREAD__)
  return;  // a ThreadSanitizer runner refuses to be a zygote
#endif
  Zygote z;
  const struct {
    uint8_t flags;
    std::string path;
  } refused[] = {
      {0x04, "/x/credplug-ainua.so"},          // a flag it does not know
      {kZygoteSpare, "/x/credplug-ainua.so"},  // a spare is told its plugin later
      {0, "credplug-ainua.so"},                // relative
      {kZygoteNamespaces, ""},                 // no plugin, and no spare
  };
  for (const auto &r : refused) {
    CAPTURE(int(r.flags));
    CAPTURE(r.path);
    int channel = -1;
    CHECK(z.ask(r.flags, r.path, &channel) == -EPROTO);
    host::close_runner_channel(channel);
  }
  // It goes on serving.
  Spare spare(z, kZygoteSpare);
  host::close_runner_channel(spare.channel);
  CHECK(exit_status_of(spare.pid) == 0);
}

TEST_CASE("zygote: a spare greets, waits, and loads the plugin it is told; anything else ends it") {
#if defined(__SANITIZE_THREAD__)
  return;
#endif
  Zygote z;
  SUBCASE("told its plugin: Loaded, as a runner started for the file") {
    Spare spare(z, kZygoteSpare);
    REQUIRE(write_all(spare.channel, load_frame(CREDPLUG_AINUA_PLUGIN)));
    const Frame loaded = spare.next();
    REQUIRE(loaded.type == Msg::Loaded);
    Decoder d(loaded.payload);
    CHECK(d.str() == "ainua");
    host::close_runner_channel(spare.channel);
    CHECK(exit_status_of(spare.pid) == 0);
  }
  SUBCASE("a Call first: LoadFailed, and no plugin is loaded") {
    Spare spare(z, kZygoteSpare);
    REQUIRE(write_frame(spare.channel, Msg::Call, 0, encode_call(Op::Create, 0, "{}")));
    const Frame failed = spare.next();
    REQUIRE(failed.type == Msg::LoadFailed);
    Decoder d(failed.payload);
    CHECK(std::string(d.str()).find("something other than its plugin file") != std::string::npos);
    host::close_runner_channel(spare.channel);
    CHECK(exit_status_of(spare.pid) == 0);
  }
  SUBCASE("a relative path: LoadFailed") {
    Spare spare(z, kZygoteSpare);
    REQUIRE(write_all(spare.channel, load_frame("credplug-ainua.so")));
    CHECK(spare.next().type == Msg::LoadFailed);
    host::close_runner_channel(spare.channel);
    CHECK(exit_status_of(spare.pid) == 0);
  }
  SUBCASE("its host gone without a plugin for it: it ends, status 0") {
    Spare spare(z, kZygoteSpare | kZygoteNamespaces);  // it waits in its namespaces where they are allowed
    host::close_runner_channel(spare.channel);
    CHECK(exit_status_of(spare.pid) == 0);
  }
}
