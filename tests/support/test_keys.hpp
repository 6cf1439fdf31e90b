// Throwaway private keys for tests (JWT signing, check-plugin's dry runs),
// generated at run time with OpenSSL, and a JWS verifier to check what was
// signed with them, written independently of the kit's signer.
#pragma once

#include <string>
#include <string_view>

namespace credplug::testing {

// A PEM private key (PKCS#8) of `kind`: "rsa2048", "rsa1024", "p256",
// "p384", "ed25519". With a passphrase: encrypted PKCS#8 (AES-256-CBC).
// Throws std::runtime_error.
std::string make_private_key_pem(std::string_view kind, const char *passphrase = nullptr);

// The public key of a PEM private key, as PEM (SubjectPublicKeyInfo).
std::string public_key_pem(const std::string &private_key_pem);

// Whether `jwt` (compact) carries a valid signature by the private key's
// public half under `alg` ("RS256", "PS256", "ES256", "EdDSA"; "HS256" with
// the secret as `key`), and its header says that alg. `key` is the private
// key (an encrypted one with its passphrase) or the public key, PEM.
bool verify_jwt(const std::string &jwt, std::string_view alg, const std::string &key, const char *passphrase = "");

}  // namespace credplug::testing
