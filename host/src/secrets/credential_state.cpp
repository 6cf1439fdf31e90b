#include "secrets/credential_state.hpp"

#include "bounded_json.hpp"
#include "secrets/json_wipe.hpp"

#include <credplug/plugin.h>

namespace credplug::host {

std::optional<std::string> state_problem(std::string_view json) {
  if (json.size() > CREDPLUG_MAX_STATE_BYTES)
    return "it is " + std::to_string(json.size()) + " bytes, over the limit of " +
           std::to_string(CREDPLUG_MAX_STATE_BYTES);
  WipingDocument parsed;
  if (auto outcome = bounded_json::parse(parsed.doc, json, kMaxStateDepth); !outcome.ok)
    return "it is not valid JSON within the limits: " + outcome.where(json);
  if (!parsed.doc.IsObject()) return "it is not a JSON object";
  return std::nullopt;
}

std::vector<SecretString> state_secrets(std::string_view json) {
  std::vector<SecretString> out;
  WipingDocument parsed;
  if (!bounded_json::parse(parsed.doc, json, kMaxStateDepth).ok) return out;
  std::vector<const rapidjson::Value *> stack{&parsed.doc};
  while (!stack.empty()) {
    const rapidjson::Value *v = stack.back();
    stack.pop_back();
    if (v->IsString() && v->GetStringLength() > 0)
      out.emplace_back(v->GetString(), v->GetStringLength());
    else if (v->IsObject())
      for (const auto &m : v->GetObject()) stack.push_back(&m.value);
    else if (v->IsArray())
      for (const auto &e : v->GetArray()) stack.push_back(&e);
  }
  return out;
}

std::optional<std::string> accept_state(Redactor &redactor, std::string_view json, uint64_t epoch) {
  for (const auto &secret : state_secrets(json)) redactor.add(secret.view(), epoch);
  return state_problem(json);
}

}  // namespace credplug::host
