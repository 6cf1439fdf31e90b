// react-jsonschema-form renders every plugin's form export in headless
// Chromium, each mode of a plugin with modes on its own: the fields shown
// are the common ones and that mode's, each once; every secret is an
// <input type="password"> (a text area where the schema says multiline).
// What a person filling the form in sees, checked in the browser's DOM.
//   node render_forms.mjs CREDPLUG PLUGIN_DIR WORK_DIR CHROMIUM
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const [credplug, pluginDir, work, chromium] = process.argv.slice(2);
const ids = JSON.parse(execFileSync(credplug, ["--plugin-dir", pluginDir, "--json", "plugins"], { encoding: "utf8" }))
  .plugins.map((p) => p.id);
const forms = {};
for (const id of ids) {
  const form = JSON.parse(execFileSync(credplug, ["--plugin-dir", pluginDir, "schema", id, "--form"], { encoding: "utf8" }));
  form.mode = Object.keys(form.schema.dependencies || {})[0];
  forms[id] = form;
}
writeFileSync(path.join(work, "forms.json"), JSON.stringify(forms));
copyFileSync(path.join(here, "app.jsx"), path.join(work, "app.jsx"));
await build({ entryPoints: [path.join(work, "app.jsx")], bundle: true, outfile: path.join(work, "app.js"),
  nodePaths: [path.join(here, "node_modules")], logLevel: "warning", define: { "process.env.NODE_ENV": '"production"' } });
const page = '<!doctype html><meta charset="utf-8"><div id="root"></div><script src="app.js"></script>';
const server = http.createServer((req, res) => {
  if (req.url.startsWith("/app.js")) res.end(readFileSync(path.join(work, "app.js")));
  else res.end(page);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

let failures = 0;
const fail = (what) => { console.error(`forms render: ${what}`); failures++; };
const same = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
// One page per plugin and mode, three browsers at a time.
const pages = [];
for (const [id, form] of Object.entries(forms)) {
  const modes = form.mode ? form.schema.properties[form.mode].oneOf.map((c) => c.const) : [undefined];
  for (const value of modes) pages.push({ id, form, value });
}
const check = async ({ id, form: { schema, uiSchema, mode }, value }) => {
  const branch = mode ? schema.dependencies[mode].oneOf.find((b) => b.properties[mode].enum[0] === value) : undefined;
  const shown = { ...schema.properties, ...(branch ? branch.properties : {}) };
  const expected = Object.keys(shown);
  const secrets = expected.filter((f) => shown[f].writeOnly === true);
  const url = `${origin}/?plugin=${id}${value ? `&mode=${value}` : ""}`;
  // Asynchronously: this process serves the page the browser asks for.
  const browser = await promisify(execFile)(chromium, ["--headless=new", "--no-sandbox", "--disable-gpu",
    "--virtual-time-budget=5000", "--dump-dom", url], { encoding: "utf8", timeout: 120000, maxBuffer: 1 << 24 })
    .catch((e) => ({ stdout: e.stdout || "" }));
  const dom = browser.stdout;
  const what = `${id}${value ? ` (${mode} ${value})` : ""}`;
  const rendered = [...dom.matchAll(/<(input|select|textarea|fieldset)[^>]*\sid="root_([A-Za-z0-9_]+)"/g)]
    .map((m) => m[2]).filter((f) => !f.includes("__"));
  const fields = [...new Set(rendered)];
  if (!same(fields, expected)) return fail(`${what}: shows ${fields.join(", ")}; expected ${expected.join(", ")}`);
  if (fields.length !== rendered.length) fail(`${what}: a field is shown twice`);
  const tag = (f) => (dom.match(new RegExp(`<(input|textarea)[^>]*\\sid="root_${f}"[^>]*>`)) || [""])[0];
  const passwords = secrets.filter((f) => /type="password"/.test(tag(f)));
  const areas = secrets.filter((f) => tag(f).startsWith("<textarea"));
  const plain = secrets.filter((f) => !passwords.includes(f) && !areas.includes(f));
  if (plain.length) fail(`${what}: secret ${plain.join(", ")} shown as plain text`);
  for (const f of areas) if (uiSchema[f]?.["ui:widget"] !== "textarea") fail(`${what}: ${f} is a text area unasked`);
  console.log(`forms render: ${what}: ${fields.length} fields, ${passwords.length} password input(s)` +
    (areas.length ? `, ${areas.length} text area(s)` : ""));
};
for (let i = 0; i < pages.length; i += 3) await Promise.all(pages.slice(i, i + 3).map(check));
server.close();
process.exit(failures ? 1 : 0);
