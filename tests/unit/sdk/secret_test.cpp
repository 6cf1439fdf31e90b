// kit::SecretString: moved from, it is wiped; moved into, it keeps no
// buffer of its own past value (a long one left in a short secret is memory
// held for nothing: the redactor's vector shuffles its entries).
#include <credplug/kit/secret.hpp>

#include <doctest/doctest.h>

#include <string>
#include <utility>

using credplug::kit::SecretString;

TEST_CASE("a SecretString moved into frees the buffer it had; the one moved from is empty") {
  SecretString long_one(std::string(1024, 'k'));
  SecretString short_one(std::string_view("short"));
  long_one = std::move(short_one);
  CHECK(long_one.view() == "short");
  CHECK(long_one.reveal().capacity() < 1024);  // std::string's move would keep the 1 KiB buffer
  CHECK(short_one.empty());                    // NOLINT(bugprone-use-after-move): wiped on purpose

  SecretString a(std::string(2048, 'a')), b(std::string(512, 'b'));
  a = std::move(b);
  CHECK(a.view() == std::string(512, 'b'));
  CHECK(a.reveal().capacity() < 2048);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
}
