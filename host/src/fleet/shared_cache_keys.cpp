#include "fleet/shared_cache_keys.hpp"

#include "base/fork_gate.hpp"
#include "secrets/json_wipe.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/types.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "bounded_json.hpp"

namespace credplug::host {
namespace {

constexpr unsigned char kRecordVersion = 1;
constexpr size_t kIdBytes = 8, kNonceBytes = 12, kTagBytes = 16;

int from_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hmac(std::string_view key, std::string_view data) {
  OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char *>(data.data()), data.size(),
       out, &len);
  std::string s(reinterpret_cast<char *>(out), len);
  OPENSSL_cleanse(out, sizeof out);
  return s;
}

// The URL may hold a password: messages say what is wrong, never quote it.
[[noreturn]] void bad_url(const std::string &why) {
  throw Error(ErrorKind::InvalidInput,
              "the shared cache URL " + why + " (expected redis://[user:password@]host:port/db)");
}

}  // namespace

RedisAddress parse_redis_url(std::string_view url) {
  RedisAddress a;
  if (url.rfind("rediss://", 0) == 0)
    throw Error(ErrorKind::InvalidInput,
                "the shared cache URL uses rediss:// (TLS), which this build's hiredis (Debian's 0.14) cannot "
                "speak; use redis:// on a trusted network: records are sealed with AES-256-GCM, so the link "
                "shows only HMAC names and lease tokens (docs/SHARED_CACHE.md)");
  if (url.rfind("redis://", 0) != 0) bad_url("does not start with redis://");
  std::string_view rest = url.substr(8);
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) bad_url("has user info without a password");
    a.user = std::string(userinfo.substr(0, colon));
    a.password = kit::SecretString(userinfo.substr(colon + 1));
    if (a.password.empty()) bad_url("has an empty password");
  }
  std::string_view hostport = rest, db;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    db = rest.substr(slash + 1);
  }
  size_t colon = hostport.rfind(':');
  a.host = std::string(hostport.substr(0, colon));
  if (a.host.empty()) bad_url("has no host");
  for (char c : a.host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
      bad_url("has a host that is not a plain name or IPv4 address");
  auto number = [&](std::string_view text, const char *what, int max) {
    if (text.empty() || text.size() > 5) bad_url(std::string("has no valid ") + what);
    int n = 0;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) bad_url(std::string("has no valid ") + what);
      n = n * 10 + (c - '0');
    }
    if (n > max) bad_url(std::string("has a ") + what + " above " + std::to_string(max));
    return n;
  };
  if (colon != std::string_view::npos) a.port = number(hostport.substr(colon + 1), "port", 65535);
  if (!db.empty()) a.db = number(db, "database number", 15);
  a.shown = "redis://" + (a.user.empty() && a.password.empty() ? "" : a.user + ":***@") + a.host + ":" +
            std::to_string(a.port) + "/" + std::to_string(a.db);
  return a;
}

KeyRing KeyRing::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::InvalidInput, "cannot read the shared cache key file " + path);
  kit::SecretString content{std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())};
  return from_text(content.view(), path);
}

KeyRing KeyRing::from_text(std::string_view text, const std::string &origin) {
  KeyRing ring;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = origin + " line " + std::to_string(line_no);
    if (line.size() != 64)
      throw Error(ErrorKind::InvalidInput, where + " is not a key: expected 64 hex characters (32 bytes), found " +
                                               std::to_string(line.size()) + " characters");
    Key key;
    std::string bytes(32, '\0');
    for (size_t i = 0; i < 32; ++i) {
      int hi = from_hex(line[2 * i]), lo = from_hex(line[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        kit::wipe(bytes);
        throw Error(ErrorKind::InvalidInput, where + " is not a key: it has a character that is not hex");
      }
      bytes[i] = char(hi << 4 | lo);
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
    SHA256(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size(), digest);
    key.id = kit::hex_encode(std::string_view(reinterpret_cast<const char *>(digest), kIdBytes));
    key.bytes = kit::SecretString(bytes);
    std::string naming = hmac(bytes, "credplug shared cache: record names v1");
    key.naming = kit::SecretString(naming);
    kit::wipe(naming);
    std::string state = hmac(bytes, "credplug shared cache: fleet state v1");
    key.state = kit::SecretString(state);
    kit::wipe(state);
    kit::wipe(bytes);
    if (ring.has(key.id)) throw Error(ErrorKind::InvalidInput, where + " repeats a key given on an earlier line");
    ring.keys_.push_back(std::move(key));
  }
  if (ring.keys_.empty())
    throw Error(ErrorKind::InvalidInput, "the shared cache key file " + origin +
                                             " has no key; write one line of 64 hex characters, e.g. from "
                                             "`openssl rand -hex 32`");
  return ring;
}

bool KeyRing::has(const std::string &id) const { return index_of(id) < keys_.size(); }

size_t KeyRing::index_of(std::string_view id) const {
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i].id == id) return i;
  return keys_.size();
}

std::string KeyRing::state_mac(size_t i, std::string_view data) const { return hmac(keys_[i].state.view(), data); }

namespace {

// Writes `v` with every object's members in byte order of their names
// (depth is bounded by the parser; the shipped schemas nest 9 levels).
void write_sorted(rapidjson::Writer<rapidjson::StringBuffer> &w, const rapidjson::Value &v) {
  if (v.IsObject()) {
    std::vector<const rapidjson::Value::Member *> members;
    for (const auto &m : v.GetObject()) members.push_back(&m);
    std::stable_sort(members.begin(), members.end(), [](const auto *a, const auto *b) {
      return std::string_view(a->name.GetString(), a->name.GetStringLength()) <
             std::string_view(b->name.GetString(), b->name.GetStringLength());
    });
    w.StartObject();
    for (const auto *m : members) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      write_sorted(w, m->value);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (const auto &e : v.GetArray()) write_sorted(w, e);
    w.EndArray();
  } else {
    v.Accept(w);
  }
}

}  // namespace

std::string canonical_credential(std::string_view credential_json) {
  WipingDocument parsed;
  if (!bounded_json::parse(parsed.doc, credential_json).ok) return std::string(credential_json);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  write_sorted(w, parsed.doc);
  std::string out(sb.GetString(), sb.GetSize());
  OPENSSL_cleanse(const_cast<char *>(sb.GetString()), sb.GetSize());
  return out;
}

std::string KeyRing::record_name(size_t i, std::string_view plugin_id, std::string_view credential_json,
                                 const std::string &account) const {
  std::string data(plugin_id);
  data += '\0';
  std::string canonical = canonical_credential(credential_json);
  data += canonical;
  if (!account.empty()) data += '\0' + account;  // printable: no NUL in it
  kit::wipe(canonical);
  std::string mac = hmac(keys_[i].naming.view(), data);
  kit::wipe(data);
  return "credplug:v1:" + keys_[i].id + ":" + kit::hex_encode(std::string_view(mac).substr(0, 16));
}

std::string KeyRing::seal(std::string_view plaintext, std::string_view context) const {
  OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
  const Key &key = keys_[0];
  std::string out;
  out += char(kRecordVersion);
  out += key.id;  // 16 hex characters
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, sizeof nonce) != 1)
    throw Error(ErrorKind::Plugin, "no randomness for the shared cache's nonce");
  out.append(reinterpret_cast<char *>(nonce), sizeof nonce);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string cipher(plaintext.size() + 16, '\0');
  int len = 0, total = 0;
  const auto *k = reinterpret_cast<const unsigned char *>(key.bytes.view().data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char *>(context.data()),
                        int(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char *>(cipher.data()), &len,
                        reinterpret_cast<const unsigned char *>(plaintext.data()), int(plaintext.size())) != 1)
    throw Error(ErrorKind::Plugin, "AES-256-GCM failed sealing a shared cache record");
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char *>(cipher.data()) + total, &len) != 1)
    throw Error(ErrorKind::Plugin, "AES-256-GCM failed sealing a shared cache record");
  total += len;
  cipher.resize(size_t(total));
  unsigned char tag[kTagBytes];
  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, sizeof tag, tag);
  out += cipher;
  out.append(reinterpret_cast<char *>(tag), sizeof tag);
  return out;
}

std::optional<kit::SecretString> KeyRing::open(std::string_view record, std::string_view context,
                                               std::string *unknown_key) const {
  OpenSslSection openssl;  // fork() waits for it (base/fork_gate.hpp)
  const size_t header = 1 + 2 * kIdBytes + kNonceBytes;
  if (record.size() < header + kTagBytes || record[0] != char(kRecordVersion)) return std::nullopt;
  const std::string id(record.substr(1, 2 * kIdBytes));
  const Key *key = nullptr;
  for (const auto &k : keys_)
    if (k.id == id) key = &k;
  if (key == nullptr) {
    if (unknown_key) *unknown_key = id;
    return std::nullopt;
  }
  const auto *nonce = reinterpret_cast<const unsigned char *>(record.data() + 1 + 2 * kIdBytes);
  std::string_view cipher = record.substr(header, record.size() - header - kTagBytes);
  std::string tag(record.substr(record.size() - kTagBytes));
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string plain(cipher.size() + 16, '\0');
  int len = 0, total = 0;
  const auto *k = reinterpret_cast<const unsigned char *>(key->bytes.view().data());
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char *>(context.data()),
                              int(context.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char *>(plain.data()), &len,
                              reinterpret_cast<const unsigned char *>(cipher.data()), int(cipher.size())) == 1;
  total = len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTagBytes), tag.data()) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char *>(plain.data()) + total, &len) == 1;
  if (!ok) {
    kit::wipe(plain);
    return std::nullopt;
  }
  plain.resize(size_t(total) + size_t(len));
  kit::SecretString out(plain);
  kit::wipe(plain);
  return out;
}

}  // namespace credplug::host
