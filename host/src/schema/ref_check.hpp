// A schema's "$ref"s are followed before RapidJSON compiles it. A plugin
// writes its schema, so they are hostile input, and RapidJSON 1.1.0 trusts
// them: its HandleRefSchema follows a $ref whose target is another $ref by
// recursion, so a cycle ({"properties":{"x":{"$ref":"#/properties/x"}}})
// overflows the host's stack (SIGSEGV in `credplug plugins`, `auth`,
// `check-plugin` and credplug_open()); and a $ref it cannot resolve (another
// document, a pointer to nothing, to a string) silently checks nothing.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>

namespace credplug::host {

// The first refused "$ref" anywhere in `schema` (RapidJSON compiles every
// object, so every "$ref" counts), as "the schema's $ref at /properties/x:
// why", or nullopt. Refused: a reference to another document; a fragment
// that is not a JSON pointer or points at nothing or at no object; a chain
// of $refs that comes back to itself or is longer than 32.
std::optional<std::string> schema_ref_problem(const rapidjson::Value &schema);

}  // namespace credplug::host
