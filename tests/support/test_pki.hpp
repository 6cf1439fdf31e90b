// A throwaway PKI for tests and the demo: a CA and a server certificate for
// localhost/127.0.0.1 signed by it, generated at run time with OpenSSL.
#pragma once

#include <string>

namespace credplug::testing {

struct TestPki {
  std::string ca_cert;      // PEM path: give this to --ca-file
  std::string server_cert;  // PEM path
  std::string server_key;   // PEM path
  // A client certificate (mTLS) signed by the same CA, CN kTestClientName,
  // its key, and the key encrypted with kTestClientKeyPassphrase.
  std::string client_cert, client_key, client_key_encrypted;
};

inline const char *const kTestClientName = "credplug-test-client";
inline const char *const kTestClientKeyPassphrase = "client key passphrase";

// Writes ca.pem, server.pem, server-key.pem, client.pem, client-key.pem and
// client-key-encrypted.pem into `dir` (created if
// needed). Each call makes new keys. Throws std::runtime_error.
TestPki make_test_pki(const std::string &dir, const std::string &ca_name = "credplug test CA");

}  // namespace credplug::testing
