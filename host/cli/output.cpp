#include "output.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <ctime>
#include <iostream>

namespace credplug::cli {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void emit(const rapidjson::StringBuffer &sb) { std::cout << sb.GetString() << std::endl; }

void str(Writer &w, const std::string &s) { w.String(s.c_str(), rapidjson::SizeType(s.size())); }

std::string masked(const SecretString &value) { return "<secret, " + std::to_string(value.size()) + " characters>"; }

std::string shown(const SecretString &value, bool secret, bool reveal) {
  return secret && !reveal ? masked(value) : value.reveal();
}

std::string iso_time(int64_t unix_seconds) {
  std::time_t t = std::time_t(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string relative(int64_t unix_seconds) {
  int64_t d = unix_seconds - int64_t(std::time(nullptr));
  if (d <= 0) return "expired";
  std::string out = "in ";
  if (d >= 3600) out += std::to_string(d / 3600) + "h";
  if (d >= 60) out += std::to_string(d / 60 % 60) + "m";
  return out + std::to_string(d % 60) + "s";
}

std::string expiry_text(const std::optional<int64_t> &at) {
  return at ? iso_time(*at) + " (" + relative(*at) + ")" : "unknown (the provider did not say)";
}

void write_expiry(Writer &w, const std::optional<int64_t> &at) {
  w.Key("expires_at");
  if (at) w.Int64(*at); else w.Null();
  w.Key("expires_at_iso");
  if (at) str(w, iso_time(*at)); else w.Null();
}

void write_headers(Writer &w, const std::vector<Header> &headers, bool reveal) {
  w.Key("headers");
  w.StartArray();
  for (const auto &h : headers) {
    w.StartObject();
    w.Key("name");
    str(w, h.name);
    w.Key("value");
    if (h.secret && !reveal) w.Null(); else str(w, h.value.reveal());
    w.Key("secret");
    w.Bool(h.secret);
    w.EndObject();
  }
  w.EndArray();
}

void write_info(Writer &w, const std::vector<Info> &info, bool reveal) {
  w.Key("info");
  w.StartObject();
  for (const auto &i : info) {
    w.Key(i.key.c_str());
    if (i.secret && !reveal) w.Null(); else str(w, i.value.reveal());
  }
  w.EndObject();
}

void print_headers_text(const std::vector<Header> &headers, bool reveal) {
  for (const auto &h : headers) std::cout << "  " << h.name << ": " << shown(h.value, h.secret, reveal) << "\n";
}

}  // namespace

void print_plugins(const OutputOptions &o, const std::vector<PluginInfo> &plugins,
                   const std::vector<PluginProblem> &problems, const std::vector<std::string> &search_path) {
  if (o.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("plugins");
    w.StartArray();
    for (const auto &p : plugins) {
      w.StartObject();
      w.Key("id"), str(w, p.id);
      w.Key("name"), str(w, p.display_name);
      w.Key("version"), str(w, p.version);
      w.Key("abi"), str(w, std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor));
      w.Key("has_test"), w.Bool(p.has_test);
      w.Key("has_refresh"), w.Bool(p.has_refresh);
      w.Key("default_token_lifetime_s"), w.Uint(p.default_token_lifetime_s);
      w.Key("path"), str(w, p.path);
      w.EndObject();
    }
    w.EndArray();
    w.Key("problems");
    w.StartArray();
    for (const auto &p : problems) {
      w.StartObject();
      w.Key("path"), str(w, p.path);
      w.Key("message"), str(w, p.message);
      w.EndObject();
    }
    w.EndArray();
    w.Key("search_path");
    w.StartArray();
    for (const auto &d : search_path) str(w, d);
    w.EndArray();
    w.EndObject();
    emit(sb);
    return;
  }
  if (plugins.empty()) {
    std::cout << "No plugins found. Searched: ";
    for (size_t i = 0; i < search_path.size(); ++i) std::cout << (i ? ", " : "") << search_path[i];
    std::cout << "\n";
  } else {
    size_t wid = 2, wver = 7, wname = 4;
    for (const auto &p : plugins) {
      wid = std::max(wid, p.id.size());
      wver = std::max(wver, p.version.size());
      wname = std::max(wname, p.display_name.size());
    }
    auto pad = [](const std::string &s, size_t n) { return s + std::string(n > s.size() ? n - s.size() : 0, ' '); };
    std::cout << pad("ID", wid) << "  " << pad("VERSION", wver) << "  ABI  " << pad("NAME", wname) << "  PATH\n";
    for (const auto &p : plugins)
      std::cout << pad(p.id, wid) << "  " << pad(p.version, wver) << "  " << p.abi_major << "." << p.abi_minor << "  "
                << pad(p.display_name, wname) << "  " << p.path << "\n";
  }
  for (const auto &p : problems) std::cerr << "credplug: warning: skipped " << p.path << ": " << p.message << "\n";
}

void print_validation(const OutputOptions &o, const std::string &id, const Validation &v) {
  if (o.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("plugin"), str(w, id);
    w.Key("valid"), w.Bool(v.ok());
    w.Key("errors");
    w.StartArray();
    for (const auto &e : v.errors) {
      w.StartObject();
      w.Key("pointer"), str(w, e.pointer);
      w.Key("rule"), str(w, e.rule);
      w.Key("message"), str(w, e.message);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    emit(sb);
    return;
  }
  if (v.ok()) {
    std::cout << "valid: the credential matches the " << id << " schema\n";
    return;
  }
  for (const auto &e : v.errors) std::cerr << "credplug: invalid: " << e.message << "\n";
}

void print_auth(const OutputOptions &o, const std::string &id, const AuthResult &r) {
  if (o.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("ok"), w.Bool(true);
    w.Key("plugin"), str(w, id);
    write_headers(w, r.headers, o.reveal);
    write_expiry(w, r.expires_at);
    write_info(w, r.info, o.reveal);
    w.Key("elapsed_ms"), w.Int64(r.elapsed_ms);
    w.EndObject();
    emit(sb);
    return;
  }
  std::cout << "Headers to attach (" << id << "):\n";
  print_headers_text(r.headers, o.reveal);
  std::cout << "Expires: " << expiry_text(r.expires_at) << "\n";
  for (const auto &i : r.info) std::cout << i.key << ": " << shown(i.value, i.secret, o.reveal) << "\n";
  bool any_secret = false;
  for (const auto &h : r.headers) any_secret = any_secret || h.secret;
  if (any_secret && !o.reveal) std::cout << "(secret values are masked; --reveal prints them)\n";
}

void print_test(const OutputOptions &o, const std::string &id, const TestResult &r) {
  if (o.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("ok"), w.Bool(true);
    w.Key("plugin"), str(w, id);
    w.Key("tested"), w.Bool(r.has_test);
    write_expiry(w, r.auth.expires_at);
    write_info(w, r.info, false);
    w.Key("elapsed_ms"), w.Int64(r.elapsed_ms);
    w.EndObject();
    emit(sb);
    return;
  }
  std::cout << id << ": OK — " << (r.has_test ? "authenticated and the connection test passed" : "authenticated (the plugin has no connection test)")
            << " in " << r.elapsed_ms << " ms\n";
  std::cout << "  token expires: " << expiry_text(r.auth.expires_at) << "\n";
  for (const auto &i : r.info) std::cout << "  " << i.key << ": " << shown(i.value, i.secret, false) << "\n";
}

void print_error(const OutputOptions &o, const std::string &kind, const std::string &message) {
  if (o.json) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("ok"), w.Bool(false);
    w.Key("error");
    w.StartObject();
    w.Key("kind"), str(w, kind);
    w.Key("message"), str(w, message);
    w.EndObject();
    w.EndObject();
    emit(sb);
    return;
  }
  std::cerr << "credplug: error (" << kind << "): " << message << "\n";
}

}  // namespace credplug::cli
