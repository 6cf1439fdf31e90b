#include <credplug/credential_file.hpp>

#include "api/environment.hpp"
#include "bounded_json.hpp"
#include "plugin/errno_text.hpp"
#include "secrets/json_wipe.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace credplug {
namespace {

using rapidjson::Value;

// Reads at most kMaxCredentialBytes; one byte more is an error naming `what`.
kit::SecretString read_bounded(std::istream &in, const std::string &what) {
  kit::SecretString out;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    size_t n = size_t(in.gcount());
    if (out.size() + n > kMaxCredentialBytes) {
      OPENSSL_cleanse(buf, sizeof buf);
      throw CredentialSourceError(what + " is larger than the " + std::to_string(kMaxCredentialBytes) +
                                  "-byte limit for credentials");
    }
    out.append(std::string_view(buf, n));
    OPENSSL_cleanse(buf, sizeof buf);
  }
  return out;
}

kit::SecretString read_file(const std::string &path, const std::string &what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw CredentialSourceError(what + " '" + path + "' is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CredentialSourceError("cannot read " + what + " '" + path + "': " + errno_text(errno));
  return read_bounded(in, what + " '" + path + "'");
}

kit::SecretString drop_trailing_newline(const kit::SecretString &s) {
  std::string_view v = s.view();
  if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return kit::SecretString(v);
}

struct Resolver {
  rapidjson::Document::AllocatorType &alloc;
  bool allowed;
  const ReferenceLoader &load;
  std::vector<kit::SecretString> &loaded;

  // Replaces a {"$env"|"$file"|"$stdin"} object by the string it names.
  void resolve(Value &v, const std::string &field) {
    if (v.IsArray()) {
      for (auto &e : v.GetArray()) resolve(e, field);
      return;
    }
    if (!v.IsObject()) return;
    if (v.MemberCount() == 1) {
      auto &m = *v.MemberBegin();
      std::string key = m.name.GetString();
      if (key == "$env" || key == "$file" || key == "$stdin") {
        if (!allowed)
          throw CredentialSourceError("field '" + field + "' is a {\"" + key +
                                      "\": ...} reference, and references are refused (--no-references)");
        kit::SecretString value = load(key, argument(key, m.value, field), field);
        loaded.push_back(value);
        host::wipe_json_strings(v);
        v.SetString(value.c_str(), rapidjson::SizeType(value.size()), alloc);
        return;
      }
    }
    for (auto &m : v.GetObject()) resolve(m.value, m.name.GetString());
  }

  static std::string argument(const std::string &kind, const Value &arg, const std::string &field) {
    if (kind == "$env") {
      if (!arg.IsString()) throw CredentialSourceError("field '" + field + "': {\"$env\": ...} needs a variable name");
      return arg.GetString();
    }
    if (kind == "$file") {
      if (!arg.IsString()) throw CredentialSourceError("field '" + field + "': {\"$file\": ...} needs a path");
      return arg.GetString();
    }
    if (!arg.IsBool() || !arg.GetBool())
      throw CredentialSourceError("field '" + field + "': write {\"$stdin\": true} to read it from standard input");
    return "true";
  }
};

// Loads references from the environment, files and standard input.
struct SystemLoader {
  bool stdin_used;
  kit::SecretString operator()(const std::string &kind, const std::string &arg, const std::string &field) {
    if (kind == "$env") {
      auto value = host::environment_secret(arg);
      if (!value)
        throw CredentialSourceError("field '" + field + "' refers to environment variable " + arg +
                                    ", which is not set");
      return std::move(*value);
    }
    if (kind == "$file") return drop_trailing_newline(read_file(arg, "the file for field '" + field + "'"));
    if (stdin_used)
      throw CredentialSourceError("field '" + field + "' wants standard input, which is already used " +
                                  "(by the credential file or another field)");
    stdin_used = true;
    return drop_trailing_newline(read_bounded(std::cin, "standard input for field '" + field + "'"));
  }
};

}  // namespace

OpenOptions open_options_for(const std::string &path, const CredentialText &credential) {
  OpenOptions o;
  const bool printable =
      path.size() <= 128 && std::all_of(path.begin(), path.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) o.label = path;
  o.also_secret = credential.loaded;
  return o;
}

CredentialText read_credential(const std::string &path, bool allow_references) {
  kit::SecretString text =
      path == "-" ? read_bounded(std::cin, "the credential on standard input") : read_file(path, "credential file");
  ReferenceLoader load = SystemLoader{path == "-"};
  return resolve_credential(text.view(), "credential file '" + path + "'", allow_references, load);
}

CredentialText resolve_credential(std::string_view text, const std::string &origin, bool allow_references,
                                  const ReferenceLoader &load) {
  CredentialText out;
  rapidjson::Document doc;
  if (auto parsed = bounded_json::parse(doc, text); !parsed.ok)
    // Position only: the text around the error may be a secret.
    throw CredentialSourceError(origin + " is not valid JSON: " + parsed.where(text));
  Resolver resolver{doc.GetAllocator(), allow_references, load, out.loaded};
  try {
    resolver.resolve(doc, "");
  } catch (...) {
    host::wipe_json_strings(doc);
    throw;
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  out.json = kit::SecretString(buffer.GetString(), buffer.GetSize());
  OPENSSL_cleanse(const_cast<char *>(buffer.GetString()), buffer.GetSize());
  host::wipe_json_strings(doc);
  return out;
}

}  // namespace credplug
