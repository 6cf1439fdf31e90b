#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace credplug::testing {
namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;

void check(bool ok, const char *what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  check(key != nullptr, "EC key generation");
  return key;
}

void add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert new_cert(EVP_PKEY *key, const std::string &cn, long serial) {
  Cert cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 30);
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char *>(cn.c_str()), -1, -1, 0);
  return cert;
}

void write_pem(const std::string &path, X509 *cert, EVP_PKEY *key) {
  FILE *f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "opening a PEM file");
  bool ok =
      cert ? PEM_write_X509(f, cert) == 1 : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  check(ok, "writing a PEM file");
}

}  // namespace

TestPki make_test_pki(const std::string &dir, const std::string &ca_name) {
  std::filesystem::create_directories(dir);
  static long serial = 1000;

  Key ca_key = new_key();
  Cert ca = new_cert(ca_key.get(), ca_name, ++serial);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "signing the CA");

  Key server_key = new_key();
  Cert server = new_cert(server_key.get(), "localhost", ++serial);
  X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get()));
  add_ext(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_ext(server.get(), ca.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  add_ext(server.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_ext(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(server.get(), ca_key.get(), EVP_sha256()) > 0, "signing the server certificate");

  Key client_key = new_key();
  Cert client = new_cert(client_key.get(), kTestClientName, ++serial);
  X509_set_issuer_name(client.get(), X509_get_subject_name(ca.get()));
  add_ext(client.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(client.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(client.get(), ca.get(), NID_ext_key_usage, "clientAuth");
  add_ext(client.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(client.get(), ca_key.get(), EVP_sha256()) > 0, "signing the client certificate");

  TestPki pki{dir + "/ca.pem",     dir + "/server.pem",     dir + "/server-key.pem",
              dir + "/client.pem", dir + "/client-key.pem", dir + "/client-key-encrypted.pem"};
  write_pem(pki.ca_cert, ca.get(), nullptr);
  write_pem(pki.server_cert, server.get(), nullptr);
  write_pem(pki.server_key, nullptr, server_key.get());
  write_pem(pki.client_cert, client.get(), nullptr);
  write_pem(pki.client_key, nullptr, client_key.get());
  FILE *f = std::fopen(pki.client_key_encrypted.c_str(), "w");
  check(f != nullptr, "opening a PEM file");
  const bool ok = PEM_write_PKCS8PrivateKey(f, client_key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                            const_cast<char *>(kTestClientKeyPassphrase)) == 1;
  std::fclose(f);
  check(ok, "writing the encrypted client key");
  return pki;
}

}  // namespace credplug::testing
