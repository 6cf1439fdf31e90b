#include "support/test_keys.hpp"

#include <credplug/kit/encoding.hpp>
#include <credplug/kit/jwt.hpp>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace credplug::testing {
namespace {

struct Freer {
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
  void operator()(BIO *b) const { BIO_free(b); }
  void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }
};

std::string drain(BIO *bio) {
  char *data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, size_t(len));
}

// Never the terminal prompt OpenSSL falls back to without a passphrase.
std::unique_ptr<EVP_PKEY, Freer> read_private(const std::string &pem, const char *passphrase = "") {
  std::unique_ptr<BIO, Freer> in(BIO_new_mem_buf(pem.data(), int(pem.size())));
  return std::unique_ptr<EVP_PKEY, Freer>(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, const_cast<char *>(passphrase)));
}

}  // namespace

std::string make_private_key_pem(std::string_view kind, const char *passphrase) {
  EVP_PKEY *raw = nullptr;
  if (kind == "rsa2048")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048));
  else if (kind == "rsa1024")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024));
  else if (kind == "p256")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (kind == "p384")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  else if (kind == "ed25519")
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  std::unique_ptr<EVP_PKEY, Freer> key(raw);
  if (!key) throw std::runtime_error("could not make a " + std::string(kind) + " key");
  std::unique_ptr<BIO, Freer> out(BIO_new(BIO_s_mem()));
  const EVP_CIPHER *cipher = passphrase ? EVP_aes_256_cbc() : nullptr;
  if (PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), cipher, nullptr, 0, nullptr,
                                    const_cast<char *>(passphrase)) != 1)
    throw std::runtime_error("could not write the key");
  return drain(out.get());
}

std::string public_key_pem(const std::string &private_key_pem) {
  auto key = read_private(private_key_pem);
  if (!key) throw std::runtime_error("not a private key");
  std::unique_ptr<BIO, Freer> out(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(out.get(), key.get());
  return drain(out.get());
}

bool verify_jwt(const std::string &jwt, std::string_view alg, const std::string &key, const char *passphrase) {
  const size_t second = jwt.rfind('.');
  if (second == std::string::npos) return false;
  const std::string input = jwt.substr(0, second);
  auto signature = kit::base64url_decode(jwt.substr(second + 1));
  auto decoded = kit::decode_jwt(jwt);
  if (!signature || !decoded || decoded->header.string("alg") != std::string(alg)) return false;
  const auto *data = reinterpret_cast<const unsigned char *>(input.data());
  if (alg == "HS256") {
    unsigned char mac[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), int(key.size()), data, input.size(), mac, &len);
    return signature->size() == 32 && std::memcmp(mac, signature->data(), 32) == 0;
  }
  auto pkey = read_private(key, passphrase);
  if (!pkey) {
    ERR_clear_error();
    std::unique_ptr<BIO, Freer> in(BIO_new_mem_buf(key.data(), int(key.size())));
    pkey.reset(PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr));
  }
  if (!pkey) return false;
  std::string sig = *signature;
  if (alg == "ES256") {  // JWS's R || S back to DER
    if (sig.size() != 64) return false;
    ECDSA_SIG *ec = ECDSA_SIG_new();
    const auto *p = reinterpret_cast<const unsigned char *>(sig.data());
    ECDSA_SIG_set0(ec, BN_bin2bn(p, 32, nullptr), BN_bin2bn(p + 32, 32, nullptr));
    unsigned char *der = nullptr;
    const int len = i2d_ECDSA_SIG(ec, &der);
    sig.assign(reinterpret_cast<char *>(der), size_t(len));
    OPENSSL_free(der);
    ECDSA_SIG_free(ec);
  }
  std::unique_ptr<EVP_MD_CTX, Freer> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX *pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, alg == "EdDSA" ? nullptr : EVP_sha256(), nullptr, pkey.get()) != 1)
    return false;
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);  // exactly the hash's length, as RFC 7518 §3.5 says
  } else if (alg == "RS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char *>(sig.data()), sig.size(), data,
                          input.size()) == 1;
}

}  // namespace credplug::testing
