// A client certificate (mTLS) for one request, as a plugin hands it over:
// PEM text of the certificate chain and of its private key, maybe encrypted.
// Checked and made ready for libcurl's in-memory blobs here, so that no key
// is ever written to a file and no passphrase is handed to libcurl (which
// would keep a copy it frees without wiping): an encrypted key is decrypted
// into OpenSSL's secure heap and re-encoded unencrypted, wiped after use.
#pragma once

#include <credplug/kit/secret.hpp>

#include <optional>
#include <string>
#include <variant>

namespace credplug::host {

struct ClientCertificate {
  kit::SecretString cert_pem;  // the certificate, then any intermediates
  kit::SecretString key_pem;   // PKCS#8, PKCS#1 or SEC1; encrypted when passphrase is set
  std::optional<kit::SecretString> passphrase;
};

// What libcurl gets: the chain as given, the key unencrypted.
struct ReadyClientCertificate {
  kit::SecretString cert_pem;
  kit::SecretString key_pem;
};

// The certificate ready to use, or why not ("the client key does not match
// the client certificate"), never quoting either.
std::variant<ReadyClientCertificate, std::string> ready_client_certificate(const ClientCertificate &given);

}  // namespace credplug::host
