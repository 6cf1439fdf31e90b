// Wiping secrets out of a parsed RapidJSON document before its allocator
// frees the memory (credential files and credentials hold secret values).
// The SDK kit has its own copy: it must not expose RapidJSON to plugins.
#pragma once

#include <openssl/crypto.h>
#include <rapidjson/document.h>

namespace credplug::host {

// Overwrites every string value (member names are kept) with zeros.
inline void wipe_json_strings(rapidjson::Value &v) {
  if (v.IsString()) {
    OPENSSL_cleanse(const_cast<char *>(v.GetString()), v.GetStringLength());
  } else if (v.IsObject()) {
    for (auto &m : v.GetObject()) wipe_json_strings(m.value);
  } else if (v.IsArray()) {
    for (auto &e : v.GetArray()) wipe_json_strings(e);
  }
}

// A document whose strings are wiped when it goes.
struct WipingDocument {
  rapidjson::Document doc;
  ~WipingDocument() { wipe_json_strings(doc); }
};

}  // namespace credplug::host
