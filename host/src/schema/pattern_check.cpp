#include "schema/pattern_check.hpp"

#include "schema/json_pointer_token.hpp"
#include "schema/rapidjson_schema.hpp"  // RapidJSON's internal regex engine, as the validator uses it
#include "secrets/output_rules.hpp"

#include <string>

namespace credplug::host {
namespace {

constexpr size_t kMaxPatternBytes = 4096;
constexpr int kMaxGroupDepth = 64;
// RapidJSON's engine copies what a {n,m} repeats m times, so nested counts
// multiply: ((((a{100}){100}){100}){100}) is 10^8 states, 1.5 GB and
// seconds of the host's time to compile. Counted before it compiles.
constexpr long kMaxStates = 10000;

// What RapidJSON 1.1.0's CharacterEscape knows: the metacharacters and
// \f \n \r \t \v (not '/', '-', \s, \d, \w, \uXXXX).
bool escapable(char c) { return std::string_view("^$|()?*+.[]{}\\fnrtv").find(c) != std::string_view::npos; }

// A recursive-descent reader of the accepted syntax; `at` is the next byte.
class Reader {
 public:
  explicit Reader(std::string_view p) : p_(p) {}

  std::optional<std::string> read() {
    size_t end = p_.size();
    if (!p_.empty() && p_[0] == '^') at_ = 1;
    if (end > at_ && p_[end - 1] == '$' && !escaped_at(end - 1)) --end;
    end_ = end;
    (void)alternation(0);
    if (!problem_ && at_ != end_) fail(p_[at_] == ')' ? "a ')' closes no group" : "unexpected character");
    return problem_;
  }

 private:
  bool escaped_at(size_t i) const {  // preceded by an odd number of backslashes
    size_t n = 0;
    while (i > n && p_[i - n - 1] == '\\') ++n;
    return n % 2 == 1;
  }
  // Records the first problem; 0 states, for the readers' returns.
  long fail(const std::string &why) {
    if (!problem_) problem_ = why + " at character " + std::to_string(at_ + 1);
    return 0;
  }
  bool more() const { return !problem_ && at_ < end_; }

  // Each reader returns how many states RapidJSON's engine makes of what it
  // read (an estimate from above), never more than kMaxStates + 1.
  long bounded(long states) {
    if (states > kMaxStates) {
      (void)fail(
          "a pattern that expands to more than 10000 states in RapidJSON's engine (it copies what {n,m} "
          "repeats m times; nested counts multiply)");
      return kMaxStates + 1;
    }
    return states;
  }

  long alternation(int depth) {
    long states = sequence(depth);
    while (more() && p_[at_] == '|') {
      ++at_;
      states = bounded(states + 1 + sequence(depth));
    }
    return states;
  }

  long sequence(int depth) {
    bool any = false;
    long states = 0;
    while (more() && p_[at_] != '|' && p_[at_] != ')') {
      const long one = atom(depth);
      states = bounded(states + quantifier(one));
      any = true;
    }
    if (!any) fail("an empty alternative or group");
    return states;
  }

  long atom(int depth) {
    const char c = p_[at_];
    switch (c) {
      case '(': {
        if (depth + 1 > kMaxGroupDepth) return fail("groups nested deeper than 64");
        ++at_;
        const long states = alternation(depth + 1);
        if (problem_) return 0;
        if (at_ >= end_ || p_[at_] != ')') return fail("a group that is not closed");
        ++at_;
        return states;
      }
      case '[':
        return char_class();
      case '\\':
        if (at_ + 1 >= end_ || !escapable(p_[at_ + 1]))
          return fail(
              "an escape RapidJSON's engine does not know (it knows \\f \\n \\r \\t \\v and escaped "
              "metacharacters; write a class such as [0-9] for \\d)");
        at_ += 2;
        return 1;
      case '^':
      case '$':
        return fail(std::string("'") + c + "' (an anchor only at the pattern's start or end)");
      case '?':
      case '*':
      case '+':
      case '{':
        return fail(std::string("a quantifier '") + c + "' after nothing");
      case ']':
      case '}':
        return fail(std::string("an unescaped '") + c + "'");
      default:
        ++at_;
        return 1;
    }
  }

  long char_class() {
    ++at_;  // '['
    if (at_ < end_ && p_[at_] == '^') ++at_;
    bool any = false;
    while (at_ < end_ && p_[at_] != ']') {
      if (p_[at_] == '\\') {
        if (at_ + 1 >= end_ || !escapable(p_[at_ + 1]))
          return fail(
              "an escape RapidJSON's engine does not know inside [...] (\\s, \\d and \\w are not; list "
              "the characters)");
        ++at_;
      }
      ++at_;
      any = true;
    }
    if (at_ >= end_) return fail("a '[' that is not closed");
    if (!any) return fail("an empty class []");
    ++at_;  // ']'
    return 1;
  }

  // The states of `states` as the quantifier that follows (if any) repeats them.
  long quantifier(long states) {
    if (!more()) return states;
    const char c = p_[at_];
    long repeated = states + 1;
    if (c == '?' || c == '*' || c == '+') {
      ++at_;
    } else if (c == '{') {
      ++at_;
      const long n = number();
      long m = n;
      if (more() && p_[at_] == ',') {
        ++at_;
        m = more() && p_[at_] == '}' ? -1 : number();
      }
      if (problem_) return 0;
      if (at_ >= end_ || p_[at_] != '}') return fail("a '{' quantifier that is not {n}, {n,} or {n,m}");
      if (m == 0 || (m >= 0 && m < n)) return fail("a quantifier {n,m} with m 0 or below n");
      ++at_;
      const long copies = m < 0 ? n + 1 : m;  // {n,}: n copies and a star
      repeated = copies > kMaxStates ? kMaxStates + 1 : states * copies;
    } else {
      return states;
    }
    // RapidJSON reads "a+?" as (a+)?, ECMA as a lazy a+: refuse what they read differently.
    if (more() && std::string_view("?*+{").find(p_[at_]) != std::string_view::npos)
      fail("a quantifier after a quantifier");
    return bounded(repeated);
  }

  long number() {
    const size_t start = at_;
    long n = 0;
    while (at_ < end_ && p_[at_] >= '0' && p_[at_] <= '9' && at_ - start < 6) n = n * 10 + (p_[at_++] - '0');
    if (at_ == start || (at_ < end_ && p_[at_] >= '0' && p_[at_] <= '9'))
      fail("a '{' quantifier without a count below 1000000");
    return n;
  }

  std::string_view p_;
  size_t at_ = 0, end_ = 0;
  std::optional<std::string> problem_;
};

void check(std::string_view pattern, const std::string &pointer, std::optional<std::string> &found) {
  if (auto why = pattern_problem(pattern))
    found =
        "the schema's pattern '" + displayable(pattern, 80) + "' at " + (pointer.empty() ? "/" : pointer) + ": " + *why;
}

// Every object of the document, as RapidJSON 1.1.0 compiles them: its
// CreateSchemaRecursive makes a schema of every object anywhere (so that
// any JSON pointer may be a $ref), an enum's data or an unknown keyword's
// value included.
void walk(const rapidjson::Value &v, const std::string &pointer, std::optional<std::string> &found, int depth) {
  if (found || depth > 128) return;  // a parsed schema nests at most 64 deep anyway
  if (v.IsArray())
    for (rapidjson::SizeType i = 0; i < v.Size() && !found; ++i)
      walk(v[i], pointer + "/" + std::to_string(i), found, depth + 1);
  if (!v.IsObject()) return;
  if (auto p = v.FindMember("pattern"); p != v.MemberEnd() && p->value.IsString())
    check(std::string_view(p->value.GetString(), p->value.GetStringLength()), pointer + "/pattern", found);
  if (auto p = v.FindMember("patternProperties"); p != v.MemberEnd() && p->value.IsObject())
    for (const auto &m : p->value.GetObject())
      if (!found)
        check(std::string_view(m.name.GetString(), m.name.GetStringLength()),
              pointer + "/patternProperties/" + json_pointer_token(m.name), found);
  for (const auto &m : v.GetObject()) walk(m.value, pointer + "/" + json_pointer_token(m.name), found, depth + 1);
}

}  // namespace

std::optional<std::string> pattern_problem(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) return "longer than 4096 bytes";
  if (pattern.find('\0') != std::string_view::npos) return "a NUL character";
  if (auto why = Reader(pattern).read()) return why;
  // The syntax is safe to give RapidJSON; whether its engine takes it is its own say.
  const std::string text(pattern);
  rapidjson::internal::Regex regex(text.c_str());
  if (!regex.IsValid()) return "RapidJSON's regex engine cannot compile it (so it would check nothing)";
  return std::nullopt;
}

std::optional<std::string> schema_pattern_problem(const rapidjson::Value &schema) {
  std::optional<std::string> found;
  walk(schema, "", found, 0);
  return found;
}

}  // namespace credplug::host
