// Parsing untrusted JSON into a RapidJSON document within limits. Every JSON
// text credplug reads comes from someone it should not trust: credential
// files, plugin schemas, token endpoints, JWT headers and claims. RapidJSON's
// default parser recurses once per nesting level (50,000 nested arrays
// overflow the stack), accepts invalid UTF-8, keeps "\u0000" inside
// strings that C callers then silently truncate, and turns "\uDC00" into
// invalid UTF-8. This parser is iterative,
// stops at a nesting depth, validates UTF-8 and refuses NUL in strings and
// keys, and says which limit was hit and where.
//
// Internal to the SDK kit and the host (both build it; it is not installed:
// the kit does not expose RapidJSON to plugins).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cstring>
#include <string>
#include <string_view>

namespace credplug::bounded_json {

// Deep enough for any credential, schema or token response seen in practice
// (the shipped schemas nest 9 levels), shallow enough for any thread's stack
// in every recursive walk that follows (validation, wiping, copying).
constexpr unsigned kMaxDepth = 64;

struct Outcome {
  bool ok = true;
  size_t offset = 0;    // byte offset of the problem
  std::string problem;  // "nested deeper than 64 levels", "Invalid encoding in string.", ...
  // "<problem> (line L, byte offset N)": the position only, never the text
  // around it (which may be a secret).
  std::string where(std::string_view text) const {
    size_t line = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
    return problem + " (line " + std::to_string(line) + ", byte offset " + std::to_string(offset) + ")";
  }
};

namespace detail {

// Forwards the reader's events to `out`, refusing what the limits forbid.
template <class Handler>
class Guard {
 public:
  Guard(Handler &out, unsigned max_depth) : out_(out), max_depth_(max_depth) {}
  bool Null() { return out_.Null(); }
  bool Bool(bool b) { return out_.Bool(b); }
  bool Int(int i) { return out_.Int(i); }
  bool Uint(unsigned u) { return out_.Uint(u); }
  bool Int64(int64_t i) { return out_.Int64(i); }
  bool Uint64(uint64_t u) { return out_.Uint64(u); }
  bool Double(double d) { return out_.Double(d); }
  bool RawNumber(const char *s, rapidjson::SizeType n, bool copy) { return out_.RawNumber(s, n, copy); }
  bool String(const char *s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && out_.String(s, n, copy); }
  bool Key(const char *s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && out_.Key(s, n, copy); }
  bool StartObject() { return enter() && out_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return out_.EndObject(n);
  }
  bool StartArray() { return enter() && out_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return out_.EndArray(n);
  }

  const char *refusal() const { return refusal_; }

 private:
  bool enter() {
    if (++depth_ <= max_depth_) return true;
    refusal_ = "too deep";
    return false;
  }
  // What escapes can decode to past kParseValidateEncodingFlag, which checks
  // the raw bytes only: NUL (\u0000), and RapidJSON 1.1.0 encodes an
  // unpaired low surrogate (\uDC00-\uDFFF) as the invalid UTF-8 bytes
  // ED B0..BF xx (an unpaired high one is a parse error already). Any
  // ED A0..BF (a surrogate code point) is refused.
  bool text_ok(const char *s, rapidjson::SizeType n) {
    if (std::memchr(s, 0, n) != nullptr) {
      refusal_ = "nul";
      return false;
    }
    for (const char *p = s; (p = static_cast<const char *>(std::memchr(p, '\xED', size_t(s + n - p)))) != nullptr; ++p)
      if (p + 1 < s + n && (static_cast<unsigned char>(p[1]) & 0xE0) == 0xA0) {
        refusal_ = "surrogate";
        return false;
      }
    return true;
  }
  Handler &out_;
  unsigned max_depth_;
  unsigned depth_ = 0;
  const char *refusal_ = nullptr;
};

}  // namespace detail

// Parses `text` into `doc`. On failure `doc` is left null and the outcome
// names the limit or syntax error and its position.
template <class Document>
Outcome parse(Document &doc, std::string_view text, unsigned max_depth = kMaxDepth) {
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  rapidjson::MemoryStream stream(text.data(), text.size());
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>> reader;
  detail::Guard<Document> guard(doc, max_depth);
  auto generate = [&](Document &) { return !reader.template Parse<kFlags>(stream, guard).IsError(); };
  doc.SetNull();
  doc.Populate(generate);
  Outcome out;
  if (!reader.HasParseError()) return out;
  out.ok = false;
  out.offset = reader.GetErrorOffset();
  const char *refusal = guard.refusal();
  if (refusal && std::strcmp(refusal, "too deep") == 0)
    out.problem = "nested deeper than " + std::to_string(max_depth) + " levels";
  else if (refusal && std::strcmp(refusal, "nul") == 0)
    out.problem = "a string contains the NUL character (\\u0000)";
  else if (refusal)
    out.problem = "a string contains an unpaired UTF-16 surrogate (\\uD800-\\uDFFF), which is not valid UTF-8";
  else
    out.problem = rapidjson::GetParseError_En(reader.GetParseErrorCode());
  doc.SetNull();
  return out;
}

}  // namespace credplug::bounded_json
