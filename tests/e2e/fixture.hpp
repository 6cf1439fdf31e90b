// The end-to-end environment shared by every test in this binary: a temp
// directory, a trusted test PKI and an untrusted one, the provider emulator
// (in process, so tests flip its switches and read its counters), and a
// runner for the credplug CLI that checks every run for leaked secrets.
#pragma once

#include "emulator/emulator.hpp"
#include "support/process.hpp"
#include "support/test_pki.hpp"

#include <credplug/host.hpp>

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace credplug::testing {

// The Ainua client secret in every test: it must never appear in output.
inline const std::string kCanary = "CANARY-ainua-secret-5d1c9e-do-not-print";
inline const std::string kClientId = "connector-1";
// The Nexla service key (user 42), and the API keys Nexla returns with a session.
inline const std::string kNexlaKey = "CANARY-nexla-service-key-0b7e-do-not-print";
inline const std::string kOpenCrvsClient = "2fd153ab-86c8-45fb-990d-721140e46061";
inline const std::string kOpenCrvsSecret = "CANARY-opencrvs-secret-8636abe2-do-not-print";
inline const std::string kAvonSecret = "CANARY-avon-org-secret-do-not-print";
inline const std::string kAvonUserKey = "CANARY-avon-user-key-do-not-print";
inline const std::string kAvniSecret = "CANARY-avni-client-secret-do-not-print";
inline const std::string kAvniPassword = "CANARY-avni-password-do-not-print";
inline const std::string kAwsKeyId = "AKIACREDPLUGTEST0001";
inline const std::string kAwsSecret = "CANARY/aws+secret/access/key/do/not/print";
// The key (or password) of the described providers' APIs (examples/json-provider).
inline const std::string kStaticKey = "CANARY-static-api-key-do-not-print";
inline const std::vector<std::string> kSecrets = {kCanary,
                                                  kStaticKey,
                                                  kNexlaKey,
                                                  "user-api-key-42-secret",
                                                  "org-api-key-42-secret",
                                                  kOpenCrvsSecret,
                                                  kAvonSecret,
                                                  kAvonUserKey,
                                                  kAvniSecret,
                                                  kAvniPassword,
                                                  kAwsSecret,
                                                  "cognito-access-field.worker-secret",
                                                  "cognito-refresh-field.worker-secret"};

struct E2E {
  std::string dir;
  TestPki pki;        // the emulator's certificate chains to this CA
  TestPki other_pki;  // an unrelated CA: not trusted for the emulator
  std::unique_ptr<emulator::Emulator> emu;

  static E2E &get();
  // A fresh emulator state for each test.
  void reset();
  std::string write(const std::string &name, const std::string &content) const;
  // write() under a name never used before in this run: "<prefix>-<n>.json".
  std::string write_new(const std::string &prefix, const std::string &content);
  // A directory under `dir` named "<prefix>-<n>", never used before in this
  // run; returns its name relative to `dir`, for write(name + "/file").
  std::string new_dir(const std::string &prefix);
  int files_written = 0;
  std::string ainua_credential(const std::string &extra_fields = "", const std::string &secret = kCanary) const;
  // Runs credplug with these arguments. Every run is checked: the canary
  // never appears, and no issued token appears unless --reveal was asked.
  ProcessResult cli(const std::vector<std::string> &args, const std::map<std::string, std::string> &env = {},
                    const std::string &input = "");
  std::string nexla_credential(const std::string &extra_fields = "", const std::string &key = kNexlaKey) const;
  std::string opencrvs_credential(const std::string &secret = kOpenCrvsSecret) const;
  std::string avon_credential(const std::string &extra_fields = "", const std::string &user_key = kAvonUserKey) const;
  // An Avni credential: base_url plus the given fields of a token flow.
  std::string avni_credential(const std::string &flow_fields) const;
  // An AWS access key for `service`, its connection test pointed at the emulator's STS.
  std::string aws_credential(const std::string &service = "execute-api", const std::string &secret = kAwsSecret) const;
  // A Host over the built plugins that trusts the test CA, for in-process tests.
  HostOptions host_options() const;
  // cli() with --ca-file for the trusted test CA in front.
  ProcessResult trusted(const std::vector<std::string> &args, const std::map<std::string, std::string> &env = {},
                        const std::string &input = "");
  // trusted() with the hostile test plugins found first, isolated.
  ProcessResult isolated_hostile(std::vector<std::string> args);
};

bool contains(const std::string &haystack, const std::string &needle);
// Polls `condition` every 5 ms until it holds (true) or `timeout_ms` passes.
bool eventually(const std::function<bool()> &condition, int timeout_ms = 10000);
// Whether process `pid` has ended: gone, or a zombie not reaped yet whose
// threads have all exited (so its files are closed).
bool process_ended(pid_t pid);
// Processes whose command line holds `part` (a runner's names its plugin
// file; its namespaces' processes are forks of it, with the same line).
std::vector<pid_t> processes_with(const std::string &part);
// The value of a header the emulator recorded, or "".
std::string header(const emulator::Headers &headers, const std::string &name);
// A TCP port on 127.0.0.1 that nothing listens on.
int closed_port();

}  // namespace credplug::testing
