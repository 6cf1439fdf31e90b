/* An API that wants every request signed, in C99 with the host's helpers
** alone (ABI minor 3): X-Signature is the hex HMAC-SHA-256, under the
** shared secret, of "METHOD\nPATH?QUERY\nTIMESTAMP\nBODY-SHA256", sent with
** X-Key-Id and X-Timestamp (the scheme of the emulator's "hmac" provider,
** and, but for names, of many a webhook and partner API). There is no token:
** authenticate() says so, and sign() runs for each request. Try:
** credplug sign hmac-signer-c FILE --url URL. */
#include <credplug/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct credplug_instance {
  char *api_url, *key_id, *secret;
};

static const credplug_host_api *host;

static int32_t init(const credplug_host_api *h) {
  host = h;
  return CREDPLUG_OK;
}

static char *copy(const char *s) {
  char *c = s ? malloc(strlen(s) + 1) : NULL;
  return c ? strcpy(c, s) : NULL;
}

static void wipe_free(char *s) {
  if (s) host->secure_zero(s, strlen(s)), free(s);
}

static void destroy(credplug_instance *inst) {
  if (!inst) return;
  wipe_free(inst->api_url), wipe_free(inst->key_id), wipe_free(inst->secret);
  free(inst);
}

#define FIELD(name) copy(host->json_string(call, json, len, name))
static int32_t create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  credplug_instance *inst = calloc(1, sizeof *inst);
  if (!inst || !(inst->api_url = FIELD("api_url")) || !(inst->key_id = FIELD("key_id")) ||
      !(inst->secret = FIELD("secret")))
    return destroy(inst), CREDPLUG_ERR_PLUGIN;
  *out = inst;
  return CREDPLUG_OK;
}

/* No token: the empty set of headers never expires. */
static int32_t authenticate(credplug_instance *inst, credplug_call *call) {
  (void)inst;
  host->out_expires_at(call, CREDPLUG_EXPIRES_NEVER);
  return CREDPLUG_OK;
}

/* The hex HMAC of "METHOD\nPATH?QUERY\nTIMESTAMP\nBODY-SHA256", a secret
** of the call; NULL when out of memory. `url` is absolute: the path and
** query start at the first '/' after "https://". */
static const char *signature_of(credplug_instance *inst, credplug_call *call, const char *method, const char *url,
                                const char *timestamp, const char *body_sha256) {
  const char *path = strchr(url + strlen("https://"), '/');
  const char *hex;
  uint8_t mac[32];
  size_t n;
  char *text;
  if (!path) path = "/";
  n = strlen(method) + strlen(path) + strlen(timestamp) + strlen(body_sha256) + 4;
  if (!(text = malloc(n))) return NULL;
  snprintf(text, n, "%s\n%s\n%s\n%s", method, path, timestamp, body_sha256);
  host->hmac_sha256(inst->secret, strlen(inst->secret), text, strlen(text), mac);
  free(text);
  hex = host->hex_encode(call, mac, sizeof mac, CREDPLUG_FLAG_SECRET);
  host->secure_zero(mac, sizeof mac);
  return hex;
}

/* The three headers for the embedder's request (Credential::sign). */
static int32_t sign(credplug_instance *inst, credplug_call *call, const credplug_sign_request *req) {
  char timestamp[24];
  const char *signature;
  snprintf(timestamp, sizeof timestamp, "%lld", (long long)(req->time_ms / 1000));
  if (!(signature = signature_of(inst, call, req->method, req->url, timestamp, req->body_sha256)))
    return CREDPLUG_ERR_PLUGIN;
  host->out_header(call, "X-Key-Id", inst->key_id, CREDPLUG_FLAG_PUBLIC); /* names the key; no secret */
  host->out_header(call, "X-Timestamp", timestamp, 0);
  host->out_header(call, "X-Signature", signature, CREDPLUG_FLAG_SECRET);
  return CREDPLUG_OK;
}

/* GET {api_url}/me, signed the same way: 200 proves key id and secret. */
static int32_t test(credplug_instance *inst, credplug_call *call) {
  static const char empty_sha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  char url[2100], timestamp[24], why[64];
  const char *headers[] = {"X-Key-Id", inst->key_id, "X-Timestamp", timestamp, "X-Signature", NULL, NULL};
  credplug_http_request req = {.struct_size = sizeof req, .url = url, .headers = headers};
  credplug_http_response *resp = NULL;
  int32_t rc, status;
  snprintf(url, sizeof url, "%s/me", inst->api_url);
  snprintf(timestamp, sizeof timestamp, "%lld", (long long)(host->now_ms() / 1000));
  if (!(headers[5] = signature_of(inst, call, "GET", url, timestamp, empty_sha256))) return CREDPLUG_ERR_PLUGIN;
  rc = host->http_send(call, &req, &resp), status = host->http_status(resp);
  snprintf(why, sizeof why, "GET {api_url}/me answered HTTP %d", (int)status);
  if (rc == CREDPLUG_OK && status == 200)
    host->out_info(call, "key_id", inst->key_id, 0);
  else if (rc == CREDPLUG_OK)
    host->set_error(call, rc = status == 401 || status == 403 ? CREDPLUG_ERR_REJECTED : CREDPLUG_ERR_PROVIDER, why);
  else
    host->set_error(call, rc, host->http_error(resp));
  host->http_release(resp);
  return rc;
}

static const credplug_plugin plugin = {.struct_size = sizeof(credplug_plugin),
                                       .abi_major = CREDPLUG_ABI_MAJOR,
                                       .abi_minor = CREDPLUG_ABI_MINOR,
                                       .id = "hmac-signer-c",
                                       .display_name = "HMAC request signing (C example)",
                                       .version = "1.0.0",
                                       .credential_schema = credplug_credential_schema,
                                       .capabilities = CREDPLUG_CAP_CONCURRENT_INSTANCE, /* sign() keeps no state */
                                       .init = init,
                                       .create = create,
                                       .authenticate = authenticate,
                                       .test = test,
                                       .destroy = destroy,
                                       .sign = sign};

int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                               credplug_interface_answer *answer) {
  answer->major = CREDPLUG_ABI_MAJOR, answer->minor = 3; /* sign() and the crypto helpers */
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 3)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->iface = &plugin;
  return CREDPLUG_OK;
}
