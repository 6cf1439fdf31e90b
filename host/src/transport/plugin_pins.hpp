// Plugin pinning: a pin file names, for each plugin id, the SHA-256 of the
// one file allowed to provide it (like Vault's plugin catalog, or go-plugin's
// checksum before exec). With a pin file, a plugin file is loaded only if its
// hash is pinned (under the id its name gives, if it follows the
// credplug-<id>.so form), checked before any of its code runs.
//
// Format: one "<id> <sha256 hex>" per line; blank lines and everything after
// a '#' are ignored. `credplug pin` writes one.
#pragma once

#include <map>
#include <string>

namespace credplug::host {

struct PinFile {
  std::string path;
  std::map<std::string, std::string> sha256_by_id;  // lower-case hex
};

// Reads and checks a pin file (at most 1 MiB); throws std::runtime_error
// naming the file and line of any problem.
PinFile read_pin_file(const std::string &path);

// The SHA-256 of a file's contents, lower-case hex. Throws std::runtime_error.
std::string file_sha256(const std::string &path);

// The id a plugin file whose contents hash to `sha256` is pinned as:
// `named` (the id its credplug-<id>.so name gives) if pinned to that hash;
// for a file named otherwise (`named` empty), the id pinned to that hash.
// Throws std::runtime_error saying why it is not pinned, naming both hashes
// when they differ.
std::string pinned_id(const PinFile &pins, const std::string &named, const std::string &sha256);

}  // namespace credplug::host
