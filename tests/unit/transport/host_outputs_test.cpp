// What the host makes of a plugin's outputs, whatever flags it set (ABI
// minor 3): headers whose names say they carry a credential are secret
// unless marked public; an identifier sent in a request is not masked;
// query parameters only from sign(); a client certificate's key is a secret
// of the call.
#include "transport/host_services.hpp"

#include <credplug/plugin.h>

#include <support/host_call.hpp>

#include <doctest/doctest.h>

#include <string>

using credplug::host::host_services;

namespace {

struct Call : credplug::testing::HostCall {
  const credplug::Header *header(const std::string &name) const {
    for (const auto &h : call.headers)
      if (h.name == name) return &h;
    return nullptr;
  }
};

const credplug_host_api &api() { return *host_services(); }

}  // namespace

TEST_CASE("host outputs: a header named like a credential is secret unless marked public") {
  Call c;
  api().out_header(&c.call, "Authorization", "Bearer abc.def", 0);
  api().out_header(&c.call, "X-Api-Key", "k-123456", 0);
  api().out_header(&c.call, "Cookie", "sid=42", 0);
  api().out_header(&c.call, "X-Amz-Security-Token", "tok-987654", 0);
  api().out_header(&c.call, "X-Signature", "0f0f0f0f", 0);
  api().out_header(&c.call, "X-Key-Id", "key-7", CREDPLUG_FLAG_PUBLIC);
  api().out_header(&c.call, "X-Amz-Date", "20150830T123600Z", 0);
  api().out_header(&c.call, "X-Token-Hint", "visible-hint", CREDPLUG_FLAG_PUBLIC | CREDPLUG_FLAG_SECRET);
  for (const char *name : {"Authorization", "X-Api-Key", "Cookie", "X-Amz-Security-Token", "X-Signature"}) {
    CAPTURE(name);
    REQUIRE(c.header(name) != nullptr);
    CHECK(c.header(name)->secret);
    CHECK(c.secret(c.header(name)->value.reveal()));
  }
  CHECK_FALSE(c.header("X-Key-Id")->secret);
  CHECK_FALSE(c.secret("key-7"));
  CHECK_FALSE(c.header("X-Amz-Date")->secret);
  CHECK(c.header("X-Token-Hint")->secret);  // SECRET wins over PUBLIC
}

TEST_CASE("host outputs: a request header naming a credential is masked in what follows; an identifier is not") {
  Call c;
  credplug::host::HttpOptions options;
  options.connect_timeout_ms = 2000;
  const credplug::host::HttpsClient http(options);
  c.call.http = &http;
  const char *headers[] = {"X-Api-Key", "sent-key-1234", "X-Key-Id", "key-id-77", "Client-Id", "client-9", nullptr};
  credplug_http_request req{};
  req.struct_size = sizeof req;
  req.url = "https://127.0.0.1:1/";  // nothing listens: the request fails, its headers read
  req.headers = headers;
  credplug_http_response *resp = nullptr;
  CHECK(api().http_send(&c.call, &req, &resp) == CREDPLUG_ERR_NETWORK);
  api().http_release(resp);
  CHECK(c.secret("sent-key-1234"));
  CHECK_FALSE(c.secret("key-id-77"));
  CHECK_FALSE(c.secret("client-9"));
}

TEST_CASE("host outputs: query parameters only in sign(), checked like headers") {
  Call c;
  api().out_query(&c.call, "X-Amz-Signature", "abc", CREDPLUG_FLAG_SECRET);
  CHECK(c.call.query.empty());
  CHECK(c.call.refused_output == "output a query parameter outside sign()");
  Call s;
  credplug_sign_request req{};
  s.call.signing = &req;
  api().out_query(&s.call, "X-Amz-Signature", "abc123", CREDPLUG_FLAG_SECRET);
  api().out_query(&s.call, "X-Amz-Date", "20150830T123600Z", 0);
  REQUIRE(s.call.query.size() == 2);
  CHECK(s.call.query[0].secret);
  CHECK(s.secret("abc123"));
  CHECK_FALSE(s.call.query[1].secret);
  api().out_query(&s.call, "bad", "line\nbreak", 0);
  CHECK(s.call.refused_output.find("query parameter 'bad'") != std::string::npos);
}

TEST_CASE("host outputs: never expiring is said with CREDPLUG_EXPIRES_NEVER") {
  Call c;
  api().out_expires_at(&c.call, CREDPLUG_EXPIRES_NEVER);
  REQUIRE(c.call.expires_at.has_value());
  CHECK(*c.call.expires_at == INT64_MAX);
}
