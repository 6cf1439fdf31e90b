#include <credplug/credential_file.hpp>

#include "api/environment.hpp"
#include "bounded_json.hpp"
#include "plugin/errno_text.hpp"
#include "secrets/json_wipe.hpp"

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Compact JSON text of `v`, the buffer wiped.
kit::SecretString serialize(const Value &v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  kit::SecretString out(buffer.GetString(), buffer.GetSize());
  OPENSSL_cleanse(const_cast<char *>(buffer.GetString()), buffer.GetSize());
  return out;
}

// Writes `text` to a new file of mode 0600 beside `target` and renames it
// over `target`, each step made durable (fsync of the file, then of the
// directory) before the next.
void replace_file(const std::filesystem::path &target, std::string_view text, const std::string &where) {
  const std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  std::string temp = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
  auto fail = [&](const std::string &step) -> void {
    throw CredentialSourceError("cannot write the new state into " + where + ": " + step + ": " + errno_text(errno));
  };
  const int fd = ::mkstemp(temp.data());  // mode 0600
  if (fd < 0) fail("cannot create a file in '" + dir + "'");
  bool written = ::fchmod(fd, 0600) == 0;
  for (size_t done = 0; written && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) done += size_t(n);
  }
  written = written && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), target.c_str()) != 0) {
    const int err = written ? errno : saved;
    ::unlink(temp.c_str());
    errno = err;
    fail(written ? "cannot rename the new file over it" : "cannot write the new file");
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    if (dir_fd >= 0) ::close(dir_fd);
    fail("written, but its directory could not be synced");
  }
  ::close(dir_fd);
}

}  // namespace

OpenOptions open_options_for(const std::string &path, const CredentialText &credential) {
  OpenOptions o;
  const bool printable =
      path.size() <= 128 && std::all_of(path.begin(), path.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (printable) o.label = path;
  o.also_secret = credential.loaded;
  o.state = credential.state;
  o.on_state = [path](const kit::SecretString &state) {
    if (path == "-")
      throw CredentialSourceError(
          "the credential came from standard input, so its new state has nowhere to be written; give it as a file");
    write_credential_state(path, state);
  };
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
  if (doc.IsObject())
    if (auto state = doc.FindMember("$state"); state != doc.MemberEnd()) {
      if (!state->value.IsObject()) {
        host::wipe_json_strings(doc);
        throw CredentialSourceError(origin +
                                    ": \"$state\" must be an object (the credential's state, which credplug "
                                    "writes)");
      }
      out.state = serialize(state->value);
      host::wipe_json_strings(state->value);
      doc.RemoveMember(state);
    }
  Resolver resolver{doc.GetAllocator(), allow_references, load, out.loaded};
  try {
    resolver.resolve(doc, "");
  } catch (...) {
    host::wipe_json_strings(doc);
    throw;
  }
  out.json = serialize(doc);
  host::wipe_json_strings(doc);
  return out;
}

void write_credential_state(const std::string &path, const kit::SecretString &state_json) {
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::canonical(path, ec);
  if (ec)
    throw CredentialSourceError("cannot write the new state into credential file '" + path + "': " + ec.message());
  const std::string where = "credential file '" + path + "'";
  host::WipingDocument file, state;
  {
    kit::SecretString text = read_file(target.string(), "credential file");
    if (auto parsed = bounded_json::parse(file.doc, text.view()); !parsed.ok || !file.doc.IsObject())
      throw CredentialSourceError("cannot write the new state into " + where +
                                  ": it is no longer a JSON object (it changed since it was read)");
  }
  if (auto parsed = bounded_json::parse(state.doc, state_json.view()); !parsed.ok || !state.doc.IsObject())
    throw CredentialSourceError("cannot write the new state into " + where + ": the state is not a JSON object");
  if (auto old = file.doc.FindMember("$state"); old != file.doc.MemberEnd()) {
    host::wipe_json_strings(old->value);
    old->value.CopyFrom(state.doc, file.doc.GetAllocator());
  } else {
    Value copy;
    copy.CopyFrom(state.doc, file.doc.GetAllocator());
    file.doc.AddMember("$state", copy, file.doc.GetAllocator());
  }
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  file.doc.Accept(writer);
  buffer.Put('\n');
  const kit::SecretString text(buffer.GetString(), buffer.GetSize());
  OPENSSL_cleanse(const_cast<char *>(buffer.GetString()), buffer.GetSize());
  replace_file(target, text.view(), where);
}

}  // namespace credplug
