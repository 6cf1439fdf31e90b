// Where a plugin's HTTPS requests may go (docs/SANDBOX.md, "Egress"): only
// to the origins its credential names — every non-secret string that is an
// https:// URL, and a bare host name in a field the schema marks as an
// address, normalised as plugins normalise them (kit::parse_https_url);
// never a number or a version ("127.1", "2.1") — and to the origins its schema declares in a
// top-level "x-credplug-egress" list, where "*" stands for one DNS label
// ("https://cognito-idp.*.amazonaws.com"). Anything else is refused before
// a byte is sent, in both isolation modes. Secret values never count: a
// host name made of a secret would carry it out in the DNS query.
#pragma once

#include <credplug/kit/secret.hpp>

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::host {

// Why `pattern` cannot be an x-credplug-egress entry, or nullopt: it must be
// https://host[:port], "*" only as a whole label, and its last two labels
// literal (never "https://*" or "https://*.com").
std::optional<std::string> egress_pattern_problem(std::string_view pattern);

class EgressPolicy {
 public:
  // `declared`: the schema's patterns (already checked); `secret_fields`:
  // the schema's writeOnly property names and `also_secret` values (what
  // $env, $file and $stdin loaded) never count; `address_fields`: the
  // properties the schema marks as addresses, the only ones where a bare
  // host name counts (an https:// URL counts anywhere).
  EgressPolicy() = default;  // refuses every URL
  // `declared` is kept by reference (the schema's, which outlives the
  // credential's policy): a copy per open credential would be memory
  // spent for nothing; a temporary does not compile.
  EgressPolicy(const std::vector<std::string> &declared, const std::set<std::string> &secret_fields,
               const std::vector<kit::SecretString> &also_secret, std::string_view credential_json,
               const std::set<std::string> &address_fields = {});
  EgressPolicy(std::vector<std::string> &&declared, const std::set<std::string> &,
               const std::vector<kit::SecretString> &, std::string_view, const std::set<std::string> & = {}) = delete;

  // Why a request to `url` is refused, naming its origin, or nullopt.
  std::optional<std::string> refusal(std::string_view url) const;

 private:
  // The credential's origins, "https://host:port" (host lower-case), each
  // once and each between '\n's ("\na\nb\n"), or empty: one string, as
  // one allocation per open credential (a set's nodes cost more).
  std::string origins_;
  const std::vector<std::string> *declared_ = &kNone;  // never null
  static const std::vector<std::string> kNone;
};

}  // namespace credplug::host
