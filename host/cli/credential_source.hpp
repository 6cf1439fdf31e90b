// Reading a credential file for the CLI. Secrets need never be typed on a
// command line: any field's value may be a reference that is resolved here,
//   {"$env": "NAME"}    the value of environment variable NAME
//   {"$file": "PATH"}   the contents of a file (one trailing newline dropped)
//   {"$stdin": true}    standard input (one trailing newline dropped)
// and the file itself may be "-" for standard input.
#pragma once

#include <credplug/kit/secret.hpp>

#include <stdexcept>
#include <string>

namespace credplug::cli {

class CredentialSourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The credential as JSON text with every reference resolved. Throws
// CredentialSourceError naming the file or field and what is wrong.
kit::SecretString read_credential(const std::string &path);

}  // namespace credplug::cli
