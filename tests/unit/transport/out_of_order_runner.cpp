// A stand-in plugin runner for runner_process_test: it speaks the channel's
// framing and nothing else. It waits until N calls are in flight (N is its
// "plugin" argument), then answers them — in the order they came, in
// reverse, or odd ones first, by round — each with a Log frame and a Done
// whose status is the call's id, the frames of a round cut into writes of
// varying size. So every round has N callers waiting at once, and answers
// arrive while another caller reads, the reader's own first or last: the
// overlap the leader/follower reading must route, forced rather than hoped
// for.
#include "runner_protocol.hpp"

#include <cstdlib>
#include <string>
#include <vector>

using namespace credplug::runner;

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  const size_t n = std::strtoul(argv[3], nullptr, 10);
  FrameReader reader(kChannelFd);
  std::vector<uint32_t> calls;
  for (unsigned round = 0;; ++round) {
    try {
      while (calls.size() < n) {
        auto frame = reader.next();
        if (!frame) return 0;  // the host closed the channel
        if (frame->type == Msg::Call) calls.push_back(frame->call);
      }
    } catch (const ProtocolError &) {
      return 1;
    }
    std::vector<uint32_t> order;
    for (size_t i = 0; i < calls.size(); ++i)
      order.push_back(round % 3 == 0   ? calls[i]
                      : round % 3 == 1 ? calls[calls.size() - 1 - i]
                                       : calls[(2 * i + 1) % (calls.size() | 1) % calls.size()]);
    std::string batch;
    for (size_t i = 0; i < order.size(); ++i) {
      Encoder log, done;
      log.u32(3).str("answering call " + std::to_string(order[i]));
      done.u32(order[i]).u64(0);
      append_frame(batch, Msg::Log, order[i], log.bytes());
      append_frame(batch, Msg::Done, order[i], done.bytes());
      // Written in pieces of 1, 2, ... frames' worth (and a torn one each
      // third round): answers land in whatever read is under way.
      if (batch.size() > 64 * (1 + (i + round) % 3) || i + 1 == order.size()) {
        const size_t cut = round % 3 == 0 ? batch.size() / 2 : batch.size();
        if (!write_all(kChannelFd, std::string_view(batch).substr(0, cut)) ||
            !write_all(kChannelFd, std::string_view(batch).substr(cut)))
          return 0;
        batch.clear();
      }
    }
    calls.clear();
  }
}
