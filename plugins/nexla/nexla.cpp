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

  void authenticate(Call &call) override {
    const int64_t now = call.now_seconds();
    bool renewed = use_refresh_ && !token_.empty() && expires_at_ > now && refresh(call);
    if (!renewed) request_token(call);
    call.header("Authorization", "Bearer " + token_.reveal(), /*secret=*/true);
    call.header("Accept", kAccept, /*secret=*/false);
    if (expires_at_ > 0) call.expires_at(expires_at_);
    if (!user_id_.empty()) call.output("user_id", user_id_);
  }

  void test(Call &call) override {
    HttpRequest http;
    http.url = join_url(api_, "/users/current");
    http.header("Authorization", "Bearer " + token_.reveal());
    http.header("Accept", kAccept);
    HttpResponse response = call.send(http);
    expect_success(response, {"the Nexla API", "GET /users/current", "api_url", "is this the Nexla API URL?", "the session token"});
    auto user = JsonDocument::parse_object(response.body());
    // The user by id, never by email (an email is personal data in logs).
    auto id = user ? user->raw("id") : std::nullopt;
    if (!id) fail(CREDPLUG_ERR_PROVIDER, "the Nexla API's /users/current answer has no user id");
    call.output("user_id", *id);
  }

 private:
  // POST {api}{path} with an empty body, as both token endpoints want it.
  HttpResponse post_empty(Call &call, const char *path, const std::string &authorization) const {
    HttpRequest http;
    http.method = "POST";
    http.url = join_url(api_, path);
    http.header("Authorization", authorization);
    http.header("Accept", kAccept);
    return call.send(http);
  }

  // POST /token with the service key.
  void request_token(Call &call) {
    accept(call, post_empty(call, "/token", "Basic " + service_key_.reveal()), "Nexla token endpoint");
  }

  // POST /token/refresh with the current token; false when refused.
  bool refresh(Call &call) {
    HttpResponse response = post_empty(call, "/token/refresh", "Bearer " + token_.reveal());
    if (!response.ok()) {
      call.info("token refresh refused (HTTP " + std::to_string(response.status()) + "); using the service key");
      return false;
    }
    try {
      accept(call, response, "Nexla token refresh endpoint");
    } catch (const Failure &f) {
      call.info(std::string("token refresh failed (") + f.what() + "); using the service key");
      return false;
    }
    return true;
  }

  void accept(Call &call, const HttpResponse &response, const char *endpoint) {
    oauth2::Token token = oauth2::parse_token_response(response.status(), response.body(), endpoint, response.header("Retry-After"));
    call.add_secret(token.access_token.view());
    auto body = JsonDocument::parse_object(response.body());
    // Nexla returns API keys with the session: secrets, never shown.
    if (body) {
      for (const char *key : {"/org_membership/api_key", "/user/api_key", "/api_key"})
        if (auto v = body->string(key)) call.add_secret(*v);
      user_id_ = body->raw("/user/id").value_or("");
    }
    token_ = std::move(token.access_token);
    expires_at_ = token.expires_in ? call.now_seconds() + *token.expires_in : 0;
  }

  std::string api_;
  SecretString service_key_;
  bool use_refresh_ = false;
  SecretString token_;
  int64_t expires_at_ = 0;
  std::string user_id_;
};

}  // namespace

CREDPLUG_PLUGIN(Nexla, "nexla", "Nexla", "1.0.0", credplug_credential_schema, 0)
