#include <credplug/plugin_check.hpp>

#include "described/provider_description.hpp"
#include "plugin/elf_exports.hpp"
#include "plugin/plugin_paths.hpp"
#include "schema/rapidjson_schema.hpp"
#include "schema/schema_checks.hpp"
#include "schema/schema_validator.hpp"

#include <credplug/plugin.h>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "bounded_json.hpp"

namespace credplug {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point start) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// Runs one check, timing it; an exception fails it with its message.
CheckResult run_check(const std::string &name, const std::function<void(CheckResult &)> &body) {
  CheckResult r{name, "pass", {}, "", 0};
  const auto start = Clock::now();
  try {
    body(r);
  } catch (const std::exception &e) {
    r.problems.push_back(e.what());
  }
  if (!r.problems.empty()) r.status = "fail";
  r.elapsed_ms = ms_since(start);
  return r;
}

CheckResult skipped(const std::string &name, const std::string &why) { return {name, "skip", {}, why, 0}; }

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char *>(raw.data()), int(raw.size()));
  return kit::hex_encode(raw);
}

// --- A credential made up from the schema, for the offline checks ----------

// What a made-up secret starts with; only what follows is searched for in
// parts (the prefix is no secret, and "credplug" is in many a log line).
constexpr std::string_view kCanaryPrefix = "credplug-canary-";

// A throwaway private key, PEM, for a field that holds one: RSA when the
// field's words say RSA (RS256, PS256), Ed25519 when they say so, else
// P-256. Empty if OpenSSL cannot make one.
std::string throwaway_key_pem(const std::string &words) {
  EVP_PKEY *key = nullptr;
  if (words.find("RSA") != std::string::npos || words.find("RS256") != std::string::npos ||
      words.find("PS256") != std::string::npos)
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048));
  else if (words.find("Ed25519") != std::string::npos || words.find("EdDSA") != std::string::npos)
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return "";
  BIO *out = BIO_new(BIO_s_secmem());
  std::string pem;
  if (out && PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char *data = nullptr;
    const long len = BIO_get_mem_data(out, &data);
    if (len > 0) pem.assign(data, size_t(len));
  }
  BIO_free(out);
  EVP_PKEY_free(key);
  return pem;
}

bool holds_private_key(const std::string &name) {
  std::string lower = name;
  for (auto &c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const char *part : {"private_key", "privatekey", "private-key", "key_pem", "keypem", "signing_key"})
    if (lower.find(part) != std::string::npos) return true;
  return false;
}

class Synthesiser {
 public:
  explicit Synthesiser(const rapidjson::Value &root) : root_(root) {}

  // The canary values put in writeOnly (or secret-named) string fields.
  std::vector<std::string> canaries;
  // The first required field no value could be made up for, and where.
  std::string unfilled;

  std::string credential() {
    rapidjson::Document out(rapidjson::kObjectType);
    fill_object(root_, out, out.GetAllocator(), 0);
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    out.Accept(w);
    return std::string(sb.GetString(), sb.GetSize());
  }

 private:
  using Alloc = rapidjson::Document::AllocatorType;

  // A string for `property` named `name`: its default or first enum value,
  // else the first candidate its type, lengths and pattern accept.
  bool string_for(const std::string &name, const rapidjson::Value &property, rapidjson::Value &out, Alloc &a) {
    const bool secret = host::declared_write_only(property) || host::name_says_secret(name);
    std::vector<std::string> candidates;
    if (holds_private_key(name)) {
      std::string words;
      for (const char *key : {"title", "description"})
        if (auto it = property.FindMember(key); it != property.MemberEnd() && it->value.IsString())
          words += std::string(it->value.GetString()) + " ";
      if (std::string pem = throwaway_key_pem(words); !pem.empty()) candidates.push_back(std::move(pem));
    }
    if (secret) candidates.push_back(std::string(kCanaryPrefix) + random_hex(8));
    candidates.insert(candidates.end(),
                      {"https://example.com", "example.com", "credplug-check", "a1", "1", "https://example.com/path",
                       "user@example.com", "abcdefgh-1234", "us-east-1", "AKIAIOSFODNN7EXAMPLE", "CREDPLUG1"});
    rapidjson::Document rules(rapidjson::kObjectType);
    rules.AddMember("type", "string", rules.GetAllocator());
    for (const char *key : {"minLength", "maxLength", "pattern", "format"})
      if (auto it = property.FindMember(key); it != property.MemberEnd())
        rules.AddMember(rapidjson::Value(key, rules.GetAllocator()), rapidjson::Value(it->value, rules.GetAllocator()),
                        rules.GetAllocator());
    // Checked as {"v": candidate}: a credential is always an object.
    rapidjson::Document wrapper(rapidjson::kObjectType);
    rapidjson::Value properties(rapidjson::kObjectType);
    properties.AddMember("v", rapidjson::Value(rules, wrapper.GetAllocator()), wrapper.GetAllocator());
    wrapper.AddMember("properties", properties, wrapper.GetAllocator());
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    wrapper.Accept(w);
    host::CompiledSchema check(std::string_view(sb.GetString(), sb.GetSize()));
    for (const auto &c : candidates) {
      if (!check.validate("{\"v\":" + kit::json_quote(c) + "}").ok()) continue;
      if (secret) canaries.push_back(c);
      out.SetString(c.c_str(), rapidjson::SizeType(c.size()), a);
      return true;
    }
    return false;
  }

  bool value_for(const std::string &name, const rapidjson::Value &property, rapidjson::Value &out, Alloc &a,
                 int depth) {
    if (!property.IsObject() || depth > 16) return false;
    if (auto it = property.FindMember("default"); it != property.MemberEnd()) {
      out.CopyFrom(it->value, a);
      return true;
    }
    if (auto it = property.FindMember("enum");
        it != property.MemberEnd() && it->value.IsArray() && !it->value.Empty()) {
      out.CopyFrom(it->value[0], a);
      return true;
    }
    std::string type;
    if (auto it = property.FindMember("type"); it != property.MemberEnd()) {
      if (it->value.IsString())
        type = it->value.GetString();
      else if (it->value.IsArray() && !it->value.Empty() && it->value[0].IsString())
        type = it->value[0].GetString();
    }
    if (type.empty() && (property.HasMember("properties") || property.HasMember("oneOf"))) type = "object";
    if (type == "string") return string_for(name, property, out, a);
    if (type == "integer" || type == "number") {
      double v = 1;
      if (auto it = property.FindMember("minimum"); it != property.MemberEnd() && it->value.IsNumber())
        v = it->value.GetDouble() + (property.HasMember("exclusiveMinimum") ? 1 : 0);
      if (type == "integer")
        out.SetInt64(int64_t(v));
      else
        out.SetDouble(v);
      return true;
    }
    if (type == "boolean") {
      out.SetBool(false);
      return true;
    }
    if (type == "object") {
      out.SetObject();
      return fill_object(property, out, a, depth + 1);
    }
    if (type == "array") {
      out.SetArray();
      auto min = property.FindMember("minItems");
      auto items = property.FindMember("items");
      if (min != property.MemberEnd() && min->value.IsUint() && min->value.GetUint() > 0 &&
          items != property.MemberEnd()) {
        rapidjson::Value item;
        if (!value_for(name, items->value, item, a, depth + 1)) return false;
        out.PushBack(item, a);
      }
      return true;
    }
    return false;
  }

  // The required properties of `schema` (and of its first oneOf/anyOf branch).
  bool fill_object(const rapidjson::Value &schema, rapidjson::Value &out, Alloc &a, int depth) {
    std::vector<const rapidjson::Value *> parts{&schema};
    for (const char *key : {"oneOf", "anyOf"})
      if (auto it = schema.FindMember(key); it != schema.MemberEnd() && it->value.IsArray() && !it->value.Empty())
        parts.push_back(&it->value[0]);
    if (auto it = schema.FindMember("allOf"); it != schema.MemberEnd() && it->value.IsArray())
      for (const auto &p : it->value.GetArray()) parts.push_back(&p);
    bool ok = true;
    for (const auto *part : parts) {
      if (!part->IsObject()) continue;
      auto required = part->FindMember("required");
      if (required == part->MemberEnd() || !required->value.IsArray()) continue;
      for (const auto &r : required->value.GetArray()) {
        if (!r.IsString() || out.HasMember(r.GetString())) continue;
        const rapidjson::Value *property = find_property(schema, part, r.GetString());
        rapidjson::Value v;
        if (property == nullptr || !value_for(r.GetString(), *property, v, a, depth)) {
          if (unfilled.empty()) unfilled = r.GetString();
          ok = false;
          continue;
        }
        out.AddMember(rapidjson::Value(r.GetString(), a), v, a);
      }
    }
    return ok;
  }

  static const rapidjson::Value *find_property(const rapidjson::Value &schema, const rapidjson::Value *part,
                                               const char *name) {
    for (const auto *where : {part, &schema}) {
      auto props = where->FindMember("properties");
      if (props == where->MemberEnd() || !props->value.IsObject()) continue;
      if (auto it = props->value.FindMember(name); it != props->value.MemberEnd()) return &it->value;
    }
    return nullptr;
  }

  const rapidjson::Value &root_;
};

// --- Looking for secrets in everything a plugin produced --------------------

struct Outputs {
  std::mutex mutex;
  std::vector<std::string> logs;
  void log(int, const std::string &line) {
    std::lock_guard<std::mutex> lock(mutex);
    logs.push_back(line);
  }
};

// The forms a secret takes in transit or in a careless log line. The host
// masks the first four itself (secrets/redactor.hpp); found in what it
// passed on, the plugin hid the secret from it (a fixed prefix, a split).
std::vector<std::pair<const char *, std::string>> forms_of(const std::string &secret) {
  return {{"as is", secret},
          {"URL-encoded", kit::url_encode(secret)},
          {"base64-encoded", kit::base64_encode(secret)},
          {"base64url-encoded", kit::base64url_encode(secret)},
          {"hex-encoded", kit::hex_encode(secret)}};
}

// Secrets shorter than this are not searched for: too short to tell from chance.
constexpr size_t kMinSecretLength = 6;
constexpr const char *kWhyUnmasked = " (the host masks a secret it knows; transformed or hidden, it cannot)";

// The 8-character parts of a secret searched for besides the whole (a
// logged key prefix, a split secret): of secrets of 12 characters or more,
// the parts with 4 different characters or more (not "aaaaaaaa"); of a
// made-up secret, only those in its random part.
constexpr size_t kFragmentLength = 8, kMinFragmentedLength = 12;
std::vector<std::string_view> fragments_of(std::string_view secret) {
  std::vector<std::string_view> out;
  if (secret.size() < kMinFragmentedLength) return out;
  const size_t from = secret.substr(0, kCanaryPrefix.size()) == kCanaryPrefix ? kCanaryPrefix.size() : 0;
  for (size_t at = from; at + kFragmentLength <= secret.size(); ++at) {
    const std::string_view part = secret.substr(at, kFragmentLength);
    if (std::set<char>(part.begin(), part.end()).size() >= 4) out.push_back(part);
  }
  return out;
}

// How (never what) a secret appears in `text`, or "".
std::string leaked_form(const std::vector<std::string> &secrets, const std::string &text) {
  for (const auto &s : secrets) {
    if (s.size() < kMinSecretLength) continue;
    for (const auto &[how, form] : forms_of(s))
      if (text.find(form) != std::string::npos) return how;
  }
  for (const auto &s : secrets)
    for (std::string_view part : fragments_of(s))
      if (text.find(part) != std::string::npos) return "in part (8 characters of it; a key prefix is a leak too)";
  return "";
}

void search(const std::vector<std::string> &secrets, const std::string &text, const std::string &where,
            std::vector<std::string> &found) {
  if (std::string how = leaked_form(secrets, text); !how.empty())
    found.push_back("a secret of the credential appears " + how + " in " + where + kWhyUnmasked);
}

void search_result(const std::vector<std::string> &secrets, const AuthResult &auth, const std::vector<Info> &info,
                   std::vector<std::string> &found) {
  for (const auto &h : auth.headers)
    if (!h.secret) search(secrets, h.value.reveal(), "the non-secret header " + h.name, found);
  for (const auto *list : {&auth.info, &info})
    for (const auto &i : *list)
      if (!i.secret) search(secrets, i.value.reveal(), "the non-secret info " + i.key, found);
}

// The id the file's name gives, as the registry reads it; "" if none.
std::string id_from_file(const fs::path &file) {
  std::string id = host::conventional_plugin_id(file.string());
  return host::valid_plugin_id(id) ? id : "";
}

}  // namespace

bool PluginCheck::clean() const {
  for (const auto &r : results)
    if (r.status == "fail") return false;
  return true;
}

namespace {

// check_plugin()'s steps, in order; each adds its CheckResult. A step that
// returns false ends the check (nothing after it can run).
class PluginChecker {
 public:
  explicit PluginChecker(const PluginCheckOptions &options)
      : options(options), start(Clock::now()), file(options.file) {
    report.file = options.file;
    report.id = id_from_file(file);
  }

  bool check_file();
  bool check_exports();
  bool check_load();
  void check_descriptor();
  void check_schema();
  void check_egress();
  void check_create();
  void check_live();
  void check_concurrency();
  void check_secrets();

  PluginCheck finish() {
    report.elapsed_ms = ms_since(start);
    return std::move(report);
  }

 private:
  bool last_passed() const { return report.results.back().status != "fail"; }
  bool described() const { return host::is_provider_description_file(options.file); }

  const PluginCheckOptions &options;
  const Clock::time_point start;
  const fs::path file;
  PluginCheck report;
  Outputs outputs;                    // what the plugin logged, for the secrets step
  std::unique_ptr<Host> plugin_host;  // the plugin's own directory alone
  std::unique_ptr<host::CompiledSchema> compiled;
  PluginInfo info;
  std::string schema_text;
  rapidjson::Document schema;
  std::string made_up;               // a credential made from the schema
  std::vector<std::string> secrets;  // canaries and the real credential's secrets
  bool create_ran = false;
  std::unique_ptr<Credential> live;
};

bool PluginChecker::check_file() {
  report.results.push_back(run_check("file", [&](CheckResult &r) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return r.problems.push_back(options.file + " is not a file");
    if (report.id.empty())
      r.problems.push_back("the file is named " + file.filename().string() +
                           "; the host finds plugins only as credplug-<id>.so, and described providers as "
                           "credplug-<id>.provider.json (id: a-z, 0-9, '_', '-')");
    else
      r.detail = "named for " + std::string(described() ? "described provider '" : "plugin '") + report.id + "'";
  }));
  return last_passed();
}

bool PluginChecker::check_exports() {
  if (described()) {
    report.results.push_back(skipped("exports", "a described provider is data: it exports nothing and runs no code"));
    return true;
  }
  bool entry_missing = false;  // read, and without the entry point: nothing more to check
  report.results.push_back(run_check("exports", [&](CheckResult &r) {
    // Every global symbol it defines: exactly the entry point is allowed.
    auto exported = host::elf_exports_containing(options.file, "");
    bool has_entry = false;
    std::vector<std::string> others;
    for (const auto &s : exported) {
      if (s == CREDPLUG_ENTRY_SYMBOL)
        has_entry = true;
      else if (s.find(CREDPLUG_ENTRY_SYMBOL) == std::string::npos)
        others.push_back(s);  // a mangled one: below
    }
    if (!has_entry) {
      entry_missing = true;
      auto mangled = host::elf_exports_containing(options.file, CREDPLUG_ENTRY_SYMBOL);
      r.problems.push_back(std::string("does not export ") + CREDPLUG_ENTRY_SYMBOL + "()" +
                           (mangled.empty() ? "; define it with CREDPLUG_EXPORT (plugin.h declares it)"
                                            : " with C linkage (found " + mangled[0] +
                                                  "): include credplug/plugin.h, which declares it extern \"C\""));
    }
    if (!others.empty()) {
      std::string list;
      for (size_t i = 0; i < others.size() && i < 5; ++i) list += (i ? ", " : "") + others[i];
      r.problems.push_back("exports " + std::to_string(others.size()) + " other symbol(s) (" + list +
                           (others.size() > 5 ? ", ..." : "") +
                           "): build with hidden visibility and a version script (credplug_add_plugin does both); "
                           "exported symbols collide with the host's and other plugins'");
    }
    r.detail = std::to_string(exported.size()) + " exported symbol(s)";
  }));
  return !entry_missing;
}

bool PluginChecker::check_load() {
  HostOptions ho = options.host;
  ho.plugin_dirs = {fs::absolute(file).parent_path().string()};
  ho.use_environment = false;
  ho.use_default_dir = false;
  ho.log_level = CREDPLUG_LOG_DEBUG;
  ho.log = [this](int level, const std::string &line) { outputs.log(level, line); };
  plugin_host = std::make_unique<Host>(ho);
  report.results.push_back(run_check("load", [&](CheckResult &r) {
    info = plugin_host->plugin(report.id);  // its Error is the problem (run_check)
    if (described()) {
      r.detail = info.id + " " + info.version + ", read and checked by the host, which interprets it (" +
                 info.no_namespaces + ")";
      return;
    }
    r.detail = info.id + " " + info.version + ", ABI " + std::to_string(info.abi_major) + "." +
               std::to_string(info.abi_minor) + ", isolation " + info.isolation +
               (info.namespaces ? " in namespaces" : " without namespaces (" + info.no_namespaces + ")");
  }));
  return last_passed();
}

void PluginChecker::check_descriptor() {
  report.results.push_back(run_check("descriptor", [&](CheckResult &r) {
    if (info.display_name.empty()) r.problems.push_back("display_name is empty: it is what users see");
    if (!std::regex_match(info.version, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.+-]*)?")))
      r.problems.push_back("version '" + info.version + "' is not MAJOR.MINOR.PATCH (Semantic Versioning)");
    if (described())
      r.detail = "described (credplug_provider " + std::to_string(host::kProviderDescriptionFormat) + ")";
    else if (info.abi_minor < CREDPLUG_ABI_MINOR)
      r.detail = "built against ABI 1." + std::to_string(info.abi_minor) + " (this host speaks 1." +
                 std::to_string(CREDPLUG_ABI_MINOR) + "; it keeps loading)";
    else
      r.detail = "ABI 1." + std::to_string(info.abi_minor);
    r.detail += info.has_test ? "; has a connection test" : "; no connection test (credplug test only authenticates)";
    if (info.has_refresh) r.detail += "; refresh hook";
  }));
}

void PluginChecker::check_schema() {
  schema_text = plugin_host->schema(report.id);
  bounded_json::parse(schema, schema_text);
  report.results.push_back(run_check("schema", [&](CheckResult &r) {
    // The host already refused an invalid schema at load; these are the conventions.
    r.problems = host::convention_problems(schema);
    r.detail = "draft-04, titles, descriptions, pattern hints, secrets declared writeOnly";
  }));
}

// Where its requests may go (docs/SANDBOX.md, "Egress"), for the operator
// to read before giving it a credential.
void PluginChecker::check_egress() {
  report.results.push_back(run_check("egress", [&](CheckResult &r) {
    const host::CompiledSchema compiled_schema(schema_text);
    std::string declared, fields;
    for (const auto &origin : compiled_schema.egress()) declared += (declared.empty() ? "" : ", ") + origin;
    for (const auto &field : compiled_schema.address_fields()) fields += (fields.empty() ? "" : ", ") + field;
    r.detail = "may reach " + (declared.empty() ? std::string() : declared + " (x-credplug-egress), ") +
               "the https:// URLs its credential holds" +
               (fields.empty() ? std::string() : ", and the host names in " + fields);
  }));
}

// Offline create() on a made-up credential, canaries in its secret fields.
void PluginChecker::check_create() {
  Synthesiser synthesiser(schema);
  made_up = synthesiser.credential();
  secrets = synthesiser.canaries;
  compiled = std::make_unique<host::CompiledSchema>(schema_text);
  if (compiled->validate(made_up).ok()) {
    report.results.push_back(run_check("create", [&](CheckResult &r) {
      Validation v = plugin_host->validate(report.id, made_up);
      if (v.ok()) {
        create_ran = true;
        r.detail = "create() accepted a credential made from the schema (" + std::to_string(secrets.size()) +
                   " canary secret(s)) and destroy() freed it";
        return;
      }
      // A refusal by create() of made-up values is the plugin doing its job.
      r.status = "skip";
      r.detail = "create() refused the made-up credential (" + v.errors[0].message +
                 "); pass --credential FILE to check with a real one";
    }));
  } else {
    report.results.push_back(skipped(
        "create",
        "no credential satisfying the schema could be made up from it" +
            (synthesiser.unfilled.empty() ? std::string() : " (no value fits field '" + synthesiser.unfilled + "')") +
            "; pass --credential FILE"));
  }
}

void PluginChecker::check_live() {
  if (options.credential_json) {
    for (auto &s : compiled->secret_values(*options.credential_json)) secrets.push_back(std::string(s.view()));
    for (const auto &s : options.credential_secrets) secrets.push_back(std::string(s.view()));
    report.results.push_back(run_check("live", [&](CheckResult &r) {
      live = plugin_host->open(report.id, *options.credential_json, options.credential_secrets);
      TestResult t = live->test();
      std::vector<std::string> found;
      search_result(secrets, t.auth, t.info, found);
      for (auto &f : found) r.problems.push_back(f);
      r.detail = "authenticated (" + std::to_string(t.auth.headers.size()) + " header(s)" +
                 (t.auth.expiry_source == "plugin" || t.auth.expiry_source == "token" ? ", expiry given"
                  : t.auth.never_expires                                              ? ", never expires"
                                                                                      : ", no expiry given") +
                 ") and " + (t.has_test ? "the connection test passed" : "no connection test") + " in " +
                 std::to_string(t.elapsed_ms) + " ms";
    }));
  } else {
    report.results.push_back(skipped("live", "no --credential: authenticate() and test() were not run"));
  }
}

void PluginChecker::check_concurrency() {
  const int threads = std::max(1, options.threads);
  if (create_ran || live) {
    report.results.push_back(run_check("concurrency", [&](CheckResult &r) {
      std::atomic<int> failures{0};
      std::mutex first_mutex;
      std::string first;
      std::vector<std::thread> pool;
      pool.reserve(size_t(threads));
      constexpr int kRounds = 4;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          for (int i = 0; i < kRounds; ++i) {
            try {
              if (create_ran) {
                Validation v = plugin_host->validate(report.id, made_up);
                if (!v.ok()) throw Error(ErrorKind::Plugin, v.errors[0].message);
              }
              if (live) {
                AuthResult a = live->authenticate();
                std::vector<std::string> found;
                search_result(secrets, a, {}, found);
                if (!found.empty()) throw Error(ErrorKind::Plugin, found[0]);
              }
            } catch (const std::exception &e) {
              if (failures++ == 0) {
                std::lock_guard<std::mutex> lock(first_mutex);
                first = e.what();
              }
            }
          }
        });
      for (auto &t : pool) t.join();
      if (failures > 0)
        r.problems.push_back(std::to_string(failures.load()) + " of " + std::to_string(threads * kRounds) +
                             " concurrent calls failed; the first: " + first);
      r.detail = std::to_string(threads) + " threads x " + std::to_string(kRounds) + " rounds of " +
                 (create_ran ? std::string("create/destroy") : "") + (create_ran && live ? " and " : "") +
                 (live ? "authenticate on one instance" : "");
    }));
  } else {
    report.results.push_back(skipped("concurrency", "nothing ran to repeat: neither create() nor a live run"));
  }
}

void PluginChecker::check_secrets() {
  live.reset();
  report.results.push_back(run_check("secrets", [&](CheckResult &r) {
    std::lock_guard<std::mutex> lock(outputs.mutex);
    // One problem per form found: lines, and the first of them.
    std::vector<std::pair<std::string, std::pair<size_t, size_t>>> leaks;
    for (size_t i = 0; i < outputs.logs.size(); ++i) {
      const std::string how = leaked_form(secrets, outputs.logs[i]);
      if (how.empty()) continue;
      auto same = std::find_if(leaks.begin(), leaks.end(), [&](const auto &l) { return l.first == how; });
      if (same == leaks.end())
        leaks.push_back({how, {1, i + 1}});
      else
        ++same->second.first;
    }
    for (const auto &[how, where] : leaks)
      r.problems.push_back("a secret of the credential appears " + how + " in " + std::to_string(where.first) +
                           " log line(s), the first is line " + std::to_string(where.second) + kWhyUnmasked);
    // And in this report's own text (error messages the host passed on):
    // found there, a secret is masked before anyone prints the report.
    for (auto &result : report.results) {
      auto scrub = [&](std::string &text) {
        for (const auto &secret : secrets)
          for (const auto &[how, form] : forms_of(secret)) {
            if (secret.size() < kMinSecretLength || text.find(form) == std::string::npos) continue;
            r.problems.push_back("a secret of the credential appears in a message of the '" + result.name +
                                 "' check (masked here; the plugin transformed it, so the host could not)");
            for (size_t at; (at = text.find(form)) != std::string::npos;) text.replace(at, form.size(), "[REDACTED]");
          }
      };
      scrub(result.detail);
      for (auto &p : result.problems) scrub(p);
    }
    r.detail = std::to_string(secrets.size()) + " secret(s) searched for, in " + std::to_string(forms_of("x").size()) +
               " forms each and in 8-character parts, in " + std::to_string(outputs.logs.size()) +
               " log line(s), the messages and every non-secret output";
  }));
}

}  // namespace

PluginCheck check_plugin(const PluginCheckOptions &options) {
  PluginChecker checker(options);
  if (checker.check_file() && checker.check_exports() && checker.check_load()) {
    checker.check_descriptor();
    checker.check_schema();
    checker.check_egress();
    checker.check_create();
    checker.check_live();
    checker.check_concurrency();
    checker.check_secrets();
  }
  return checker.finish();
}

}  // namespace credplug
