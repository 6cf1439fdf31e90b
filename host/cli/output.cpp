#include "output.hpp"

#include <credplug/host_json.hpp>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <ctime>
#include <filesystem>
#include <iostream>

namespace credplug::cli {
namespace {

using json::iso_time;
using json::JsonStyle;

void emit(const std::string &json) { std::cout << json << std::endl; }

// A document of the CLI's own (the library's results have host_json.hpp).
template <typename Body>
void emit_document(Body body) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 2);
  body(w);
  emit(buffer.GetString());
}

template <typename Writer>
void str(Writer &w, const std::string &s) {
  w.String(s.data(), rapidjson::SizeType(s.size()));
}

std::string masked(const SecretString &value) { return "<secret, " + std::to_string(value.size()) + " characters>"; }

std::string shown(const SecretString &value, bool secret, bool reveal) {
  return secret && !reveal ? masked(value) : value.reveal();
}

std::string relative(int64_t unix_seconds) {
  int64_t d = unix_seconds - int64_t(std::time(nullptr));
  if (d <= 0) return "expired";
  std::string out = "in ";
  if (d >= 3600) out += std::to_string(d / 3600) + "h";
  if (d >= 60) out += std::to_string(d / 60 % 60) + "m";
  return out + std::to_string(d % 60) + "s";
}

std::string expiry_text(const std::optional<int64_t> &at, bool never) {
  if (never) return "does not expire (kept until the API refuses it)";
  return at ? iso_time(*at) + " (" + relative(*at) + ")" : "unknown (the provider did not say)";
}

void print_headers_text(const std::vector<Header> &headers, bool reveal) {
  for (const auto &h : headers) std::cout << "  " << h.name << ": " << shown(h.value, h.secret, reveal) << "\n";
}

}  // namespace

void print_plugins(const OutputOptions &o, const std::vector<PluginInfo> &plugins,
                   const std::vector<PluginProblem> &problems, const std::vector<std::string> &search_path) {
  if (o.json) {
    emit(json::plugins_json(plugins, problems, search_path, JsonStyle::Pretty));
    return;
  }
  if (plugins.empty() && search_path.empty()) {
    std::cout << "No plugins found: no directory was searched (name one with --plugin-dir DIR or "
                 "CREDPLUG_PLUGIN_PATH; the installation's own plugin directory could not be found)\n";
  } else if (plugins.empty()) {
    std::cout << "No plugins found. Searched: ";
    for (size_t i = 0; i < search_path.size(); ++i) {
      std::error_code ec;
      std::cout << (i ? ", " : "") << search_path[i]
                << (std::filesystem::is_directory(search_path[i], ec) ? "" : " (no such directory)");
    }
    std::cout << "\n";
  } else {
    size_t wid = 2, wver = 7, wname = 4;
    for (const auto &p : plugins) {
      wid = std::max(wid, p.id.size());
      wver = std::max(wver, p.version.size());
      wname = std::max(wname, p.display_name.size());
    }
    auto pad = [](const std::string &s, size_t n) { return s + std::string(n > s.size() ? n - s.size() : 0, ' '); };
    std::cout << pad("ID", wid) << "  " << pad("VERSION", wver) << "  ABI   " << pad("NAME", wname) << "  PATH\n";
    for (const auto &p : plugins) {
      // A described provider has no ABI: it is data the host reads.
      const std::string abi =
          p.isolation == "described" ? "json" : std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
      std::cout << pad(p.id, wid) << "  " << pad(p.version, wver) << "  " << pad(abi, 4) << "  "
                << pad(p.display_name, wname) << "  " << p.path << "\n";
    }
  }
  for (const auto &p : problems) std::cerr << "credplug: warning: skipped " << p.path << ": " << p.message << "\n";
}

void print_validation(const OutputOptions &o, const std::string &id, const Validation &v) {
  if (o.json) {
    emit(json::validation_json(id, v, JsonStyle::Pretty));
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
    emit(json::auth_json(id, r, o.reveal, JsonStyle::Pretty));
    return;
  }
  std::cout << "Headers to attach (" << id << "):\n";
  print_headers_text(r.headers, o.reveal);
  if (r.headers.empty()) std::cout << "  (none: this provider signs each request; see credplug sign)\n";
  std::cout << "Expires: " << expiry_text(r.expires_at, r.never_expires) << "\n";
  for (const auto &i : r.info) std::cout << i.key << ": " << shown(i.value, i.secret, o.reveal) << "\n";
  bool any_secret = false;
  for (const auto &h : r.headers) any_secret = any_secret || h.secret;
  if (any_secret && !o.reveal) std::cout << "(secret values are masked; --reveal prints them)\n";
}

void print_signed(const OutputOptions &o, const std::string &id, const RequestToSign &request, const SignedRequest &r) {
  if (o.json) {
    emit(json::signed_json(id, r, o.reveal, JsonStyle::Pretty));
    return;
  }
  std::cout << "Signed " << request.method << " " << (o.reveal ? r.url : json::shown_signed_url(r)) << " at "
            << iso_time(r.time_ms / 1000) << " (" << id << ")\n";
  if (r.headers.empty()) {
    std::cout << "Headers to attach: none\n";
  } else {
    std::cout << "Headers to attach:\n";
    print_headers_text(r.headers, o.reveal);
  }
  for (const auto &q : r.query)
    std::cout << "Query parameter added: " << q.name << "=" << shown(q.value, q.secret, o.reveal) << "\n";
  for (const auto &i : r.info) std::cout << i.key << ": " << shown(i.value, i.secret, o.reveal) << "\n";
  bool any_secret = false;
  for (const auto &h : r.headers) any_secret = any_secret || h.secret;
  for (const auto &q : r.query) any_secret = any_secret || q.secret;
  if (any_secret && !o.reveal) std::cout << "(secret values are masked; --reveal prints them)\n";
}

void print_test(const OutputOptions &o, const std::string &id, const TestResult &r) {
  if (o.json) {
    emit(json::test_json(id, r, "", JsonStyle::Pretty));
    return;
  }
  std::cout << id << ": OK — "
            << (r.has_test ? "authenticated and the connection test passed"
                           : "authenticated (the plugin has no connection test)")
            << " in " << r.elapsed_ms << " ms\n";
  if (r.auth.headers.empty() && r.auth.never_expires)
    std::cout << "  no token: this provider signs each request (credplug sign)\n";
  else
    std::cout << "  token expires: " << expiry_text(r.auth.expires_at, r.auth.never_expires) << "\n";
  for (const auto &i : r.info) std::cout << "  " << i.key << ": " << shown(i.value, i.secret, false) << "\n";
  for (const auto &e : r.events) std::cout << "  event: " << to_string(e.type) << " — " << e.message << "\n";
}

void print_error(const OutputOptions &o, ErrorKind kind, const std::string &message) {
  if (o.json) {
    emit(json::error_json(kind, message, "", JsonStyle::Pretty));
    return;
  }
  std::cerr << "credplug: error (" << to_string(kind) << "): " << message << "\n";
}

void print_internal_error(const OutputOptions &o, const std::string &message) {
  if (o.json) {
    emit(json::internal_error_json(message, JsonStyle::Pretty));
    return;
  }
  std::cerr << "credplug: error (internal): " << message << "\n";
}

void print_usage_error(const OutputOptions &o, const std::string &message) {
  if (!o.json) {
    std::cerr << "credplug: " << message << "\n";
    return;
  }
  emit_document([&](auto &w) {
    w.StartObject();
    w.Key("ok"), w.Bool(false);
    w.Key("error"), w.StartObject();
    w.Key("kind"), w.String("usage");
    w.Key("message"), str(w, message);
    w.EndObject();
    w.EndObject();
  });
}

std::string pin_file_text(const std::vector<Pin> &pins) {
  std::string text = "# credplug pin file: plugin id, SHA-256 of its file (credplug --pin-file FILE)\n";
  for (const auto &p : pins) text += p.id + " " + p.sha256 + "  # " + p.path + "\n";
  return text;
}

void print_pins(const OutputOptions &o, const std::vector<Pin> &pins, const std::vector<PluginProblem> &skipped,
                const std::string &file) {
  if (o.json) {
    emit_document([&](auto &w) {
      w.StartObject();
      w.Key("ok"), w.Bool(true);
      w.Key("pins"), w.StartArray();
      for (const auto &p : pins) {
        w.StartObject();
        w.Key("id"), str(w, p.id);
        w.Key("sha256"), str(w, p.sha256);
        w.Key("path"), str(w, p.path);
        w.EndObject();
      }
      w.EndArray();
      w.Key("skipped"), w.StartArray();
      for (const auto &p : skipped) {
        w.StartObject();
        w.Key("path"), str(w, p.path);
        w.Key("message"), str(w, p.message);
        w.EndObject();
      }
      w.EndArray();
      w.Key("file");
      if (file.empty())
        w.Null();
      else
        str(w, file);
      w.EndObject();
    });
    return;
  }
  for (const auto &p : skipped)
    std::cerr << "credplug: warning: not pinned, skipped " << p.path << ": " << p.message << "\n";
  if (file.empty())
    std::cout << pin_file_text(pins);
  else
    std::cerr << "credplug: pinned " << pins.size() << " plugin(s) in " << file << "\n";
}

void print_scaffold(const OutputOptions &o, const std::string &id, const std::string &lang, const std::string &dir,
                    const std::vector<std::string> &files, int source_lines) {
  if (o.json) {
    emit_document([&](auto &w) {
      w.StartObject();
      w.Key("ok"), w.Bool(true);
      w.Key("id"), str(w, id);
      w.Key("lang"), str(w, lang);
      w.Key("dir"), str(w, dir);
      w.Key("files"), w.StartArray();
      for (const auto &f : files) str(w, f);
      w.EndArray();
      w.Key("source_lines"), w.Int(source_lines);
      w.Key("test"), str(w, dir + "/test.sh");
      w.EndObject();
    });
    return;
  }
  if (lang == "json") {
    std::cout << "credplug: wrote " << dir << "/ (a provider described in JSON, " << source_lines
              << " lines, no code); test it with " << dir << "/test.sh\n";
    return;
  }
  std::cout << "credplug: wrote " << dir << "/ (a " << (lang == "c" ? "C" : "C++") << " plugin, " << source_lines
            << " lines of source); build and test it with " << dir << "/test.sh\n";
}

void print_plugin_check(const OutputOptions &o, const PluginCheck &check) {
  if (o.json) {
    emit(json::plugin_check_json(check, JsonStyle::Pretty));
    return;
  }
  std::cout << "check-plugin " << check.file << (check.id.empty() ? "" : " (" + check.id + ")") << "\n";
  for (const auto &r : check.results) {
    std::cout << "  " << (r.status == "pass" ? "ok  " : r.status == "fail" ? "FAIL" : "skip") << "  " << r.name;
    if (!r.detail.empty()) std::cout << ": " << r.detail;
    if (r.elapsed_ms > 0) std::cout << " (" << r.elapsed_ms << " ms)";
    std::cout << "\n";
    for (const auto &p : r.problems) std::cout << "        - " << p << "\n";
  }
  std::cout << (check.clean() ? "clean" : "NOT clean") << " (" << check.elapsed_ms << " ms)\n";
}

void print_metrics(const OutputOptions &o, const MetricsSnapshot &m) {
  if (o.json) {
    std::cout << "{\"metrics\": " << json::metrics_json(m, JsonStyle::Line) << "}" << std::endl;
    return;
  }
  std::cout << "\n# credplug metrics (Prometheus text format)\n" << json::metrics_prometheus(m) << std::flush;
}

}  // namespace credplug::cli
