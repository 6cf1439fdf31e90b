// docs/SANDBOX.md lists exactly what a plugin may do: the system calls it
// documents must be the ones host/runner/sandbox.cpp allows and refuses.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

namespace {

std::string read(const std::string &path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot read " << path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string between(const std::string &text, const std::string &from, const std::string &to) {
  size_t a = text.find(from);
  REQUIRE_MESSAGE(a != std::string::npos, "no '" << from << "'");
  size_t b = text.find(to, a);
  REQUIRE_MESSAGE(b != std::string::npos, "no '" << to << "'");
  return text.substr(a, b - a);
}

std::set<std::string> matches(const std::string &text, const std::regex &re) {
  std::set<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) out.insert((*it)[1]);
  return out;
}

}  // namespace

TEST_CASE("sandbox: the documented system calls are the filter's") {
  const std::string doc = read(CREDPLUG_SOURCE_DIR "/docs/SANDBOX.md");
  const std::string code = read(CREDPLUG_SOURCE_DIR "/host/runner/sandbox.cpp");
  const std::regex in_doc("`([a-z0-9_]+)`"), in_code(R"(SCMP_SYS\(([a-z0-9_]+)\))");
  auto doc_allowed = matches(between(doc, "<!-- allowed -->", "<!-- /allowed -->"), in_doc);
  auto doc_refused = matches(between(doc, "<!-- refused -->", "<!-- /refused -->"), in_doc);
  auto code_allowed = matches(between(code, "constexpr int kAllowed[]", "};"), in_code);
  auto code_refused = matches(between(code, "constexpr int kRefused[]", "};"), in_code);
  auto doc_at_load = matches(between(doc, "<!-- allowed-at-load -->", "<!-- /allowed-at-load -->"), in_doc);
  auto code_at_load = matches(between(code, "constexpr int kAllowedAtLoad[]", "};"), in_code);
  CHECK(doc_allowed == code_allowed);
  CHECK(doc_refused == code_refused);
  CHECK(doc_at_load == code_at_load);
  CHECK(code_allowed.size() > 30);
  CHECK(code_refused.count("socket"));
  CHECK(code_refused.count("connect"));
  CHECK(code_refused.count("execve"));
}
