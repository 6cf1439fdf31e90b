#include <credplug/kit/encoding.hpp>
#include <credplug/kit/json.hpp>

#include <doctest/doctest.h>

using namespace credplug::kit;

TEST_CASE("base64 follows RFC 4648 test vectors") {
  const char *vectors[][2] = {{"", ""},
                              {"f", "Zg=="},
                              {"fo", "Zm8="},
                              {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="},
                              {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
  for (auto &v : vectors) {
    CHECK(base64_encode(v[0]) == v[1]);
    CHECK(base64_decode(v[1]).value() == v[0]);
  }
  CHECK_FALSE(base64_decode("Zm9v!").has_value());
  CHECK_FALSE(base64_decode("Z").has_value());
}

TEST_CASE("base64url is unpadded and uses - and _") {
  std::string bytes("\xfb\xff\xbf", 3);
  CHECK(base64url_encode(bytes) == "-_-_");
  CHECK(base64_encode(bytes) == "+/+/");
  CHECK(base64url_decode("-_-_").value() == bytes);
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_decode("Zg").value() == "f");
}

TEST_CASE("url_encode keeps only unreserved characters") {
  CHECK(url_encode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(url_encode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  CHECK(form_encode({{"grant_type", "client_credentials"}, {"client_secret", "p&ss=w rd"}}) ==
        "grant_type=client_credentials&client_secret=p%26ss%3Dw%20rd");
}

TEST_CASE("JsonDocument reads keys, pointers and loose numbers") {
  auto doc =
      JsonDocument::parse_object(R"({"a":"x","n":3600,"s":"120","f":1.5,"user":{"id":7},"aud":["p","q"],"b":true})");
  REQUIRE(doc);
  CHECK(doc->string("a").value() == "x");
  CHECK(doc->integer("n").value() == 3600);
  CHECK(doc->integer("s").value() == 120);
  CHECK(doc->integer("f").value() == 1);
  CHECK(doc->integer("/user/id").value() == 7);
  CHECK(doc->strings("aud").value() == std::vector<std::string>{"p", "q"});
  CHECK(doc->strings("a").value() == std::vector<std::string>{"x"});
  CHECK(doc->boolean("b").value());
  CHECK_FALSE(doc->string("n").has_value());
  CHECK_FALSE(doc->has("missing"));
  CHECK(doc->raw("user").value() == R"({"id":7})");
  auto params = JsonDocument::parse_object(R"({"p":{"prompt":"consent","access_type":"offline"},"q":{"n":1}})");
  REQUIRE(params);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(params->string_members("p").value() == Pairs{{"prompt", "consent"}, {"access_type", "offline"}});
  CHECK_FALSE(params->string_members("q").has_value());  // a value that is no string
  CHECK_FALSE(doc->string_members("a").has_value());     // not an object
  CHECK_FALSE(JsonDocument::parse_object("[1]").has_value());
  CHECK_FALSE(JsonDocument::parse_object("{").has_value());
  CHECK_FALSE(JsonDocument::parse_object("").has_value());
}

TEST_CASE("json_quote escapes what JSON requires") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
  CHECK(JsonDocument::parse_object("{\"k\":" + json_quote("x\"\u0001y") + "}")->string("k").value() == "x\"\u0001y");
}

TEST_CASE("hex: two lowercase digits per byte") {
  CHECK(credplug::kit::hex_encode("") == "");
  CHECK(credplug::kit::hex_encode(std::string("\x00\x0f\xa5\xff", 4)) == "000fa5ff");
}
