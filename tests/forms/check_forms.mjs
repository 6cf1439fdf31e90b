// Checks `credplug schema ID --form` for every plugin with AJV 8 (strict
// mode, draft-07): the schema compiles; it judges the credentials in
// credentials.json as the plugin's own schema does (`credplug --json
// validate`); and the uiSchema does what a form needs (a password widget
// for each secret, every field ordered, no field twice, titles and
// descriptions everywhere).
//   node check_forms.mjs CREDPLUG PLUGIN_DIR WORK_DIR
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const [credplug, pluginDir, work] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(new URL("./credentials.json", import.meta.url)));
const run = (...args) => execFileSync(credplug, ["--plugin-dir", pluginDir, ...args], { encoding: "utf8" });
let failures = 0;
const fail = (id, what) => { console.error(`forms: ${id}: ${what}`); failures++; };

for (const id of Object.keys(cases).filter((k) => !k.startsWith("_"))) {
  const form = JSON.parse(run("schema", id, "--form"));
  const { schema, uiSchema } = form;
  if (schema.$schema !== "http://json-schema.org/draft-07/schema#") fail(id, `$schema is ${schema.$schema}`);
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (e) {
    fail(id, `AJV 8 refuses the schema: ${e.message}`);
    continue;
  }

  // Every field: where it is defined (common, or one mode's), once per place.
  const common = Object.keys(schema.properties);
  const modes = Object.entries(schema.dependencies || {}).flatMap(([mode, d]) =>
    d.oneOf.map((b) => Object.keys(b.properties).filter((f) => f !== mode)));
  for (const fields of modes)
    for (const f of fields) if (common.includes(f)) fail(id, `${f} is both common and a mode's field`);
  const all = [...new Set([...common, ...modes.flat()])];
  const definition = (f) => schema.properties[f] ||
    Object.values(schema.dependencies).flatMap((d) => d.oneOf).map((b) => b.properties[f]).find(Boolean);
  const order = uiSchema["ui:order"] || [];
  for (const f of all) {
    const d = definition(f);
    if (!d.title || !d.description) fail(id, `${f} has no title or description`);
    if (!order.includes(f)) fail(id, `${f} is not in ui:order`);
    if (d.writeOnly === true && !["password", "textarea"].includes(uiSchema[f]?.["ui:widget"]))
      fail(id, `secret ${f} has no password widget`);
    if (d.enum) fail(id, `${f}: an enum without labels (oneOf const/title expected)`); // labelled, or not an enum
  }
  const secrets = all.filter((f) => definition(f).writeOnly === true);
  if (secrets.length === 0) fail(id, "no secret field");

  // The same verdicts as the plugin's own (draft-04) schema.
  for (const [expected, list] of [[true, cases[id].valid], [false, cases[id].invalid]]) {
    for (const credential of list) {
      const formVerdict = validate(credential);
      const file = `${work}/${id}.json`;
      writeFileSync(file, JSON.stringify(credential));
      // Exit 0 valid, 3 invalid; the document says which either way.
      const checked = spawnSync(credplug, ["--plugin-dir", pluginDir, "--json", "validate", id, file], { encoding: "utf8" });
      const hostVerdict = JSON.parse(checked.stdout).valid;
      if (formVerdict !== expected || hostVerdict !== expected)
        fail(id, `${JSON.stringify(credential)}: form says ${formVerdict}, plugin says ${hostVerdict}, expected ${expected}` +
          (validate.errors ? ` (${ajv.errorsText(validate.errors)})` : ""));
    }
  }
  console.log(`forms: ${id}: AJV 8 compiles it; ${all.length} fields (${secrets.length} secret, password widgets), ` +
    `${modes.length ? modes.length + " modes, " : ""}${cases[id].valid.length + cases[id].invalid.length} credentials judged alike`);
}
process.exit(failures ? 1 : 0);
