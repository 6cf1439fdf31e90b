#include "fixture.hpp"

#include <chrono>
#include <thread>

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace credplug::testing {

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string header(const emulator::Headers &headers, const std::string &name) {
  for (const auto &[n, v] : headers)
    if (n == name) return v;
  return "";
}

int closed_port() { return unused_local_port(); }

E2E &E2E::get() {
  static E2E *env = [] {
    auto *e = new E2E();
    char tmpl[] = "/tmp/credplug-e2e-XXXXXX";
    e->dir = mkdtemp(tmpl);
    e->pki = make_test_pki(e->dir + "/pki");
    e->other_pki = make_test_pki(e->dir + "/other-pki", "unrelated test CA");
    e->emu = std::make_unique<emulator::Emulator>(
        emulator::Emulator::Options{e->pki.server_cert,
                                    e->pki.server_key,
                                    "127.0.0.1",
                                    0,
                                    // APIs that take a static key or a user and password, for
                                    // the described providers of examples/json-provider.
                                    {emulator::parse_description(R"({"id": "keyed-api", "auth": "api_key",
                                                                     "api": {"header": "X-Api-Key"}})"),
                                     emulator::parse_description(R"({"id": "query-key-api", "auth": "api_key",
                                                                     "api": {"query": "api_key"}})"),
                                     emulator::parse_description(R"({"id": "bearer-api", "auth": "api_key",
                                                                     "api": {"scheme": "Bearer"}})"),
                                     emulator::parse_description(R"({"id": "basic-api", "auth": "basic"})")},
                                    e->pki.ca_cert});
    e->emu->add_client("ainua", kClientId, kCanary);
    e->emu->add_client("nexla", "42", kNexlaKey);
    e->emu->add_client("opencrvs", kOpenCrvsClient, kOpenCrvsSecret);
    e->emu->add_client("avonhealth", "avon-org", kAvonSecret);
    e->emu->add_client("avonhealth-user", "user_7", kAvonUserKey);
    e->emu->add_client("avni", "avni-app", kAvniSecret);
    e->emu->add_client("avni-user", "field.worker", kAvniPassword);
    e->emu->add_client("aws", kAwsKeyId, kAwsSecret);
    e->emu->add_client("keyed-api", "keyed-account", kStaticKey);
    e->emu->add_client("query-key-api", "query-account", kStaticKey);
    e->emu->add_client("bearer-api", "bearer-account", kStaticKey);
    e->emu->add_client("basic-api", "basic-user", kStaticKey);
    // Never destroyed: its key must not still be in the making at exit
    // (OpenSSL cleans up then, under the thread making it).
    e->emu->wait_until_ready();
    std::atexit([] { std::filesystem::remove_all(get().dir); });
    return e;
  }();
  return *env;
}

void E2E::reset() { emu->reset(); }

std::string E2E::write(const std::string &name, const std::string &content) const {
  std::string path = dir + "/" + name;
  std::ofstream(path) << content;
  return path;
}

std::string E2E::write_new(const std::string &prefix, const std::string &content) {
  return write(prefix + "-" + std::to_string(++files_written) + ".json", content);
}

std::string E2E::new_dir(const std::string &prefix) {
  std::string name = prefix + "-" + std::to_string(++files_written);
  std::filesystem::create_directories(dir + "/" + name);
  return name;
}

std::string E2E::ainua_credential(const std::string &extra_fields, const std::string &secret) const {
  return R"({"ainua_url":"localhost:)" + std::to_string(emu->port()) + R"(","client_id":")" + kClientId +
         R"(","client_secret":")" + secret + "\"" + (extra_fields.empty() ? "" : "," + extra_fields) + "}";
}

std::string E2E::nexla_credential(const std::string &extra_fields, const std::string &key) const {
  return R"({"api_url":")" + emu->origin() + R"(/nexla-api","service_key":")" + key + "\"" +
         (extra_fields.empty() ? "" : "," + extra_fields) + "}";
}

std::string E2E::opencrvs_credential(const std::string &secret) const {
  return R"({"auth_url":")" + emu->origin() + R"(/opencrvs/auth","gateway_url":")" + emu->origin() +
         R"(/opencrvs/gateway","client_id":")" + kOpenCrvsClient + R"(","client_secret":")" + secret + "\"}";
}

std::string E2E::avon_credential(const std::string &extra_fields, const std::string &user_key) const {
  return R"({"base_url":")" + emu->origin() + R"(","client_id":"avon-org","client_secret":")" + kAvonSecret +
         R"(","user_id":"user_7","user_secret_key":")" + user_key + "\"" +
         (extra_fields.empty() ? "" : "," + extra_fields) + "}";
}

std::string E2E::avni_credential(const std::string &flow_fields) const {
  return R"({"base_url":")" + emu->origin() + "\"," + flow_fields + "}";
}

std::string E2E::aws_credential(const std::string &service, const std::string &secret) const {
  return R"({"access_key_id":")" + kAwsKeyId + R"(","secret_access_key":")" + secret +
         R"(","region":"eu-west-3","service":")" + service + R"(","sts_url":")" + emu->origin() + "/aws-sts\"}";
}

HostOptions E2E::host_options() const {
  HostOptions o;
  o.plugin_dirs = {CREDPLUG_PLUGIN_DIR};
  o.use_environment = false;
  o.use_default_dir = false;
  o.ca_file = pki.ca_cert;
  // CI runs this suite once per mode: CREDPLUG_ISOLATION=in-process, or unset
  // (the default, process). The CLI reads the same variable itself.
  if (const char *mode = std::getenv("CREDPLUG_ISOLATION"); mode && *mode) o.isolation = parse_isolation(mode);
  return o;
}

ProcessResult E2E::cli(const std::vector<std::string> &args, const std::map<std::string, std::string> &env,
                       const std::string &input) {
  std::vector<std::string> argv{CREDPLUG_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  // Tests choose their CA and plugins explicitly.
  std::map<std::string, std::string> clean{{"CREDPLUG_CA_FILE", ""}, {"CREDPLUG_PLUGIN_PATH", ""}};
  for (const auto &[k, v] : env) clean[k] = v;
  ProcessResult r = run_process(argv, clean, input);
  std::string all = r.out + r.err;
  INFO("credplug output:\n" << all);
  for (const auto &secret : kSecrets)
    CHECK_MESSAGE(!contains(all, secret), "a secret leaked into the output: " << secret);
  bool revealed = false;
  for (const auto &a : args) revealed = revealed || a == "--reveal";
  if (!revealed)
    for (const auto &token : emu->issued_tokens())
      CHECK_MESSAGE(!contains(all, token), "a token leaked into the output");
  return r;
}

ProcessResult E2E::trusted(const std::vector<std::string> &args, const std::map<std::string, std::string> &env,
                           const std::string &input) {
  std::vector<std::string> full{"--ca-file", pki.ca_cert};
  full.insert(full.end(), args.begin(), args.end());
  return cli(full, env, input);
}

ProcessResult E2E::isolated_hostile(std::vector<std::string> args) {
  args.insert(args.begin(), {"--isolation", "process", "--plugin-dir", CREDPLUG_HOSTILE_PLUGIN_DIR});
  return trusted(args);
}

std::vector<pid_t> processes_with(const std::string &part) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (contains(line, part)) out.push_back(std::stoi(name));
  }
  return out;
}

bool process_ended(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  if (line.substr(line.rfind(')') + 2, 1) != "Z") return false;  // exited, waiting for whoever adopted it
  // A group leader turns zombie before its other threads have exited, and
  // they hold its files (a runner's channel) until they have.
  std::error_code ec;
  size_t threads = 0;
  for (std::filesystem::directory_iterator it(dir + "/task", ec), end; !ec && it != end; it.increment(ec)) ++threads;
  return threads <= 1;
}

bool eventually(const std::function<bool()> &condition, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace credplug::testing
