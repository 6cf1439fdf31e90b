// A provider whose API wants a client certificate (mTLS), written with the
// kit (ABI minor 3): the certificate and key are credential values, handed
// to the host with each request (HttpRequest::client_cert_pem, ...), never
// files. authenticate() GETs {url}/mtls/me with them and outputs the subject
// the server saw as X-Mtls-Subject, never expiring; test() does it again.
#include <credplug/kit.hpp>

using namespace credplug::kit;

namespace {

class MtlsClient final : public Provider {
 public:
  MtlsClient(const JsonDocument &credential, Call &) {
    url_ = parse_https_url("url", credential.string("url").value_or("")).str() + "/mtls/me";
    cert_ = SecretString(credential.string("client_certificate").value_or(""));
    key_ = SecretString(credential.string("client_key").value_or(""));
    passphrase_ = SecretString(credential.string("client_key_passphrase").value_or(""));
  }

  void authenticate(Call &call) override {
    call.public_header("X-Mtls-Subject", subject(call));
    call.never_expires();
  }

  void test(Call &call) override { call.output("subject", subject(call)); }

 private:
  std::string subject(Call &call) {
    HttpRequest http;
    http.url = url_;
    http.client_cert_pem = cert_;
    http.client_key_pem = key_;
    http.client_key_passphrase = passphrase_;
    HttpResponse response = call.send(http);
    expect_success(response, {"the mTLS API", "GET /mtls/me", "url", "is this the API's URL?", "the certificate"});
    auto body = JsonDocument::parse_object(response.body());
    auto subject = body ? body->string("subject") : std::nullopt;
    if (!subject) fail(CREDPLUG_ERR_PROVIDER, "the mTLS API named no subject");
    return *subject;
  }

  std::string url_;
  SecretString cert_, key_, passphrase_;
};

}  // namespace

CREDPLUG_PLUGIN_REQUIRING(3, MtlsClient, "mtls-client", "mTLS client (test)", "1.0.0", credplug_credential_schema, 0)
