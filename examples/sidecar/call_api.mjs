// Calls an API with a credential that `credplug serve` holds: no credplug
// code here, only HTTP to its Unix socket. On a 401 it tells the sidecar
// which token was refused (its generation) and tries once more.
//
//   node call_api.mjs SOCKET NAME METHOD URL [BODY]
// (NODE_EXTRA_CA_CERTS=ca.pem trusts a test CA, as the emulator needs.)
import http from "node:http";

const [socketPath, name, method, url, body] = process.argv.slice(2);

function sidecar(verb, path, payload) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: verb, headers: { "Content-Type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => {
        const answer = JSON.parse(text);
        if (res.statusCode >= 400) reject(new Error(`sidecar ${res.statusCode}: ${answer.error.kind}: ${answer.error.message}`));
        else resolve(answer);
      });
    });
    req.on("error", reject);
    req.end(payload === undefined ? undefined : JSON.stringify(payload));
  });
}

async function call() {
  const { headers, generation } = await sidecar("GET", `/v1/credentials/${name}/headers`);
  const res = await fetch(url, { method, headers: { ...headers, "Content-Type": "application/json" }, body });
  return { res, generation };
}

let { res, generation } = await call();
if (res.status === 401) {
  await sidecar("POST", `/v1/credentials/${name}/invalidate`, { generation });
  ({ res } = await call());
}
console.log(res.status, await res.text());
