// What the host checks of a plugin's credential schema when the plugin
// loads, so an author's mistake is caught then, not in a user's terminal:
// the schema must be a valid JSON Schema draft-04 (the meta-schema), and a
// property whose name says it holds a secret must say so ("writeOnly": true)
// — if it does not, the host treats it as secret anyway and warns.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace credplug::host {

// Why `schema` is not a valid draft-04 schema — the JSON pointer of the
// problem and the rule it breaks — or nullopt.
std::optional<std::string> meta_schema_problem(const rapidjson::Value &schema);

// Whether a property name says it holds a secret: its last word (split at
// '_', '-' and case changes) is secret, password, passphrase, token, key,
// apikey, pin, ... ("client_secret", "api_key", "refreshToken"; not
// "token_url" or "key_id").
bool name_says_secret(const std::string &name);

// Calls visit(name, property schema, JSON pointer) for every property declared
// anywhere in `schema` — under properties, in the branches of
// oneOf/anyOf/allOf, items, not and additionalProperties — parents first.
void for_each_property(const rapidjson::Value &schema,
                       const std::function<void(const std::string &name, const rapidjson::Value &property,
                                                const std::string &pointer)> &visit);

// Whether a property schema says "writeOnly": true.
bool declared_write_only(const rapidjson::Value &property);

// Whether a property's schema says its value is an address: "format":
// "hostname" or "uri", or "x-credplug-address": true (a host name or an
// https:// URL, which no standard format covers).
bool declared_address(const rapidjson::Value &property);

// Properties (anywhere in `schema`) whose name says secret but that lack
// "writeOnly": true: their names, and one warning each naming the field.
struct UndeclaredSecrets {
  std::set<std::string> names;
  std::vector<std::string> warnings;
};
UndeclaredSecrets undeclared_secrets(const rapidjson::Value &schema);

// What `credplug check-plugin` asks of a schema beyond validity (the
// conventions of the shipped schemas): "$schema" says draft-04; every
// property has a title and a description; a pattern has an x-pattern-hint;
// secrets are declared (undeclared_secrets). One sentence each, starting
// with the JSON pointer of the property.
std::vector<std::string> convention_problems(const rapidjson::Value &schema);

}  // namespace credplug::host
