/* An OAuth 2.0 client-credentials provider (RFC 6749 §4.4) in C99, with the host's helpers (ABI minor 2)
** for JSON, encodings and token responses. Build: CMakeLists.txt; try: credplug test oauth2-client-c. */
#include <credplug/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct credplug_instance {
  char *token_url, *test_url, *client_id, *client_secret, *scope, *bearer;
  int basic; /* client_secret_basic (the default), else client_secret_post */
};

static const credplug_host_api *host;

static int32_t init(const credplug_host_api *h) { /* minor >= 2: credplug_get_interface() saw to it */
  host = h;
  return CREDPLUG_OK;
}

/* malloc'd "<a><sep><b>", or NULL (out of memory, or a helper returned NULL). */
static char *join(const char *a, const char *sep, const char *b) {
  size_t n = a && b ? strlen(a) + strlen(sep) + strlen(b) + 1 : 0;
  char *s = n ? malloc(n) : NULL;
  if (s) snprintf(s, n, "%s%s%s", a, sep, b);
  return s;
}

static void wipe_free(char *s) {
  if (s) host->secure_zero(s, strlen(s)), free(s);
}

static void destroy(credplug_instance *inst) {
  if (!inst) return;
  wipe_free(inst->token_url), wipe_free(inst->test_url), wipe_free(inst->client_id);
  wipe_free(inst->client_secret), wipe_free(inst->scope), wipe_free(inst->bearer);
  free(inst);
}

/* The schema has checked types and required fields: only memory can fail. */
#define FIELD(name) join(host->json_string(call, json, len, name), "", "")
static int32_t create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  credplug_instance *inst = calloc(1, sizeof *inst);
  const char *auth = host->json_string(call, json, len, "client_auth");
  if (!inst || !(inst->token_url = FIELD("token_url")) || !(inst->client_id = FIELD("client_id")) ||
      !(inst->client_secret = FIELD("client_secret")) || !(inst->test_url = FIELD("test_url")))
    return destroy(inst), CREDPLUG_ERR_PLUGIN;
  inst->scope = FIELD("scope"); /* optional */
  inst->basic = !auth || strcmp(auth, "post") != 0;
  *out = inst;
  return CREDPLUG_OK;
}

static int32_t authenticate(credplug_instance *inst, credplug_call *call) {
  const char *form[] = {"grant_type", "client_credentials", "scope", inst->scope, NULL, NULL, NULL, NULL, NULL};
  const char *headers[] = {"Content-Type", "application/x-www-form-urlencoded", NULL, NULL, NULL};
  credplug_http_request req = {.struct_size = sizeof req,
                               .method = "POST",
                               .url = inst->token_url,
                               .headers = headers,
                               .flags = CREDPLUG_HTTP_SECRET_BODY};
  credplug_oauth2_token token = {.struct_size = sizeof token};
  credplug_http_response *resp = NULL;
  char *pair = NULL, *basic = NULL;
  int32_t rc;
  if (inst->basic) { /* RFC 6749 §2.3.1: form-encode id and secret, then base64 */
    pair = join(host->url_encode(call, inst->client_id, 0), ":",
                host->url_encode(call, inst->client_secret, CREDPLUG_FLAG_SECRET));
    basic = join("Basic ", "", pair ? host->base64_encode(call, pair, strlen(pair), CREDPLUG_FLAG_SECRET) : NULL);
    if (!basic) return wipe_free(pair), CREDPLUG_ERR_PLUGIN;
    host->add_secret(call, basic, strlen(basic));
    headers[2] = "Authorization", headers[3] = basic;
  } else {
    form[4] = "client_id", form[5] = inst->client_id, form[6] = "client_secret", form[7] = inst->client_secret;
  }
  req.body = host->form_encode(call, form, CREDPLUG_FLAG_SECRET);
  req.body_len = req.body ? strlen(req.body) : 0;
  host->http_send(call, &req, &resp); /* oauth2_token() reports a failed send too */
  rc = host->oauth2_token(call, resp, "token endpoint", &token);
  host->http_release(resp), wipe_free(pair), wipe_free(basic);
  if (rc != CREDPLUG_OK) return rc;
  wipe_free(inst->bearer); /* test() sends the newest */
  if (!(inst->bearer = join("Bearer ", "", token.access_token))) return CREDPLUG_ERR_PLUGIN;
  host->out_header(call, "Authorization", inst->bearer, CREDPLUG_FLAG_SECRET);
  if (token.expires_in > 0) host->out_expires_at(call, host->now_ms() / 1000 + token.expires_in);
  return CREDPLUG_OK;
}

/* GET test_url with the token: 200 proves it; the answer's client_id is shown. */
static int32_t test(credplug_instance *inst, credplug_call *call) {
  const char *headers[] = {"Authorization", inst->bearer, NULL};
  credplug_http_request req = {.struct_size = sizeof req, .url = inst->test_url, .headers = headers};
  credplug_http_response *resp = NULL;
  int32_t rc = host->http_send(call, &req, &resp), status = host->http_status(resp);
  size_t len = 0;
  const char *body = host->http_body(resp, &len);
  char why[64];
  snprintf(why, sizeof why, "test_url answered HTTP %d", (int)status);
  if (rc == CREDPLUG_OK && status == 200)
    host->out_info(call, "client_id", host->json_string(call, body, len, "client_id"), 0);
  else if (rc == CREDPLUG_OK) /* as the kit's expect_success(): 404 is a wrong URL */
    host->set_error(call,
                    rc = status == 401 || status == 403 ? CREDPLUG_ERR_REJECTED
                         : status == 404                ? CREDPLUG_ERR_INVALID_CONFIG
                                                        : CREDPLUG_ERR_PROVIDER,
                    why);
  else
    host->set_error(call, rc, host->http_error(resp));
  host->http_release(resp);
  return rc;
}

static const credplug_plugin plugin = {.struct_size = sizeof(credplug_plugin),
                                       .abi_major = CREDPLUG_ABI_MAJOR,
                                       .abi_minor = CREDPLUG_ABI_MINOR,
                                       .id = "oauth2-client-c",
                                       .display_name = "OAuth 2.0 client (C example)",
                                       .version = "1.0.0",
                                       .credential_schema = credplug_credential_schema,
                                       .init = init,
                                       .create = create,
                                       .authenticate = authenticate,
                                       .test = test,
                                       .destroy = destroy,
                                       .default_token_lifetime_s = 3600};

int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                               credplug_interface_answer *answer) {
  answer->major = CREDPLUG_ABI_MAJOR, answer->minor = 2; /* the helpers need minor 2 */
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 2)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->iface = &plugin;
  return CREDPLUG_OK;
}
