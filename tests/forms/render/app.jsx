// One credplug form rendered by react-jsonschema-form: ?plugin=ID[&mode=VALUE]
// (forms.json, written by render_forms.mjs, holds every plugin's export).
import React from "react";
import { createRoot } from "react-dom/client";
import Form from "@rjsf/core";
import validator from "@rjsf/validator-ajv8";
import forms from "./forms.json";

const params = new URLSearchParams(location.search);
const { schema, uiSchema, mode } = forms[params.get("plugin")];
const formData = mode && params.get("mode") ? { [mode]: params.get("mode") } : {};
createRoot(document.getElementById("root")).render(
  <Form schema={schema} uiSchema={uiSchema} validator={validator} formData={formData} />);
