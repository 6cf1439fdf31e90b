/* OAuth 2.0 with a private key instead of a client secret, in C99 with the
** host's helpers alone (ABI minor 3): the client authenticates at the token
** endpoint with a signed JWT, private_key_jwt (RFC 7523 §2.2, OpenID
** Connect Core §9), or trades a signed JWT for a token, the JWT-bearer grant
** (RFC 7523 §2.1, service accounts). The key is parsed once, in create(),
** and never leaves the instance. Try: credplug test jwt-client-c FILE. */
#include <credplug/plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct credplug_instance {
  char *token_url, *test_url, *client_id, *subject, *key_id, *scope, *bearer;
  int jwt_bearer; /* the grant, instead of client_credentials with an assertion */
  credplug_key *key;
};

static const credplug_host_api *host;

static int32_t init(const credplug_host_api *h) { /* minor >= 3: credplug_get_interface() saw to it */
  host = h;
  return CREDPLUG_OK;
}

static char *copy(const char *s) { /* malloc'd copy, or NULL */
  char *c = s ? malloc(strlen(s) + 1) : NULL;
  return c ? strcpy(c, s) : NULL;
}

static void wipe_free(char *s) {
  if (s) host->secure_zero(s, strlen(s)), free(s);
}

static void destroy(credplug_instance *inst) {
  if (!inst) return;
  wipe_free(inst->token_url), wipe_free(inst->test_url), wipe_free(inst->client_id), wipe_free(inst->subject);
  wipe_free(inst->key_id), wipe_free(inst->scope), wipe_free(inst->bearer);
  host->key_free(inst->key);
  free(inst);
}

#define FIELD(name) copy(host->json_string(call, json, len, name))
static int32_t create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  credplug_instance *inst = calloc(1, sizeof *inst);
  const char *pem = host->json_string(call, json, len, "private_key"); /* a secret of the call already */
  const char *alg = host->json_string(call, json, len, "alg"), *grant = host->json_string(call, json, len, "grant");
  int32_t rc;
  if (!inst || !(inst->token_url = FIELD("token_url")) || !(inst->client_id = FIELD("client_id")) ||
      !(inst->test_url = FIELD("test_url")) || !pem)
    return destroy(inst), CREDPLUG_ERR_PLUGIN;
  inst->subject = FIELD("subject"), inst->key_id = FIELD("key_id"), inst->scope = FIELD("scope"); /* optional */
  inst->jwt_bearer = grant && strcmp(grant, "jwt_bearer") == 0;
  /* Parsed once; a key that cannot sign with the alg fails here, offline. */
  rc = host->key_load(call, alg ? alg : "RS256", pem, strlen(pem), NULL, &inst->key);
  if (rc != CREDPLUG_OK) return destroy(inst), rc;
  *out = inst;
  return CREDPLUG_OK;
}

static int32_t authenticate(credplug_instance *inst, credplug_call *call) {
  /* The assertion: issued by the client, about itself (or the subject a
  ** service account acts for), for this token endpoint, good for 2 minutes;
  ** the host adds iat, exp and a random jti. */
  credplug_jwt_claims claims = {.struct_size = sizeof claims,
                                .iss = inst->client_id,
                                .sub = inst->subject ? inst->subject : inst->client_id,
                                .aud = inst->token_url,
                                .lifetime_s = 120,
                                .kid = inst->key_id};
  const char *assertion = host->jwt_sign(call, inst->key, &claims);
  const char *assertion_form[] = {"grant_type",
                                  "client_credentials",
                                  "client_id",
                                  inst->client_id,
                                  "client_assertion_type",
                                  "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                                  "client_assertion",
                                  assertion,
                                  "scope",
                                  inst->scope,
                                  NULL,
                                  NULL};
  const char *grant_form[] = {
      "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion", assertion, "scope", inst->scope, NULL,
      NULL};
  const char *headers[] = {"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json", NULL};
  credplug_http_request req = {.struct_size = sizeof req,
                               .method = "POST",
                               .url = inst->token_url,
                               .headers = headers,
                               .flags = CREDPLUG_HTTP_SECRET_BODY};
  credplug_oauth2_token token = {.struct_size = sizeof token};
  credplug_http_response *resp = NULL;
  int32_t rc;
  if (!assertion)
    return host->set_error(call, CREDPLUG_ERR_PLUGIN, "signing the assertion failed"), CREDPLUG_ERR_PLUGIN;
  req.body = host->form_encode(call, inst->jwt_bearer ? grant_form : assertion_form, CREDPLUG_FLAG_SECRET);
  req.body_len = req.body ? strlen(req.body) : 0;
  host->http_send(call, &req, &resp); /* oauth2_token() reports a failed send too */
  rc = host->oauth2_token(call, resp, "token endpoint", &token);
  host->http_release(resp);
  if (rc != CREDPLUG_OK) return rc;
  wipe_free(inst->bearer); /* test() sends the newest; the host serialises calls on an instance */
  if (!(inst->bearer = malloc(strlen(token.access_token) + 8))) return CREDPLUG_ERR_PLUGIN;
  sprintf(inst->bearer, "Bearer %s", token.access_token);
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
                                       .id = "jwt-client-c",
                                       .display_name = "OAuth 2.0 client with a private key (C example)",
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
  answer->major = CREDPLUG_ABI_MAJOR, answer->minor = 3; /* key_load() and jwt_sign() are minor 3 */
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 3)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->iface = &plugin;
  return CREDPLUG_OK;
}
