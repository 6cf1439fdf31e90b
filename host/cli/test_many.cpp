#include "test_many.hpp"

#include <credplug/credential_file.hpp>
#include <credplug/host_json.hpp>
#include "exit_codes.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace fs = std::filesystem;

namespace credplug::cli {
namespace {

struct Outcome {
  bool done = false, ok = false;
  std::optional<ErrorKind> kind;  // unset with !ok: an internal error
  std::string detail;             // the error, or what the test showed
  long elapsed_ms = 0;
};

std::string first_line(const std::string &s) { return s.substr(0, s.find('\n')); }

// What a passing test shows in the table: its info, else the expiry.
std::string passed_detail(const TestResult &r) {
  std::string out;
  for (const auto &i : r.info)
    out += (out.empty() ? "" : ", ") + i.key + "=" + (i.secret ? "<secret>" : i.value.reveal());
  if (out.empty() && r.auth.expires_at)
    out = "token expires in " + std::to_string(*r.auth.expires_at - std::time(nullptr)) + " s";
  return r.has_test ? out : "authenticated (no connection test)" + (out.empty() ? "" : "; " + out);
}

// "[##########..........]  37/200  ok 35  failed 2" on one rewritten line.
void draw_progress(size_t done, size_t total, size_t failed) {
  const int width = 30;
  int filled = total ? int(double(done) / double(total) * width) : width;
  std::string bar(size_t(filled), '#');
  bar.append(size_t(width - filled), '.');
  std::fprintf(stderr, "\r[%s] %zu/%zu  ok %zu  failed %zu", bar.c_str(), done, total, done - failed, failed);
  std::fflush(stderr);
}

std::string pad(const std::string &s, size_t n) { return s + std::string(n > s.size() ? n - s.size() : 0, ' '); }

void print_table(const std::vector<std::string> &files, const std::vector<Outcome> &outcomes, int jobs, long wall_ms,
                 const HttpStats &http) {
  size_t wfile = 4;
  for (const auto &f : files) wfile = std::max(wfile, f.size());
  std::cout << pad("FILE", wfile) << "  RESULT          TIME     DETAIL\n";
  size_t failed = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    const Outcome &o = outcomes[i];
    std::string result = o.ok ? "ok" : o.kind ? json::kind_slug(*o.kind) : "internal";
    failed += !o.ok;
    std::cout << pad(files[i], wfile) << "  " << pad(result, 14) << "  " << pad(std::to_string(o.elapsed_ms) + " ms", 7)
              << "  " << first_line(o.detail) << "\n";
  }
  std::cout << files.size() << " credential(s): " << files.size() - failed << " passed, " << failed << " failed in "
            << wall_ms << " ms (" << jobs << " job(s); " << http.requests << " HTTPS request(s) over "
            << http.connections_opened << " connection(s))\n";
}

}  // namespace

std::vector<std::string> credential_files(const std::vector<std::string> &args) {
  std::vector<std::string> files;
  for (const auto &arg : args) {
    std::error_code ec;
    if (arg != "-" && fs::is_directory(arg, ec)) {
      std::vector<std::string> found;
      for (fs::directory_iterator it(arg, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".json" && it->is_regular_file(ec)) found.push_back(it->path().string());
      if (found.empty()) throw CredentialSourceError(arg + ": the directory holds no *.json credential file");
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(arg);
    }
  }
  return files;
}

int test_many(Host &host, const std::string &id, const std::vector<std::string> &files, int jobs, bool references,
              const OutputOptions &out) {
  if (std::count(files.begin(), files.end(), "-") > 0)
    throw CredentialSourceError("'-' (standard input) can only be tested alone, not among several files");
  host.plugin(id);  // an unknown plugin fails once, before any file
  jobs = std::max(1, std::min<int>(jobs, int(files.size())));
  const bool progress = !out.json && isatty(STDERR_FILENO);
  std::vector<Outcome> outcomes(files.size());
  std::atomic<size_t> next{0};
  std::mutex mutex;  // outcomes' done flags, progress, streamed JSON
  size_t done = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();

  auto work = [&] {
    for (size_t i; (i = next++) < files.size();) {
      Outcome o;
      std::string json_line;
      try {
        CredentialText text = read_credential(files[i], references);
        auto credential = host.open(id, text.json.view(), open_options_for(files[i], text));
        text.json.wipe();
        TestResult r = credential->test();
        o.ok = true;
        o.detail = passed_detail(r);
        o.elapsed_ms = r.elapsed_ms;
        if (out.json) json_line = json::test_json(id, r, files[i], json::JsonStyle::Line);
      } catch (const Error &e) {
        o.kind = e.kind();
        o.detail = e.what();
      } catch (const std::exception &e) {
        o.detail = std::string("unexpected: ") + e.what();
      }
      if (out.json && !o.ok)
        json_line = o.kind ? json::error_json(*o.kind, o.detail, files[i], json::JsonStyle::Line)
                           : json::internal_error_json(o.detail, json::JsonStyle::Line);
      std::lock_guard<std::mutex> lock(mutex);
      o.done = true;
      outcomes[i] = std::move(o);
      ++done;
      failed += !outcomes[i].ok;
      if (out.json) std::cout << json_line << std::endl;  // one object per credential, as each finishes
      if (progress) draw_progress(done, files.size(), failed);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(work);
  work();
  for (auto &t : threads) t.join();
  const long wall_ms =
      long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (!out.json) print_table(files, outcomes, jobs, wall_ms, host.http_stats());
  for (const auto &o : outcomes)
    if (!o.ok) return o.kind ? exit_code_for(*o.kind) : kExitInternal;
  return kExitOk;
}

}  // namespace credplug::cli
