// What a hostile plugin runner can send: a byte stream cut into frames
// (FrameReader) and each frame applied as the host applies it — a call's
// service frames to a credplug_call (outputs checked, redacted, bounded),
// Loaded read as a plugin description. Anything malformed must be a
// ProtocolError, never a crash, a read past the end or a leak: the secret
// the host knows ("fuzz-secret", which the seeds send in a Log and a
// SetError) never reaches a log line, the call's error, a refusal as it is
// shown or a ProtocolError's message.
#include "plugin/runner_protocol.hpp"
#include "secrets/output_rules.hpp"
#include "secrets/redactor.hpp"
#include "transport/host_services.hpp"
#include "transport/runner_frames.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

using namespace credplug::host;
using namespace credplug::runner;

namespace {

constexpr const char *kSecret = "fuzz-secret";

void check_shown(const std::string &text) {
  // "fuzz-secret" is its own URL and JSON form.
  if (text.find(kSecret) != std::string::npos) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A memfd: read() from it as from the channel, whatever the input's size.
  int fd = memfd_create("frames", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size > 0 && write(fd, data, size) != ssize_t(size)) {
    close(fd);
    return 0;
  }
  lseek(fd, 0, SEEK_SET);
  Redactor redactor;
  redactor.add(kSecret);
  std::vector<std::string> logged;
  Logger logger{[&logged](int, const std::string &line) { logged.push_back(line); }, CREDPLUG_LOG_DEBUG};
  credplug_call call;
  call.redactor = &redactor;  // no HttpsClient: an HttpSend is answered with an error, never sent
  call.logger = &logger;
  CallFrames state;
  FrameReader reader(fd);
  try {
    while (auto frame = reader.next()) {
      try {
        if (frame->type == Msg::Loaded) {
          std::string schema;
          parse_loaded(*frame, "/fuzz.so", schema);
        } else {
          std::string answer;
          if (apply_call_frame(*frame, call, state, &answer)) break;
        }
      } catch (const ProtocolError &e) {
        check_shown(e.what());  // the host shows it, naming the runner
        break;                  // and ends such a runner
      }
    }
  } catch (const ProtocolError &e) {
    check_shown(e.what());
  }
  close(fd);
  // What the call collected stays within plugin.h's limits.
  if (call.headers.size() > kMaxHeaders || call.info.size() > kMaxInfoEntries) __builtin_trap();
  for (const auto &line : logged) check_shown(line);
  check_shown(call.error_message);
  // A refusal is kept raw and shown redacted, with the secrets known by then
  // (Credential::Impl::raise): shown as it would be.
  check_shown(redactor.apply(call.refused_output));
  return 0;
}
