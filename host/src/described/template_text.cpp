#include "described/template_text.hpp"

#include <credplug/kit/failure.hpp>

#include <algorithm>
#include <stdexcept>

namespace credplug::host {
namespace {

bool field_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

TemplateText TemplateText::parse(std::string_view text) {
  TemplateText t;
  t.given_ = true;
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      literal += c;
      ++i;
      continue;
    }
    if (c == '}')
      throw std::runtime_error("a '}' at byte " + std::to_string(i) + " closes no '{' (write '}}' for one)");
    if (c != '{') {
      literal += c;
      continue;
    }
    const size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos)
      throw std::runtime_error("an unclosed '{' at byte " + std::to_string(i) + " (write '{{' for one)");
    const std::string name(text.substr(i + 1, close - i - 1));
    if (name.empty() || !std::all_of(name.begin(), name.end(), field_char))
      throw std::runtime_error("'{" + name + "}' is not a field name (a-z, A-Z, 0-9, '_', '-')");
    if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
    literal.clear();
    t.pieces_.push_back({true, name});
    if (std::find(t.fields_.begin(), t.fields_.end(), name) == t.fields_.end()) t.fields_.push_back(name);
    i = close;
  }
  if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
  return t;
}

std::string TemplateText::literal_prefix() const {
  return !pieces_.empty() && !pieces_.front().hole ? pieces_.front().text : "";
}

std::optional<kit::SecretString> TemplateText::render(const kit::JsonDocument &credential, std::string *missing) const {
  kit::SecretString out;
  for (const auto &piece : pieces_) {
    if (!piece.hole) {
      out.append(piece.text);
      continue;
    }
    if (!credential.has(piece.text)) {
      if (missing != nullptr) *missing = piece.text;
      return std::nullopt;
    }
    if (auto s = credential.string(piece.text)) {
      out.append(*s);
      kit::wipe(*s);
    } else if (auto b = credential.boolean(piece.text)) {
      out.append(*b ? "true" : "false");
    } else if (auto n = credential.integer(piece.text)) {
      out.append(std::to_string(*n));
    } else {
      kit::fail(CREDPLUG_ERR_INVALID_CONFIG,
                "field '" + piece.text + "' must be a string, an integer or a boolean to fill a template");
    }
  }
  return out;
}

}  // namespace credplug::host
