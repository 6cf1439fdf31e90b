// The one place RapidJSON's schema validator is included, so every user
// gets its internal regex engine. libstdc++'s std::regex recurses per
// character: a long field value checked against a `pattern` overflows the
// stack. RapidJSON 1.1.0 (Debian 12) picks the internal engine only when
// RAPIDJSON_SCHEMA_USE_INTERNALREGEX is *undefined*: its schema.h turns any
// defined value, even 1, into 0 and falls back to std::regex (fixed upstream
// later). So: undefine it, include, and check the outcome at compile time.
#pragma once

#undef RAPIDJSON_SCHEMA_USE_INTERNALREGEX
#undef RAPIDJSON_SCHEMA_USE_STDREGEX
#include <rapidjson/schema.h>

static_assert(RAPIDJSON_SCHEMA_USE_INTERNALREGEX == 1 && RAPIDJSON_SCHEMA_USE_STDREGEX == 0,
              "RapidJSON must validate `pattern` with its internal regex engine, not std::regex");

namespace credplug::host {

// Compiled schemas allocate from a pool freed with the document: RapidJSON
// 1.1.0's Schema copies property names with the CRT allocator and never
// frees some of them (LeakSanitizer: Schema::AddUniqueElement), which leaked
// with every schema compiled.
using SchemaDocument = rapidjson::GenericSchemaDocument<rapidjson::Value, rapidjson::MemoryPoolAllocator<>>;
using SchemaValidator = rapidjson::GenericSchemaValidator<SchemaDocument>;
using SchemaPointer = SchemaValidator::PointerType;

}  // namespace credplug::host
