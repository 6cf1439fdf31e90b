// The environment the cache benchmarks run in: the provider emulator in
// process (with a test CA it generates), and a Host over the built plugins.
#pragma once

#include "emulator/emulator.hpp"
#include "support/test_pki.hpp"

#include <credplug/host.hpp>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

namespace credplug::bench {

struct BenchEnv {
  std::string dir;
  testing::TestPki pki;
  std::unique_ptr<emulator::Emulator> emu;

  BenchEnv() {
    dir = (std::filesystem::temp_directory_path() / ("credplug-bench-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    pki = testing::make_test_pki(dir);
    emulator::Emulator::Options o;
    o.cert_file = pki.server_cert;
    o.key_file = pki.server_key;
    emu = std::make_unique<emulator::Emulator>(o);
    emu->add_client("ainua", "bench-client", "bench-secret");
  }
  ~BenchEnv() {
    emu.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  HostOptions host_options() const {
    HostOptions h;
    h.plugin_dirs = {CREDPLUG_PLUGIN_DIR};
    h.use_environment = false;
    h.use_default_dir = false;
    h.ca_file = pki.ca_cert;
    return h;
  }
  std::string ainua_credential() const {
    return R"({"ainua_url":"localhost:)" + std::to_string(emu->port()) +
           R"(","client_id":"bench-client","client_secret":"bench-secret"})";
  }
};

}  // namespace credplug::bench
