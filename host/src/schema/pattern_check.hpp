// A schema's regular expressions ("pattern", "patternProperties" names) are
// checked before RapidJSON compiles them. A plugin writes its schema, so
// they are hostile input, and RapidJSON 1.1.0's regex compiler trusts them:
// a quantifier after nothing or an empty group ("a(^+)+", "()") makes it pop
// an operand it never pushed and read past its stack (fuzz_plugin_schema
// found it: a heap overflow in the host), and a pattern it cannot compile
// (an escape it lacks, such as \s or \d) is silently dropped, so the field
// is not checked at all. Only patterns that read the same in RapidJSON's
// engine and in ECMA 262 (what JSON Schema means) are accepted.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace credplug::host {

// Why `pattern` is refused, naming the character, or nullopt: '^' and '$'
// only at its ends; every quantifier (? * + {n,m}) after an atom, never
// another quantifier; no empty group, alternative or class; escapes only of
// metacharacters and \f \n \r \t \v; at most 4,096 bytes and 64 nested
// groups; and RapidJSON's engine must compile it.
std::optional<std::string> pattern_problem(std::string_view pattern);

// The first refused pattern anywhere in `schema` — in every object, as
// RapidJSON compiles every object — as "the schema's pattern '...' at
// /properties/x/pattern: why".
std::optional<std::string> schema_pattern_problem(const rapidjson::Value &schema);

}  // namespace credplug::host
