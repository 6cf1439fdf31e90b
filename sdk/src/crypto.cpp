#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/failure.hpp>

#include "bounded_json.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <climits>
#include <cstring>
#include <set>

namespace credplug::kit {
namespace {

constexpr int64_t kMaxJwtLifetimeSeconds = 86400;
// No PEM key of any supported kind comes near this: past it is not a key.
constexpr size_t kMaxKeyTextBytes = size_t{64} * 1024;

const unsigned char *bytes(std::string_view s) { return reinterpret_cast<const unsigned char *>(s.data()); }

struct PkeyFree {
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct MdCtxFree {
  void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }
};

// The passphrase for PEM_read_bio_PrivateKey; OpenSSL wipes its copy.
int passphrase_callback(char *buf, int size, int, void *user) {
  const auto *pass = static_cast<const SecretString *>(user);
  if (pass == nullptr || pass->size() > size_t(size)) return -1;
  std::memcpy(buf, pass->c_str(), pass->size());
  return int(pass->size());
}

// An EC key's curve as OpenSSL names it ("prime256v1", "secp384r1").
std::string ec_group(EVP_PKEY *key) {
  char group[64] = "";
  size_t len = 0;
  EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
  return group;
}

// What the key is, in words: "an RSA key of 1024 bits", "an EC key on P-384".
std::string describe(EVP_PKEY *key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "an RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) + " bits";
    case EVP_PKEY_EC: {
      const std::string group = ec_group(key);
      return "an EC key on " + (group == "prime256v1" ? std::string("P-256") : group);
    }
    case EVP_PKEY_ED25519:
      return "an Ed25519 key";
    case EVP_PKEY_ED448:
      return "an Ed448 key";
    default:
      return std::string("a key of type ") + OBJ_nid2sn(EVP_PKEY_get_base_id(key));
  }
}

// Why `key` cannot sign with `alg`, or empty.
std::string unsuitable(JwtAlg alg, EVP_PKEY *key) {
  const int type = EVP_PKEY_get_base_id(key);
  const std::string name = to_string(alg);
  switch (alg) {
    case JwtAlg::RS256:
    case JwtAlg::PS256:
      if (type != EVP_PKEY_RSA) return describe(key) + "; " + name + " needs an RSA key";
      if (EVP_PKEY_get_bits(key) < 2048)
        return describe(key) + "; " + name + " needs 2048 bits or more (RFC 7518, section 3.3)";
      return "";
    case JwtAlg::ES256:
      if (type != EVP_PKEY_EC || ec_group(key) != "prime256v1")
        return describe(key) + "; ES256 needs an EC key on P-256";
      return "";
    case JwtAlg::EdDSA:
      if (type != EVP_PKEY_ED25519) return describe(key) + "; EdDSA here is Ed25519";
      return "";
    case JwtAlg::HS256:
      break;
  }
  return "";
}

// ECDSA's DER signature as JWS wants it: R and S, 32 bytes each (RFC 7518 §3.4).
std::string ecdsa_der_to_jws(const unsigned char *der, size_t len) {
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(nullptr, &p, long(len));
  if (sig == nullptr) fail(CREDPLUG_ERR_PLUGIN, "ES256: the library's signature is not DER");
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(64, '\0');
  auto *o = reinterpret_cast<unsigned char *>(out.data());
  const bool ok = BN_bn2binpad(r, o, 32) == 32 && BN_bn2binpad(s, o + 32, 32) == 32;
  ECDSA_SIG_free(sig);
  if (!ok) fail(CREDPLUG_ERR_PLUGIN, "ES256: a signature component is longer than 32 bytes");
  return out;
}

}  // namespace

Sha256 sha256(std::string_view data) {
  Sha256 out{};
  if (EVP_Digest(data.data(), data.size(), out.data(), nullptr, EVP_sha256(), nullptr) != 1)
    fail(CREDPLUG_ERR_PLUGIN, "SHA-256 failed in libcrypto");
  return out;
}

std::string sha256_hex(std::string_view data) {
  const Sha256 digest = sha256(data);
  return hex_encode(std::string_view(reinterpret_cast<const char *>(digest.data()), digest.size()));
}

SecretString hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (key.size() > size_t(INT_MAX) ||
      HMAC(EVP_sha256(), key.data(), int(key.size()), bytes(data), data.size(), mac, &len) == nullptr)
    fail(CREDPLUG_ERR_PLUGIN, "HMAC-SHA-256 failed in libcrypto");
  SecretString out(reinterpret_cast<const char *>(mac), len);
  OPENSSL_cleanse(mac, sizeof mac);
  return out;
}

void random_bytes(void *out, size_t len) {
  auto *p = static_cast<unsigned char *>(out);
  while (len > 0) {  // RAND_bytes takes an int
    const int chunk = len > size_t(INT_MAX) ? INT_MAX : int(len);
    if (RAND_bytes(p, chunk) != 1) {
      ERR_clear_error();
      fail(CREDPLUG_ERR_PLUGIN, "the operating system's random generator failed (RAND_bytes)");
    }
    p += chunk;
    len -= size_t(chunk);
  }
}

std::string random_id(size_t n) {
  std::string raw(n, '\0');
  random_bytes(raw.data(), raw.size());
  std::string id = base64url_encode(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return id;
}

std::optional<JwtAlg> jwt_alg_from_string(std::string_view name) {
  if (name == "HS256") return JwtAlg::HS256;
  if (name == "RS256") return JwtAlg::RS256;
  if (name == "PS256") return JwtAlg::PS256;
  if (name == "ES256") return JwtAlg::ES256;
  if (name == "EdDSA") return JwtAlg::EdDSA;
  return std::nullopt;
}

const char *to_string(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::HS256:
      return "HS256";
    case JwtAlg::RS256:
      return "RS256";
    case JwtAlg::PS256:
      return "PS256";
    case JwtAlg::ES256:
      return "ES256";
    case JwtAlg::EdDSA:
      return "EdDSA";
  }
  return "?";
}

struct SigningKey::Impl {
  JwtAlg alg = JwtAlg::HS256;
  Pkey key;             // every alg but HS256
  SecretString secret;  // HS256
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::SigningKey(SigningKey &&) noexcept = default;
SigningKey &SigningKey::operator=(SigningKey &&) noexcept = default;
SigningKey::~SigningKey() = default;  // EVP_PKEY_free clears private numbers; SecretString wipes

JwtAlg SigningKey::alg() const { return impl_->alg; }

SigningKey SigningKey::load(JwtAlg alg, std::string_view text, const SecretString *passphrase, std::string_view field) {
  const std::string where = std::string(field) + " (" + to_string(alg) + ")";
  auto impl = std::make_unique<Impl>();
  impl->alg = alg;
  if (text.empty()) fail(CREDPLUG_ERR_INVALID_CONFIG, where + ": empty; expected a key");
  if (alg == JwtAlg::HS256) {
    impl->secret = SecretString(text);
    return SigningKey(std::move(impl));
  }
  if (text.size() > kMaxKeyTextBytes)
    fail(CREDPLUG_ERR_INVALID_CONFIG, where + ": " + std::to_string(text.size()) + " bytes, more than the " +
                                          std::to_string(kMaxKeyTextBytes) + " any PEM private key needs");
  if (text.find("-----BEGIN ") == std::string_view::npos || text.find("PRIVATE KEY-----") == std::string_view::npos)
    fail(CREDPLUG_ERR_INVALID_CONFIG,
         where +
             ": not a PEM private key (expected -----BEGIN PRIVATE KEY----- or the like; a file name is not "
             "read: put the key's text in the credential, or use \"$file\")");
  BIO *bio = BIO_new_mem_buf(text.data(), int(text.size()));
  if (bio == nullptr) fail(CREDPLUG_ERR_PLUGIN, "out of memory reading " + where);
  // A passphrase of "" is no passphrase: the callback's -1 stops OpenSSL
  // from asking a terminal, which a runner does not have.
  Pkey key(PEM_read_bio_PrivateKey(bio, nullptr, passphrase_callback, const_cast<SecretString *>(passphrase)));
  BIO_free(bio);
  if (!key) {
    ERR_clear_error();
    const bool encrypted = text.find("ENCRYPTED") != std::string_view::npos;
    if (encrypted && passphrase == nullptr)
      fail(CREDPLUG_ERR_INVALID_CONFIG, where + ": the key is encrypted and no passphrase was given");
    if (encrypted) fail(CREDPLUG_ERR_INVALID_CONFIG, where + ": the passphrase does not decrypt the key");
    fail(CREDPLUG_ERR_INVALID_CONFIG, where +
                                          ": the PEM text is not a private key OpenSSL can read (damaged "
                                          "base64, or a certificate or public key instead)");
  }
  if (std::string why = unsuitable(alg, key.get()); !why.empty()) fail(CREDPLUG_ERR_INVALID_CONFIG, where + ": " + why);
  impl->key = std::move(key);
  return SigningKey(std::move(impl));
}

std::string SigningKey::sign(std::string_view data) const {
  if (impl_->alg == JwtAlg::HS256) {
    SecretString mac = hmac_sha256(impl_->secret.view(), data);
    return mac.reveal();
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX *pctx = nullptr;
  const EVP_MD *md = impl_->alg == JwtAlg::EdDSA ? nullptr : EVP_sha256();
  bool ok = ctx && EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, impl_->key.get()) == 1;
  if (ok && impl_->alg == JwtAlg::PS256)  // RFC 7518 §3.5: MGF1 with SHA-256, a salt as long as the hash
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  size_t len = 0;
  ok = ok && EVP_DigestSign(ctx.get(), nullptr, &len, bytes(data), data.size()) == 1;
  std::string sig(len, '\0');
  ok = ok &&
       EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(sig.data()), &len, bytes(data), data.size()) == 1;
  if (!ok) {
    ERR_clear_error();
    fail(CREDPLUG_ERR_PLUGIN, std::string(to_string(impl_->alg)) + " signing failed in libcrypto");
  }
  sig.resize(len);
  if (impl_->alg == JwtAlg::ES256) return ecdsa_der_to_jws(reinterpret_cast<const unsigned char *>(sig.data()), len);
  return sig;
}

SecretString sign_jwt(const SigningKey &key, const JwtClaims &claims, int64_t now_s) {
  if (claims.lifetime_s < 1 || claims.lifetime_s > kMaxJwtLifetimeSeconds)
    fail(CREDPLUG_ERR_PLUGIN, "a JWT lifetime of " + std::to_string(claims.lifetime_s) +
                                  " s; expected 1 to 86400 (an assertion lives minutes)");
  rapidjson::StringBuffer header;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(header);
    w.StartObject();
    w.Key("alg");
    w.String(to_string(key.alg()));
    w.Key("typ");
    w.String("JWT");
    if (!claims.kid.empty()) {
      w.Key("kid");
      w.String(claims.kid.data(), rapidjson::SizeType(claims.kid.size()));
    }
    w.EndObject();
  }
  rapidjson::Document extra;
  if (!claims.json.empty()) {
    auto outcome = bounded_json::parse(extra, claims.json);
    if (!outcome.ok || !extra.IsObject())
      fail(CREDPLUG_ERR_PLUGIN, "the JWT's extra claims are not a JSON object" +
                                    (outcome.ok ? std::string() : ": " + outcome.where(claims.json)));
  }
  rapidjson::StringBuffer body;
  {
    rapidjson::Writer<rapidjson::StringBuffer> w(body);
    std::set<std::string, std::less<>> written;
    auto text = [&](const char *name, std::string_view value) {
      if (value.empty()) return;  // left out
      if (!written.insert(name).second)
        fail(CREDPLUG_ERR_PLUGIN, std::string("the JWT claim '") + name + "' is given twice");
      w.Key(name);
      w.String(value.data(), rapidjson::SizeType(value.size()));
    };
    auto number = [&](const char *name, int64_t value) {
      written.insert(name);
      w.Key(name);
      w.Int64(value);
    };
    w.StartObject();
    text("iss", claims.iss);
    text("sub", claims.sub);
    text("aud", claims.aud);
    number("iat", now_s);
    number("exp", now_s + claims.lifetime_s);
    text("jti", random_id(16));
    for (const auto &[name, value] : claims.strings) text(name.c_str(), value);
    if (extra.IsObject())
      for (auto &member : extra.GetObject()) {
        const std::string name(member.name.GetString(), member.name.GetStringLength());
        if (!written.insert(name).second) fail(CREDPLUG_ERR_PLUGIN, "the JWT claim '" + name + "' is given twice");
        w.Key(name.data(), rapidjson::SizeType(name.size()));
        member.value.Accept(w);
      }
    w.EndObject();
  }
  SecretString jwt(base64url_encode(std::string_view(header.GetString(), header.GetSize())) + "." +
                   base64url_encode(std::string_view(body.GetString(), body.GetSize())));
  OPENSSL_cleanse(const_cast<char *>(body.GetString()), body.GetSize());
  std::string signature = key.sign(jwt.view());
  jwt.append(".");
  jwt.append(base64url_encode(signature));
  OPENSSL_cleanse(signature.data(), signature.size());
  return jwt;
}

}  // namespace credplug::kit
