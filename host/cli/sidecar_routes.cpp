// The sidecar's routes: each parses a bounded JSON body, calls the Host or a
// Credential, and answers with the document the CLI's --json prints, or
// {"ok": false, "error": {"kind", "message"}} with the CLI's error kinds.
#include "sidecar_routes.hpp"

#include "wiping_allocator.hpp"

#include <credplug/host_json.hpp>

#include <bounded_json.hpp>

#include <openssl/crypto.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>
#include <vector>

namespace credplug::cli {
namespace {

// Request bodies hold secrets: their parsed copies live in memory that is
// wiped when freed.
using Document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<WipingAllocator>, WipingAllocator>;
using Value = Document::ValueType;
using Buffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, WipingAllocator>;
using Writer = rapidjson::Writer<Buffer, rapidjson::UTF8<>, rapidjson::UTF8<>, WipingAllocator>;

constexpr const char *kJson = "application/json";
constexpr size_t kMaxName = 128;

// An HTTP status for an error of `kind`; the body names the kind as the CLI does.
int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidInput:
      return 400;
    case ErrorKind::Rejected:
      return 403;  // the provider refused the credential
    case ErrorKind::Reauthorize:
      return 409;             // the person must connect the account again
    case ErrorKind::Network:  // the provider could not be reached
    case ErrorKind::Provider:
      return 502;  // or answered outside its contract
    case ErrorKind::Plugin:
    case ErrorKind::StateNotSaved:
      break;  // (not in the sidecar: it keeps states in memory)
  }
  return 500;
}

std::string error_body(const char *kind, const std::string &message) {
  Buffer out;
  Writer w(out);
  w.StartObject();
  w.Key("ok"), w.Bool(false);
  w.Key("error"), w.StartObject();
  w.Key("kind"), w.String(kind);
  w.Key("message"), w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  w.EndObject();
  return std::string(out.GetString(), out.GetSize()) + "\n";
}

void fail(httplib::Response &res, int status, const char *kind, const std::string &message) {
  res.status = status;
  res.set_content(error_body(kind, message), kJson);
}

void fail(httplib::Response &res, const Error &e) {
  fail(res, http_status(e.kind()), json::kind_slug(e.kind()), e.what());
}

void reply(httplib::Response &res, std::string body, int status = 200) {
  res.status = status;
  if (body.empty() || body.back() != '\n') body += '\n';
  res.set_content(body, kJson);
  kit::wipe(body);
}

// Names: what a URL path carries without escaping.
bool valid_name(const std::string &name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (unsigned char c : name)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')) return false;
  return name != "." && name != "..";
}

// The request's JSON body as an object; InvalidInput naming what is wrong.
void parse_body(const httplib::Request &req, Document &doc, bool optional = false) {
  if (optional && req.body.empty()) {
    doc.SetObject();
    return;
  }
  const bounded_json::Outcome outcome = bounded_json::parse(doc, req.body);
  if (!outcome.ok) throw Error(ErrorKind::InvalidInput, "the request body is not JSON: " + outcome.where(req.body));
  if (!doc.IsObject()) throw Error(ErrorKind::InvalidInput, "the request body must be a JSON object");
}

const Value *member(const Value &object, const char *name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string string_member(const Value &object, const char *name, bool required) {
  const Value *v = member(object, name);
  if (v == nullptr || v->IsNull()) {
    if (required) throw Error(ErrorKind::InvalidInput, std::string("the request body has no \"") + name + "\"");
    return {};
  }
  if (!v->IsString()) throw Error(ErrorKind::InvalidInput, std::string("\"") + name + "\" must be a string");
  return std::string(v->GetString(), v->GetStringLength());
}

// An object member written back as JSON text (a credential, a state): a secret.
SecretString object_member(const Value &object, const char *name, bool required) {
  const Value *v = member(object, name);
  if (v == nullptr || v->IsNull()) {
    if (required) throw Error(ErrorKind::InvalidInput, std::string("the request body has no \"") + name + "\"");
    return {};
  }
  if (!v->IsObject()) throw Error(ErrorKind::InvalidInput, std::string("\"") + name + "\" must be a JSON object");
  Buffer out;
  Writer w(out);
  v->Accept(w);
  return SecretString(out.GetString(), out.GetSize());
}

void write_string(Writer &w, const std::string &s) { w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size())); }

// {"ok": true, "name", "plugin", "label"}: what a credential is registered as.
std::string registered_json(const std::string &name, const std::string &plugin, const std::string &label,
                            const SecretString *state) {
  Buffer out;
  Writer w(out);
  w.StartObject();
  w.Key("ok"), w.Bool(true);
  w.Key("name"), write_string(w, name);
  w.Key("plugin"), write_string(w, plugin);
  w.Key("label"), write_string(w, label);
  if (state) {  // the state to persist (a refresh token): the caller's to keep
    w.Key("state");
    if (state->view().empty())
      w.Null();
    else
      w.RawValue(state->view().data(), state->view().size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

}  // namespace

std::shared_ptr<Sidecar::Entry> Sidecar::find(const std::string &name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = credentials_.find(name);
  return it == credentials_.end() ? nullptr : it->second;
}

void Sidecar::close_all() {
  std::map<std::string, std::shared_ptr<Entry>> closing;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing.swap(credentials_);
    connecting_.clear();
  }
}

void Sidecar::put(const httplib::Request &req, httplib::Response &res, const std::string &name) {
  Document body;
  parse_body(req, body);
  const std::string plugin = string_member(body, "plugin", true);
  const std::string label = string_member(body, "label", false);
  SecretString credential = object_member(body, "credential", true);
  OpenOptions options;
  options.label = label;
  options.state = object_member(body, "state", false);
  host_.plugin(plugin);  // an unknown plugin: InvalidInput naming the known ones
  auto entry = std::make_shared<Entry>();
  entry->plugin = plugin;
  entry->label = label;
  entry->credential = host_.open(plugin, credential.view(), options);
  bool replaced = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto &slot = credentials_[name];
    replaced = slot != nullptr;
    slot = entry;
  }
  reply(res, registered_json(name, plugin, label, nullptr), replaced ? 200 : 201);
}

void Sidecar::remove(httplib::Response &res, const std::string &name) {
  std::shared_ptr<Entry> gone;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = credentials_.find(name);
    if (it != credentials_.end()) {
      gone = std::move(it->second);
      credentials_.erase(it);
    }
  }
  if (!gone) return fail(res, 404, "not_found", "no credential named '" + name + "'");
  res.status = 204;
}

void Sidecar::list(httplib::Response &res) {
  Buffer out;
  Writer w(out);
  w.StartObject();
  w.Key("ok"), w.Bool(true);
  w.Key("credentials"), w.StartArray();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto &[name, entry] : credentials_) {
      w.StartObject();
      w.Key("name"), write_string(w, name);
      w.Key("plugin"), write_string(w, entry->plugin);
      w.Key("label"), write_string(w, entry->label);
      w.EndObject();
    }
  }
  w.EndArray();
  w.EndObject();
  reply(res, std::string(out.GetString(), out.GetSize()));
}

void Sidecar::headers(httplib::Response &res, Entry &entry) {
  HeadersPtr h = entry.credential->headers();
  {
    std::lock_guard<std::mutex> lock(entry.served_mutex);
    if (!entry.served || entry.served->generation < h->generation) entry.served = h;
  }
  Buffer out;
  Writer w(out);
  w.StartObject();
  w.Key("ok"), w.Bool(true);
  w.Key("headers"), w.StartObject();
  for (const Header &header : h->headers) {
    w.Key(header.name.c_str(), static_cast<rapidjson::SizeType>(header.name.size()));
    w.String(header.value.view().data(), static_cast<rapidjson::SizeType>(header.value.view().size()));
  }
  w.EndObject();
  w.Key("generation"), w.Uint64(h->generation);
  w.Key("expires_at");
  if (h->never_expires || !h->expires_at)
    w.Null();
  else
    w.Int64(*h->expires_at);
  w.EndObject();
  res.set_header("Cache-Control", "no-store");
  reply(res, std::string(out.GetString(), out.GetSize()));
}

void Sidecar::invalidate(const httplib::Request &req, httplib::Response &res, Entry &entry) {
  Document body;
  parse_body(req, body, true);
  const Value *generation = member(body, "generation");
  if (generation == nullptr || generation->IsNull()) {
    entry.credential->invalidate();
  } else {
    if (!generation->IsUint64() || generation->GetUint64() == 0)
      throw Error(ErrorKind::InvalidInput, "\"generation\" must be a positive integer (from the headers' answer)");
    HeadersPtr served;
    {
      std::lock_guard<std::mutex> lock(entry.served_mutex);
      served = entry.served;
    }
    // The token the client saw refused; an older one is already gone.
    if (served && served->generation == generation->GetUint64()) entry.credential->invalidate(*served);
  }
  reply(res, "{\"ok\":true}");
}

void Sidecar::sign(const httplib::Request &req, httplib::Response &res, Entry &entry) {
  Document body;
  parse_body(req, body);
  const std::string method = string_member(body, "method", false);
  const std::string url = string_member(body, "url", true);
  RequestToSign request;
  if (!method.empty()) request.method = method;  // a view: of `method`, which outlives the call
  request.url = url;
  if (const Value *headers = member(body, "headers"); headers && !headers->IsNull()) {
    if (!headers->IsObject()) throw Error(ErrorKind::InvalidInput, "\"headers\" must be an object of strings");
    for (const auto &h : headers->GetObject()) {
      if (!h.value.IsString()) throw Error(ErrorKind::InvalidInput, "\"headers\" must be an object of strings");
      request.headers.emplace_back(h.name.GetString(), h.value.GetString());
    }
  }
  const std::string payload = string_member(body, "body", false);
  if (member(body, "body") && (*member(body, "body")).IsString()) request.body = payload;
  request.body_sha256 = string_member(body, "body_sha256", false);
  if (const Value *t = member(body, "time_ms"); t && !t->IsNull()) {
    if (!t->IsInt64()) throw Error(ErrorKind::InvalidInput, "\"time_ms\" must be an integer (Unix ms)");
    request.time_ms = t->GetInt64();
  }
  reply(res,
        json::signed_json(entry.credential->plugin_id(), entry.credential->sign(request), true, json::JsonStyle::Line));
}

void Sidecar::begin_authorization(const httplib::Request &req, httplib::Response &res, const std::string &name) {
  Document body;
  parse_body(req, body);
  Connecting c;
  c.plugin = string_member(body, "plugin", true);
  c.label = string_member(body, "label", false);
  c.credential = object_member(body, "credential", true);
  const std::string redirect_uri = string_member(body, "redirect_uri", true);
  host_.plugin(c.plugin);
  PendingAuthorization begun = host_.begin_authorization(c.plugin, c.credential.view(), redirect_uri);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connecting_[name] = std::move(c);
  }
  Buffer out;
  Writer w(out);
  w.StartObject();
  w.Key("ok"), w.Bool(true);
  w.Key("url"), write_string(w, begun.url);
  w.Key("pending"),
      w.String(begun.pending.view().data(), static_cast<rapidjson::SizeType>(begun.pending.view().size()));
  w.Key("expires_at"), w.Int64(begun.expires_at);
  w.EndObject();
  reply(res, std::string(out.GetString(), out.GetSize()));
}

void Sidecar::complete_authorization(const httplib::Request &req, httplib::Response &res, const std::string &name) {
  Document body;
  parse_body(req, body);
  const std::string pending = string_member(body, "pending", true);
  const std::string redirect_url = string_member(body, "redirect_url", true);
  Connecting c;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connecting_.find(name);
    if (it == connecting_.end())
      return fail(res, 404, "not_found", "no authorization begun for '" + name + "' (POST .../authorization first)");
    c = std::move(it->second);
    connecting_.erase(it);
  }
  OpenOptions options;
  options.label = c.label;
  options.state = host_.complete_authorization(pending, redirect_url);
  auto entry = std::make_shared<Entry>();
  entry->plugin = c.plugin;
  entry->label = c.label;
  entry->credential = host_.open(c.plugin, c.credential.view(), options);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    credentials_[name] = entry;
  }
  const SecretString state = entry->credential->state();
  reply(res, registered_json(name, c.plugin, c.label, &state), 201);
}

void Sidecar::install(httplib::Server &server, std::string token) {
  // Every route but /healthz: the bearer token, compared in constant time.
  server.set_pre_routing_handler([token = std::move(token)](const httplib::Request &req, httplib::Response &res) {
    if (token.empty() || req.path == "/healthz") return httplib::Server::HandlerResponse::Unhandled;
    const std::string given = req.get_header_value("Authorization");
    const std::string expected = "Bearer " + token;
    if (given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0)
      return httplib::Server::HandlerResponse::Unhandled;
    res.set_header("WWW-Authenticate", "Bearer");
    fail(res, 401, "unauthorized",
         given.empty() ? "this sidecar takes a bearer token (Authorization: Bearer <the --token-file's token>)"
                       : "wrong bearer token");
    return httplib::Server::HandlerResponse::Handled;
  });

  // Every handler: a credplug::Error becomes its kind's status and body.
  auto guarded = [](auto handler) {
    return [handler](const httplib::Request &req, httplib::Response &res) {
      try {
        handler(req, res);
      } catch (const Error &e) {
        fail(res, e);
      }
    };
  };
  // Routes on a credential by name: 404 for one not registered.
  auto on_credential = [this, guarded](auto handler) {
    return guarded([this, handler](const httplib::Request &req, httplib::Response &res) {
      const std::string name = req.matches[1];
      std::shared_ptr<Entry> entry = find(name);
      if (!entry) return fail(res, 404, "not_found", "no credential named '" + name + "'");
      handler(req, res, *entry);
    });
  };
  auto named = [guarded](auto handler) {
    return guarded([handler](const httplib::Request &req, httplib::Response &res) {
      const std::string name = req.matches[1];
      if (!valid_name(name))
        return fail(res, 400, "invalid_input",
                    "a credential's name is 1 to 128 of A-Z a-z 0-9 - _ . ~ (it goes in the URL unescaped)");
      handler(req, res, name);
    });
  };

  server.Get("/healthz", [this](const httplib::Request &, httplib::Response &res) {
    size_t n = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      n = credentials_.size();
    }
    reply(res, "{\"ok\":true,\"credentials\":" + std::to_string(n) + "}");
  });
  server.Get("/metrics", [this](const httplib::Request &, httplib::Response &res) {
    res.set_content(json::metrics_prometheus(host_.metrics()), "text/plain; version=0.0.4");
  });
  server.Get("/v1/plugins", guarded([this](const httplib::Request &, httplib::Response &res) {
               reply(res,
                     json::plugins_json(host_.plugins(), host_.problems(), host_.search_path(), json::JsonStyle::Line));
             }));
  server.Get(R"(/v1/plugins/([^/]+)/schema)", guarded([this](const httplib::Request &req, httplib::Response &res) {
               const std::string id = req.matches[1];
               host_.plugin(id);
               const std::string form = req.get_param_value("form");
               reply(res, form == "1" || form == "true" ? host_.form_schema(id) : host_.schema(id));
             }));
  server.Post(R"(/v1/plugins/([^/]+)/validate)", guarded([this](const httplib::Request &req, httplib::Response &res) {
                const std::string id = req.matches[1];
                host_.plugin(id);
                reply(res, json::validation_json(id, host_.validate(id, req.body), json::JsonStyle::Line));
              }));
  server.Get("/v1/credentials", guarded([this](const httplib::Request &, httplib::Response &res) { list(res); }));
  server.Put(R"(/v1/credentials/([^/]+))", named([this](const httplib::Request &req, httplib::Response &res,
                                                        const std::string &name) { put(req, res, name); }));
  server.Delete(R"(/v1/credentials/([^/]+))", named([this](const httplib::Request &, httplib::Response &res,
                                                           const std::string &name) { remove(res, name); }));
  server.Get(R"(/v1/credentials/([^/]+)/headers)",
             on_credential([this](const httplib::Request &, httplib::Response &res, Entry &e) { headers(res, e); }));
  server.Post(R"(/v1/credentials/([^/]+)/invalidate)",
              on_credential(
                  [this](const httplib::Request &req, httplib::Response &res, Entry &e) { invalidate(req, res, e); }));
  server.Post(
      R"(/v1/credentials/([^/]+)/sign)",
      on_credential([this](const httplib::Request &req, httplib::Response &res, Entry &e) { sign(req, res, e); }));
  server.Get(R"(/v1/credentials/([^/]+)/status)",
             on_credential([](const httplib::Request &, httplib::Response &res, Entry &e) {
               reply(res, json::credential_status_json(e.credential->status()));
             }));
  server.Post(R"(/v1/credentials/([^/]+)/test)",
              on_credential([](const httplib::Request &, httplib::Response &res, Entry &e) {
                reply(res, json::test_json(e.credential->plugin_id(), e.credential->test(), "", json::JsonStyle::Line));
              }));
  server.Get(R"(/v1/credentials/([^/]+)/state)",
             on_credential([](const httplib::Request &req, httplib::Response &res, Entry &e) {
               const SecretString state = e.credential->state();
               res.set_header("Cache-Control", "no-store");
               reply(res, registered_json(req.matches[1], e.plugin, e.label, &state));
             }));
  server.Post(R"(/v1/credentials/([^/]+)/revoke)",
              on_credential([](const httplib::Request &, httplib::Response &res, Entry &e) {
                e.credential->revoke();
                reply(res, "{\"ok\":true}");
              }));
  server.Post(R"(/v1/credentials/([^/]+)/authorization)",
              named([this](const httplib::Request &req, httplib::Response &res, const std::string &name) {
                begin_authorization(req, res, name);
              }));
  server.Post(R"(/v1/credentials/([^/]+)/authorization/complete)",
              named([this](const httplib::Request &req, httplib::Response &res, const std::string &name) {
                complete_authorization(req, res, name);
              }));

  // What httplib answers itself (no route, a body over the limit, a bad
  // request line) in the same shape.
  server.set_error_handler([](const httplib::Request &, httplib::Response &res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404:
        return fail(res, 404, "not_found", "no such endpoint (docs/SIDECAR.md lists them)");
      case 405:
        return fail(res, 405, "invalid_input", "this endpoint does not take that method");
      case 413:
        return fail(res, 413, "invalid_input", "the request body is over the sidecar's limit");
      case 414:
        return fail(res, 414, "invalid_input", "the request line is too long");
      default:
        return fail(res, res.status, res.status < 500 ? "invalid_input" : "internal", "the request failed");
    }
  });
  server.set_exception_handler([](const httplib::Request &, httplib::Response &res, const std::exception_ptr &) {
    fail(res, 500, "internal", "an unexpected failure in the sidecar (see its log)");
  });
}

}  // namespace credplug::cli
