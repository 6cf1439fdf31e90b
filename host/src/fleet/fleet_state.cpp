#include "fleet/fleet_state.hpp"

#include "base/fork_gate.hpp"

#include <credplug/kit/encoding.hpp>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <charconv>
#include <vector>

namespace credplug::host {
namespace {

constexpr size_t kMacBytes = 16;

std::string mac_hex(const KeyRing &ring, size_t key, std::string_view data) {
  return kit::hex_encode(std::string_view(ring.state_mac(key, data)).substr(0, kMacBytes));
}

std::string keyring_data(std::string_view sealing_id, std::string_view ms) {
  std::string data = "keyring v1";
  data += '\0';
  data += sealing_id;
  data += '\0';
  data += ms;
  return data;
}

std::string lease_data(std::string_view name, std::string_view nonce, std::string_view deadline) {
  std::string data = "lease v1";
  for (std::string_view part : {name, nonce, deadline}) {
    data += '\0';
    data += part;
  }
  return data;
}

std::vector<std::string_view> split(std::string_view text, char by) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    const size_t end = text.find(by, at);
    out.push_back(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (end == std::string_view::npos || out.size() > 64) return out;
    at = end + 1;
  }
}

std::optional<int64_t> number(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

// Whether `mac` (hex) is the MAC of `data` under the ring's key `id`.
bool authentic(const KeyRing &ring, std::string_view id, std::string_view mac, std::string_view data) {
  const size_t key = ring.index_of(id);
  if (key == ring.size()) return false;
  const std::string expected = mac_hex(ring, key, data);
  return expected.size() == mac.size() && CRYPTO_memcmp(expected.data(), mac.data(), mac.size()) == 0;
}

}  // namespace

std::string keyring_entry(const KeyRing &ring, std::string_view sealing_id, int64_t sealed_ms) {
  const std::string ms = std::to_string(sealed_ms);
  std::string entry = ms;
  const std::string data = keyring_data(sealing_id, ms);
  for (size_t i = 0; i < ring.size(); ++i) entry += " " + ring.id(i) + ":" + mac_hex(ring, i, data);
  return entry;
}

std::optional<int64_t> keyring_entry_time(const KeyRing &ring, std::string_view entry, std::string_view sealing_id) {
  if (entry.size() > 4096) return std::nullopt;
  const auto parts = split(entry, ' ');
  const auto ms = number(parts[0]);
  if (!ms) return std::nullopt;
  const std::string data = keyring_data(sealing_id, parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    if (colon != std::string_view::npos && authentic(ring, parts[i].substr(0, colon), parts[i].substr(colon + 1), data))
      return ms;
  }
  return std::nullopt;
}

std::string lease_value(const KeyRing &ring, std::string_view name, int64_t deadline_ms) {
  OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
  unsigned char random[16];
  RAND_bytes(random, sizeof random);
  const std::string nonce = kit::hex_encode(std::string_view(reinterpret_cast<const char *>(random), sizeof random));
  const std::string deadline = std::to_string(deadline_ms);
  return nonce + " " + deadline + " " + ring.current_id() + " " + mac_hex(ring, 0, lease_data(name, nonce, deadline));
}

std::optional<int64_t> lease_deadline(const KeyRing &ring, std::string_view value, std::string_view name) {
  if (value.size() > 256) return std::nullopt;
  const auto parts = split(value, ' ');
  if (parts.size() != 4) return std::nullopt;
  const auto deadline = number(parts[1]);
  if (!deadline || !authentic(ring, parts[2], parts[3], lease_data(name, parts[0], parts[1]))) return std::nullopt;
  return deadline;
}

}  // namespace credplug::host
