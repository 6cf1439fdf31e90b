// What a hostile plugin runner can send: a byte stream cut into frames
// (FrameReader) and each frame applied as the host applies it — a call's
// service frames to a credplug_call (outputs checked, redacted, bounded),
// Loaded read as a plugin description. Anything malformed must be a
// ProtocolError, never a crash, a read past the end or a leak.
#include "plugin/runner_protocol.hpp"
#include "secrets/output_rules.hpp"
#include "secrets/redactor.hpp"
#include "transport/host_services.hpp"
#include "transport/runner_frames.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

using namespace credplug::host;
using namespace credplug::runner;

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
  redactor.add("fuzz-secret");
  credplug_call call;
  call.redactor = &redactor;  // no HttpsClient: an HttpSend is answered with an error, never sent
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
      } catch (const ProtocolError &) {
        break;  // the host ends such a runner
      }
    }
  } catch (const ProtocolError &) {
  }
  close(fd);
  // What the call collected stays within plugin.h's limits.
  if (call.headers.size() > kMaxHeaders || call.info.size() > kMaxInfoEntries) __builtin_trap();
  return 0;
}
