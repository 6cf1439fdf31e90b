// Nexla: a service key buys a session token at POST {api}/token
// (Authorization: Basic <service key>, as issued, not re-encoded); API calls
// carry the token as a bearer plus Nexla's versioned Accept header.
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

constexpr const char *kAccept = "application/vnd.nexla.api.v1+json";

class Nexla final : public Provider {
 public:
  Nexla(const JsonDocument &credential, Call &) {
    api_ = parse_https_url("api_url", credential.string("api_url").value_or("https://api.nexla.io")).str();
    service_key_ = SecretString(credential.string("service_key").value_or(""));
    use_refresh_ = credential.boolean("use_token_refresh").value_or(false);
  }

  // Nexla's docs: tokens "typically" live an hour; the response says.
  static constexpr uint32_t kDefaultTokenLifetimeSeconds = 3600;

  // A new session from the service key.
  void authenticate(Call &call) override {
    accept(call, post_empty(call, "/token", "Basic " + service_key_.reveal()), "Nexla token endpoint");
    emit(call);
  }

  // The host's refresh-ahead: POST /token/refresh with the current token
  // when the credential opts in (their SDK never does: contracts file), else
  // a new session. A refused refresh fails; the host then authenticates.
  void refresh(Call &call) override {
    if (!use_refresh_ || token_.empty()) return authenticate(call);
    HttpResponse response = post_empty(call, "/token/refresh", "Bearer " + token_.reveal());
    if (!response.ok())
      fail(response.status() == 401 || response.status() == 403 ? CREDPLUG_ERR_REJECTED : CREDPLUG_ERR_PROVIDER,
           "the Nexla token refresh endpoint refused the session token (HTTP " + std::to_string(response.status()) +
               ")");
    accept(call, response, "Nexla token refresh endpoint");
    emit(call);
  }

  void test(Call &call) override {
    HttpRequest http;
    http.url = join_url(api_, "/users/current");
    http.header("Authorization", "Bearer " + token_.reveal());
    http.header("Accept", kAccept);
    HttpResponse response = call.send(http);
    expect_success(response, {"the Nexla API", "GET /users/current", "api_url", "is this the Nexla API URL?",
                              "the session token"});
    auto user = JsonDocument::parse_object(response.body());
    // The user by id, never by email (an email is personal data in logs).
    auto id = user ? user->raw("id") : std::nullopt;
    if (!id) fail(CREDPLUG_ERR_PROVIDER, "the Nexla API's /users/current answer has no user id");
    call.output("user_id", *id);
  }

 private:
  // POST {api}{path} with an empty body, as both token endpoints want it.
  // Notes when it was sent: expires_in counts from then.
  HttpResponse post_empty(Call &call, const char *path, const std::string &authorization) {
    requested_at_ = call.now_seconds();
    HttpRequest http;
    http.method = "POST";
    http.url = join_url(api_, path);
    http.header("Authorization", authorization);
    http.header("Accept", kAccept);
    return call.send(http);
  }

  void emit(Call &call) const {
    call.header("Authorization", "Bearer " + token_.reveal(), /*secret=*/true);
    call.header("Accept", kAccept, /*secret=*/false);
    if (expires_at_ > 0) call.expires_at(expires_at_);
    if (!user_id_.empty()) call.output("user_id", user_id_);
  }

  void accept(Call &call, const HttpResponse &response, const char *endpoint) {
    oauth2::Token token = oauth2::parse_token_response(call, response, endpoint);
    auto body = JsonDocument::parse_object(response.body());
    // Nexla returns API keys with the session: secrets, never shown.
    if (body) {
      for (const char *key : {"/org_membership/api_key", "/user/api_key", "/api_key"})
        if (auto v = body->string(key)) call.add_secret(*v);
      user_id_ = body->raw("/user/id").value_or("");
    }
    token_ = std::move(token.access_token);
    expires_at_ = token.expires_in ? requested_at_ + *token.expires_in : 0;
  }

  std::string api_;
  SecretString service_key_;
  bool use_refresh_ = false;
  SecretString token_;
  int64_t expires_at_ = 0;
  int64_t requested_at_ = 0;
  std::string user_id_;
};

}  // namespace

CREDPLUG_PLUGIN(Nexla, "nexla", "Nexla", "1.0.0", credplug_credential_schema, 0)
