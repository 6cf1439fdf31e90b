#include "net/client_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>

namespace credplug::host {
namespace {

constexpr size_t kMaxPemBytes = size_t{256} * 1024;  // a chain of a few certificates; keys are smaller

struct BioFree {
  void operator()(BIO *b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
struct X509Free {
  void operator()(X509 *x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};

Bio reading(const kit::SecretString &text) { return Bio(BIO_new_mem_buf(text.c_str(), int(text.size()))); }

// Hands OpenSSL the passphrase; never asks a terminal.
int passphrase_callback(char *buf, int size, int, void *user) {
  const auto *pass = static_cast<const kit::SecretString *>(user);
  if (pass == nullptr || pass->size() > size_t(size)) return -1;
  std::memcpy(buf, pass->c_str(), pass->size());
  return int(pass->size());
}

}  // namespace

std::variant<ReadyClientCertificate, std::string> ready_client_certificate(const ClientCertificate &given) {
  struct ClearErrors {
    ~ClearErrors() { ERR_clear_error(); }
  } clear;
  if (given.cert_pem.size() > kMaxPemBytes || given.key_pem.size() > kMaxPemBytes)
    return std::string("the client certificate or key is over 256 KiB; no PEM text needs that much");
  Bio cert_in = reading(given.cert_pem);
  std::unique_ptr<X509, X509Free> cert(cert_in ? PEM_read_bio_X509(cert_in.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return std::string("the client certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)");
  Bio key_in = reading(given.key_pem);
  const kit::SecretString *pass = given.passphrase ? &*given.passphrase : nullptr;
  std::unique_ptr<EVP_PKEY, PkeyFree> key(key_in ? PEM_read_bio_PrivateKey(key_in.get(), nullptr, passphrase_callback,
                                                                           const_cast<kit::SecretString *>(pass))
                                                 : nullptr);
  if (!key) {
    const bool encrypted = given.key_pem.view().find("ENCRYPTED") != std::string_view::npos;
    if (encrypted && pass == nullptr) return std::string("the client key is encrypted and no passphrase was given");
    if (encrypted) return std::string("the passphrase does not decrypt the client key");
    return std::string("the client key is not a PEM private key");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1)
    return std::string("the client key does not match the client certificate");
  ReadyClientCertificate ready;
  ready.cert_pem = given.cert_pem;
  if (pass == nullptr) {
    ready.key_pem = given.key_pem;
    return ready;
  }
  // Re-encoded unencrypted in the secure heap (cleared when freed).
  Bio out(BIO_new(BIO_s_secmem()));
  if (!out || PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return std::string("the client key could not be re-encoded (out of memory)");
  char *data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  if (len <= 0 || data == nullptr) return std::string("the client key could not be re-encoded");
  ready.key_pem = kit::SecretString(data, size_t(len));
  return ready;
}

}  // namespace credplug::host
