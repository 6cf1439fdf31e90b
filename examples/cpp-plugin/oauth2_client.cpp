// An OAuth 2.0 client-credentials provider (RFC 6749 §4.4) with the C++ kit:
// the same provider as examples/c-plugin. Build: see CMakeLists.txt; try:
// credplug test oauth2-client-cpp CREDENTIAL.json
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

class OAuth2Client final : public Provider {
 public:
  static constexpr uint32_t kDefaultTokenLifetimeSeconds = 3600;

  // The schema has checked types and required fields; URLs are parsed again
  // so that a bad one is refused offline, naming the field.
  OAuth2Client(const JsonDocument &credential, Call &) {
    request_.token_url = parse_https_url("token_url", credential.string("token_url").value_or("")).str();
    request_.client_id = credential.string("client_id").value_or("");
    request_.client_secret = SecretString(credential.string("client_secret").value_or(""));
    request_.client_auth = oauth2::client_auth_from_string(credential.string("client_auth").value_or("basic"))
                               .value_or(oauth2::ClientAuth::Basic);
    request_.scope = credential.string("scope").value_or("");
    test_url_ = parse_https_url("test_url", credential.string("test_url").value_or("")).str();
  }

  void authenticate(Call &call) override {
    oauth2::Token token = oauth2::request_client_credentials(call, request_);  // errors are categorised
    bearer_ = SecretString("Bearer " + token.access_token.reveal());
    call.header("Authorization", bearer_.view(), /*secret=*/true);
    if (token.expires_in) call.expires_at(call.now_seconds() + *token.expires_in);
  }

  // GET test_url with the token: 200 proves it; the answer's client_id is shown.
  void test(Call &call) override {
    HttpRequest request;
    request.url = test_url_;
    request.header("Authorization", bearer_.view());
    HttpResponse response = call.send(request);
    expect_success(response, {"test_url", "GET test_url", "test_url", "is it the API's URL?"});
    auto answer = JsonDocument::parse_object(response.body());
    call.output("client_id", answer ? answer->string("client_id").value_or("(not in the answer)") : "(not JSON)");
  }

 private:
  oauth2::ClientCredentialsRequest request_;
  std::string test_url_;
  SecretString bearer_;
};

}  // namespace

CREDPLUG_PLUGIN(OAuth2Client, "oauth2-client-cpp", "OAuth 2.0 client (C++ example)", "1.0.0",
                credplug_credential_schema, 0)
