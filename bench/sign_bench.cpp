// Benchmark 9: what signing each request costs (the aws plugin's Signature
// Version 4 through Credential::sign), isolated and in-process, beside the
// signer alone (the floor: no host, no plugin boundary) and beside what the
// signed request itself costs: one HTTPS request on loopback to the
// emulator's STS, on a kept-alive connection, which also proves each
// signature is accepted.
// Usage: sign_bench [--calls N] [--runs N]
#include "bench_env.hpp"
#include "bench_run.hpp"
#include "net/https_client.hpp"
#include "sigv4.hpp"

#include <credplug/kit/crypto.hpp>

#include <cstdio>
#include <vector>

namespace {

using namespace credplug;
using namespace credplug::bench;

const std::string kKeyId = "AKIABENCHMARK0001";
const std::string kSecret = "bench/secret/access/key/0123456789";
const std::string kBody = "Action=GetCallerIdentity&Version=2011-06-15";

std::string credential(const BenchEnv &env) {
  return R"({"access_key_id":")" + kKeyId + R"(","secret_access_key":")" + kSecret +
         R"(","region":"us-east-1","service":"sts","sts_url":")" + env.emu->origin() + R"(/aws-sts"})";
}

RequestToSign request(const std::string &url) {
  RequestToSign r;
  r.method = "POST";
  r.url = url;
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  r.body = kBody;
  return r;
}

// Microseconds per call, the median of `runs` runs of `calls` calls.
template <class F>
double us_per_call(int runs, int calls, F &&f) {
  std::vector<double> per;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < calls; ++i) f();
    per.push_back(ms_since(t0) * 1000 / calls);
  }
  return median(per);
}

}  // namespace

int main(int argc, char **argv) {
  int calls = 2000, runs = 5;
  read_flags(argc, argv, {{"--calls", &calls}, {"--runs", &runs}});
  BenchEnv env;
  env.emu->add_client("aws", kKeyId, kSecret);
  const std::string url = env.emu->origin() + "/aws-sts/";

  // The signer alone.
  aws::SigV4Credentials key;
  key.access_key_id = kKeyId;
  key.secret_access_key = kit::SecretString(kSecret);
  key.region = "us-east-1";
  key.service = "sts";
  aws::SigV4Request raw;
  raw.method = "POST";
  raw.path = "/aws-sts/";
  raw.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"Host", "localhost:" + std::to_string(env.emu->port())}};
  raw.payload_sha256 = kit::sha256_hex(kBody);
  raw.time_s = 1440938160;
  const double alone = us_per_call(runs, calls, [&] { (void)aws::sign_v4(key, raw, aws::SigV4Options{}); });

  // sign() in each mode; every 100th signature sent, and accepted.
  host::HttpOptions http_options;
  http_options.ca_file = env.pki.ca_cert;
  host::HttpsClient http(http_options);
  auto send = [&](const SignedRequest &s) {
    host::HttpRequestSpec spec;
    spec.method = "POST";
    spec.url = s.url;
    spec.body = SecretString(kBody);
    spec.headers.emplace_back("Content-Type",
                              SecretString(std::string_view("application/x-www-form-urlencoded; charset=utf-8")));
    for (const auto &h : s.headers) spec.headers.emplace_back(h.name, h.value);
    return http.send(spec).status;
  };
  double signed_us[2];
  for (Isolation mode : {Isolation::Process, Isolation::InProcess}) {
    HostOptions o = env.host_options();
    o.isolation = mode;
    Host host(o);
    auto cred = host.open("aws", credential(env));
    require(send(cred->sign(request(url))) == 200, "a signed request was refused");
    int n = 0, accepted = 0, sent = 0;
    signed_us[mode == Isolation::InProcess] = us_per_call(runs, calls, [&] {
      SignedRequest s = cred->sign(request(url));
      if (++n % 100 == 0) ++sent, accepted += send(s) == 200;
    });
    require(accepted == sent, "a signed request was refused");
  }

  // One HTTPS request on loopback, kept alive: the signed request itself.
  Host host([&] {
    HostOptions o = env.host_options();
    o.isolation = Isolation::InProcess;
    return o;
  }());
  auto cred = host.open("aws", credential(env));
  const SignedRequest one = cred->sign(request(url));
  require(send(one) == 200, "the request was refused");
  const double https = us_per_call(runs, std::max(1, calls / 10), [&] { (void)send(one); });

  std::printf(
      "9. sign() per request (aws SigV4, median of %d x %d)   isolated: %.1f us   in-process: %.1f us   the signer "
      "alone: %.1f us   one HTTPS request on loopback (kept alive): %.1f us   (isolated signing is %.0f%% of a "
      "request)\n",
      runs, calls, signed_us[0], signed_us[1], alone, https, 100 * signed_us[0] / https);
  return failures() ? 1 : 0;
}
