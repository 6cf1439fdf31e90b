// A plugin's credential schema (draft-04) as a form: {"schema": draft-07,
// "uiSchema": ...} for react-jsonschema-form and any form builder that reads
// JSON Schema draft-07 (docs/WRITING_PLUGINS.md, "The form").
#pragma once

#include <string>
#include <string_view>

namespace credplug::host {

// `schema_text` has passed the plugin's schema checks (it parses, draft-04).
// What it becomes:
// - "$schema" draft-07; "x-" keywords dropped from the schema (their
//   meaning moves to the uiSchema), so strict validators (AJV) compile it.
// - A top-level "oneOf" whose branches each fix one enum property (a mode:
//   Avni's token_flow) becomes "dependencies" on that property: each
//   branch carries its own fields (those it names in "properties" or
//   "required") and required list; the mode's enum is labelled with the
//   branches' titles. A form then shows one selector and that mode's
//   fields only.
// - "x-enum-titles" ({value: label}) labels an enum (oneOf of const/title).
// - uiSchema: "ui:order" (the schema's "x-order", else declaration order),
//   "ui:widget": "password" for writeOnly fields ("textarea" with
//   "x-multiline"), "ui:placeholder" from "examples" (else "default"),
//   "ui:help" from "x-pattern-hint" and "x-help-url".
std::string form_schema_json(std::string_view schema_text);

}  // namespace credplug::host
