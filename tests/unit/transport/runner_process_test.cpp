// RunnerProcess routes a runner's frames to the calls waiting for them,
// with no reader thread: whichever caller waits reads for everyone. Against
// a runner that answers only once every call of a round is in flight, in
// reverse order and in torn writes (out_of_order_runner.cpp), every caller
// gets its own answer — what an e2e run of 120 credentials caught about
// one run in five when the overlap happened by chance. (With the hand-over
// of reading after a caller's own answer removed, callers are left waiting:
// this test fails at its 30 s deadline.)
#include "transport/runner_process.hpp"

#include <support/on_threads.hpp>

#include <doctest/doctest.h>

#include <sys/prctl.h>

#include <atomic>
#include <chrono>
#include <string>

using namespace credplug::host;
using credplug::runner::Msg;

TEST_CASE("runner process: 8 callers at once, answers in reverse and torn: each gets its own, 200 rounds") {
  constexpr int kCallers = 8, kRounds = 200;
  auto runner = RunnerProcess::start(RunnerProgram{CREDPLUG_OUT_OF_ORDER_RUNNER, false}, std::to_string(kCallers));
  std::atomic<int> answered{0}, wrong{0}, lost{0};
  for (int round = 0; round < kRounds; ++round) {
    credplug::testing::on_threads(kCallers, [&](int) {
      uint32_t id = 0;
      auto inbox = runner->open_call(id);
      REQUIRE(runner->send(Msg::Call, id, credplug::runner::encode_call(credplug::runner::Op::Authenticate, 1)));
      const auto deadline = RunnerProcess::Clock::now() + std::chrono::seconds(30);
      for (;;) {
        bool timed_out = false;
        auto frame = runner->next(inbox, deadline, &timed_out);
        if (!frame) {
          ++lost;  // timed out (an answer went astray) or the runner ended
          break;
        }
        if (frame->type != Msg::Done) continue;  // its Log
        credplug::runner::Decoder d(frame->payload);
        if (frame->call != id || d.u32() != id) ++wrong;
        ++answered;
        break;
      }
      runner->close_call(id);
    });
    if (lost || wrong) break;
  }
  CHECK(lost.load() == 0);
  CHECK(wrong.load() == 0);
  CHECK(answered.load() == kCallers * kRounds);
  CHECK_FALSE(runner->ended());
}

// Issue 18: a runner runs as this user, and a dumpable process's
// /proc/<pid>/mem and environ are open to its user; so this process is not
// dumpable while a runner lives, unless the embedder keeps it so.
TEST_CASE("runner process: the host is not dumpable while a runner lives, and is again after the last") {
  prctl(PR_SET_DUMPABLE, 1);  // another test of this suite made it 0 for good
  REQUIRE(prctl(PR_GET_DUMPABLE) == 1);
  {
    auto first = RunnerProcess::start(RunnerProgram{CREDPLUG_OUT_OF_ORDER_RUNNER, false}, "1");
    CHECK(prctl(PR_GET_DUMPABLE) == 0);
    {
      auto second = RunnerProcess::start(RunnerProgram{CREDPLUG_OUT_OF_ORDER_RUNNER, false}, "1");
      CHECK(prctl(PR_GET_DUMPABLE) == 0);
    }
    CHECK(prctl(PR_GET_DUMPABLE) == 0);  // the first still lives
  }
  CHECK(prctl(PR_GET_DUMPABLE) == 1);
  RunnerProgram kept{CREDPLUG_OUT_OF_ORDER_RUNNER, false};
  kept.keep_host_dumpable = true;
  auto runner = RunnerProcess::start(kept, "1");
  CHECK(prctl(PR_GET_DUMPABLE) == 1);
}
