// Reading a credential file as the CLI does (part of the public API, for
// embedders that read the same files). Secrets need never be typed on a
// command line: any field's value may be a reference that is resolved here,
//   {"$env": "NAME"}    the value of environment variable NAME
//   {"$file": "PATH"}   the contents of a file (one trailing newline dropped)
//   {"$stdin": true}    standard input (one trailing newline dropped)
// and the file itself may be "-" for standard input.
//
// A top-level "$state" member holds the credential's state (OpenOptions::
// state: a refresh token its provider rotates), which credplug writes: it
// is taken out of the credential, never resolved, and given as the state.
// When the plugin changes it, open_options_for()'s sink rewrites the file
// (write_credential_state) with nothing else changed: references stay
// references.
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
  kit::SecretString json;                 // every reference resolved, "$state" taken out
  std::vector<kit::SecretString> loaded;  // the values references loaded
  kit::SecretString state;                // the "$state" member's JSON; empty: none
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
// is at most 128 printable ASCII bytes; else none), the values its
// references loaded as secrets, its "$state" as the state, and a state sink
// that writes new state into the file (write_credential_state; for "-",
// standard input, one that fails: new state has nowhere to go). What the
// CLI does.
OpenOptions open_options_for(const std::string &path, const CredentialText &credential);

// Sets the "$state" member of the credential file at `path` (a symbolic
// link: of its target) to `state_json`, leaving every other member as the
// file has it, and replaces the file atomically: a new file of mode 0600
// beside it, written, fsync'ed and renamed over it, then the directory
// fsync'ed. A reader sees the old file or the new one, never a mix; a
// crash leaves one of them. Throws CredentialSourceError naming the file
// and what failed.
void write_credential_state(const std::string &path, const kit::SecretString &state_json);

// read_credential()'s work on text already read; `origin` names it in
// messages ("credential file 'x.json'"). For the fuzzer, and for callers
// with their own sources.
CredentialText resolve_credential(std::string_view text, const std::string &origin, bool allow_references,
                                  const ReferenceLoader &load);

}  // namespace credplug
