// Reading a credential file as the CLI does (part of the public API, for
// embedders that read the same files). Secrets need never be typed on a
// command line: any field's value may be a reference that is resolved here,
//   {"$env": "NAME"}    the value of environment variable NAME
//   {"$file": "PATH"}   the contents of a file (one trailing newline dropped)
//   {"$stdin": true}    standard input (one trailing newline dropped)
// and the file itself may be "-" for standard input.
//
// Limits: the credential file and every referenced file or stream are read
// up to kMaxCredentialBytes (1 MiB) and refused beyond; the JSON nests at
// most 64 levels, is valid UTF-8 and holds no "\u0000". A value loaded
// through a reference is a secret wherever it ends up, whatever the schema
// says. With references refused (--no-references, for files someone else
// wrote), a reference is an error naming the field.
#pragma once

#include <credplug/kit/secret.hpp>
#include <credplug/types.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace credplug {

constexpr size_t kMaxCredentialBytes = 1 << 20;

// An Error of kind InvalidInput.
class CredentialSourceError : public Error {
 public:
  explicit CredentialSourceError(const std::string &message) : Error(ErrorKind::InvalidInput, message) {}
};

struct CredentialText {
  kit::SecretString json;                 // every reference resolved
  std::vector<kit::SecretString> loaded;  // the values references loaded
};

// The credential with every reference resolved. Throws CredentialSourceError
// naming the file or field and what is wrong.
CredentialText read_credential(const std::string &path, bool allow_references = true);

// Loads the value a reference names: `kind` is "$env", "$file" or "$stdin"
// (`argument` is then "true"); `field` is for messages. Throws
// CredentialSourceError.
using ReferenceLoader =
    std::function<kit::SecretString(const std::string &kind, const std::string &argument, const std::string &field)>;

// How to open a credential read from `path`: the path as its label (when it
// is at most 128 printable ASCII bytes; else none), and the values its
// references loaded as secrets. What the CLI does.
OpenOptions open_options_for(const std::string &path, const CredentialText &credential);

// read_credential()'s work on text already read; `origin` names it in
// messages ("credential file 'x.json'"). For the fuzzer, and for callers
// with their own sources.
CredentialText resolve_credential(std::string_view text, const std::string &origin, bool allow_references,
                                  const ReferenceLoader &load);

}  // namespace credplug
