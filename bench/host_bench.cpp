// What the host adds to every credential and every message, each beside the
// baseline it should be compared with, measured in the same run:
//   validating a credential against its compiled schema  vs  only parsing it
//   redacting a log line with a credential's secrets     vs  only copying it
#include "schema/schema_validator.hpp"
#include "secrets/redactor.hpp"
#include "smoke_checks.hpp"

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>

#include <fstream>
#include <sstream>

namespace {

std::string ainua_schema() {
  std::ifstream in(CREDPLUG_SCHEMA_DIR "/ainua.schema.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string kCredential =
    R"({"ainua_url":"tenant.ainua.fi","client_id":"connector-1","client_secret":"0123456789abcdef0123456789abcdef",)"
    R"("test_request_method":"PATCH","test_request_path":"/api/integrations/v1/items","test_request_body":"[]"})";

const std::string kLogLine =
    "POST https://tenant.ainua.fi/realms/ncp/protocol/openid-connect/token -> HTTP 200 (1843 bytes, 41 ms) "
    "for client connector-1 with no secret in this line at all, which is the common case";

void Baseline_ParseCredential(benchmark::State &state) {
  for (auto _ : state) {
    rapidjson::Document d;
    d.Parse(kCredential.c_str(), kCredential.size());
    if (!credplug::bench::check(state, d.IsObject(), "the credential did not parse")) break;
  }
}

void ValidateCredential(benchmark::State &state) {
  credplug::host::CompiledSchema schema(ainua_schema());
  for (auto _ : state)
    if (!credplug::bench::check(state, schema.validate(kCredential).ok(), "a valid credential failed validation"))
      break;
}

void Baseline_CopyLogLine(benchmark::State &state) {
  for (auto _ : state) {
    std::string copy(kLogLine);
    benchmark::DoNotOptimize(copy.data());
  }
}

void RedactLogLine(benchmark::State &state) {
  credplug::host::Redactor redactor;
  redactor.add("0123456789abcdef0123456789abcdef");            // client secret (+ encoded forms)
  redactor.add("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.x");  // a token
  for (auto _ : state)
    if (!credplug::bench::check(state, redactor.apply(kLogLine).size() == kLogLine.size(),
                                "a line without secrets changed"))
      break;
}

}  // namespace

BENCHMARK(Baseline_ParseCredential);
BENCHMARK(ValidateCredential);
BENCHMARK(Baseline_CopyLogLine);
BENCHMARK(RedactLogLine);
CREDPLUG_BENCHMARK_MAIN()
