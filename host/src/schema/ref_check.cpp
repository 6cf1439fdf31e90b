#include "schema/ref_check.hpp"

#include "schema/json_pointer_token.hpp"
#include "secrets/output_rules.hpp"

#include <rapidjson/pointer.h>

#include <set>
#include <string_view>

namespace credplug::host {
namespace {

constexpr int kMaxRefChain = 32;
constexpr int kMaxWalkDepth = 128;  // a parsed schema nests at most 64 deep anyway

using Pointer = rapidjson::GenericPointer<rapidjson::Value, rapidjson::CrtAllocator>;

std::string_view ref_of(const rapidjson::Value &object) {
  auto it = object.FindMember("$ref");
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// Why the $ref of the object at `at` is refused, following its chain.
std::optional<std::string> chain_problem(const rapidjson::Value &root, const rapidjson::Value &start) {
  std::set<const rapidjson::Value *> seen{&start};
  const rapidjson::Value *current = &start;
  for (int hops = 0;; ++hops) {
    const std::string_view ref = ref_of(*current);
    const std::string shown = "'" + displayable(ref, 80) + "'";
    if (ref.empty()) return "an empty $ref";
    if (ref[0] != '#')
      return "a reference to another document (" + shown +
             "); only references within the schema, '#/...', are resolved";
    Pointer pointer(ref.data(), ref.size());
    if (!pointer.IsValid()) return shown + " is not a JSON pointer";
    const rapidjson::Value *target = pointer.Get(root);
    if (target == nullptr) return shown + " points at nothing in the schema";
    if (!target->IsObject()) return shown + " points at something that is not a schema (an object)";
    if (ref_of(*target).empty()) return std::nullopt;  // a schema of its own: the chain ends
    if (!seen.insert(target).second) return shown + " leads back into its own chain of $refs (a cycle)";
    if (hops + 1 >= kMaxRefChain) return "a chain of more than 32 $refs starts here";
    current = target;
  }
}

void walk(const rapidjson::Value &root, const rapidjson::Value &v, const std::string &pointer,
          std::optional<std::string> &found, int depth) {
  if (found || depth > kMaxWalkDepth) return;
  if (v.IsArray())
    for (rapidjson::SizeType i = 0; i < v.Size() && !found; ++i)
      walk(root, v[i], pointer + "/" + std::to_string(i), found, depth + 1);
  if (!v.IsObject()) return;
  if (v.FindMember("$ref") != v.MemberEnd()) {
    if (!v["$ref"].IsString()) {
      found = "the schema's $ref at " + (pointer.empty() ? "/" : pointer) + " is not a string";
      return;
    }
    if (auto why = chain_problem(root, v)) {
      found = "the schema's $ref at " + (pointer.empty() ? "/" : pointer) + ": " + *why;
      return;
    }
  }
  for (const auto &m : v.GetObject()) walk(root, m.value, pointer + "/" + json_pointer_token(m.name), found, depth + 1);
}

}  // namespace

std::optional<std::string> schema_ref_problem(const rapidjson::Value &schema) {
  std::optional<std::string> found;
  walk(schema, schema, "", found, 0);
  return found;
}

}  // namespace credplug::host
