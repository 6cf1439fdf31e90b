#include "credential_source.hpp"

#include "json_wipe.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace credplug::cli {
namespace {

using rapidjson::Value;

kit::SecretString read_stream(std::istream &in) {
  kit::SecretString out;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(std::string_view(buf, size_t(in.gcount())));
    OPENSSL_cleanse(buf, sizeof buf);
  }
  return out;
}

kit::SecretString read_file(const std::string &path, const std::string &what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CredentialSourceError("cannot read " + what + " '" + path + "': " + std::strerror(errno));
  return read_stream(in);
}

kit::SecretString drop_trailing_newline(kit::SecretString s) {
  std::string_view v = s.view();
  if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
  if (!v.empty() && v.back() == '\r') v.remove_suffix(1);
  return kit::SecretString(v);
}

struct Resolver {
  rapidjson::Document::AllocatorType &alloc;
  bool stdin_used;

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
        kit::SecretString value = lookup(key, m.value, field);
        host::wipe_json_strings(v);
        v.SetString(value.c_str(), rapidjson::SizeType(value.size()), alloc);
        return;
      }
    }
    for (auto &m : v.GetObject()) resolve(m.value, m.name.GetString());
  }

  kit::SecretString lookup(const std::string &kind, const Value &arg, const std::string &field) {
    if (kind == "$env") {
      if (!arg.IsString()) throw CredentialSourceError("field '" + field + "': {\"$env\": ...} needs a variable name");
      const char *value = std::getenv(arg.GetString());
      if (value == nullptr)
        throw CredentialSourceError("field '" + field + "' refers to environment variable " + arg.GetString() +
                                    ", which is not set");
      return kit::SecretString(std::string_view(value));
    }
    if (kind == "$file") {
      if (!arg.IsString()) throw CredentialSourceError("field '" + field + "': {\"$file\": ...} needs a path");
      return drop_trailing_newline(read_file(arg.GetString(), "the file for field '" + field + "'"));
    }
    if (!arg.IsBool() || !arg.GetBool())
      throw CredentialSourceError("field '" + field + "': write {\"$stdin\": true} to read it from standard input");
    if (stdin_used)
      throw CredentialSourceError("field '" + field + "' wants standard input, which is already used " +
                                  "(by the credential file or another field)");
    stdin_used = true;
    return drop_trailing_newline(read_stream(std::cin));
  }
};

}  // namespace

kit::SecretString read_credential(const std::string &path) {
  kit::SecretString text = path == "-" ? read_stream(std::cin) : read_file(path, "credential file");
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError()) {
    size_t offset = doc.GetErrorOffset();
    size_t line = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) line += text.view()[i] == '\n';
    // Position only: the text around the error may be a secret.
    throw CredentialSourceError("credential file '" + path + "' is not valid JSON: " +
                                rapidjson::GetParseError_En(doc.GetParseError()) + " (line " + std::to_string(line) +
                                ", byte offset " + std::to_string(offset) + ")");
  }
  Resolver resolver{doc.GetAllocator(), path == "-"};
  try {
    resolver.resolve(doc, "");
  } catch (...) {
    host::wipe_json_strings(doc);
    throw;
  }
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  doc.Accept(writer);
  kit::SecretString json(out.GetString(), out.GetSize());
  OPENSSL_cleanse(const_cast<char *>(out.GetString()), out.GetSize());
  host::wipe_json_strings(doc);
  return json;
}

}  // namespace credplug::cli
