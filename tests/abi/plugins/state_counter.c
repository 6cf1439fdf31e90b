/* The credential's state (minor 4) from C: each authenticate() reads
** {"n": N} from state() (none: 0), outputs {"n": N+1} with out_state(), and
** emits "X-State-N: N+1"; test() reports the state it sees. The credential's
** "misuse" makes it break a rule on purpose: "array" (state that is not an
** object), "huge" (over 64 KiB), "deep" (nested past the limit), "in_test"
** (out_state() in test()), "then_fail" (new state, then the call fails),
** "reauthorize" (CREDPLUG_ERR_REAUTHORIZE). revoke() (minor 5) wants a
** state to revoke; "revoke_fails" makes it fail, "in_revoke" outputs state
** there (refused). Built against the frozen minor-4 header too
** (FROZEN_MINOR4, id "minor4"): then it has no revoke(). */
#include <credplug/plugin.h>

#ifdef FROZEN_MINOR4
#if CREDPLUG_ABI_MINOR != 4
#error "FROZEN_MINOR4: build against the frozen minor-4 header"
#endif
#define PLUGIN_ID "minor4"
#else
#define PLUGIN_ID "state-counter"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const credplug_host_api *host;

typedef struct {
  char misuse[32];
} counter_instance;

static int32_t sc_init(const credplug_host_api *h) {
  if (!CREDPLUG_HAS_FIELD(h, credplug_host_api, out_state)) return CREDPLUG_ERR_INCOMPATIBLE;
  host = h;
  return CREDPLUG_OK;
}

static int32_t sc_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  const char *misuse = host->json_string(call, json, len, "misuse");
  counter_instance *c = calloc(1, sizeof *c);
  if (c == NULL) return CREDPLUG_ERR_PLUGIN;
  if (misuse != NULL) snprintf(c->misuse, sizeof c->misuse, "%s", misuse);
  if (host->state(call, NULL) != NULL) { /* never in create() */
    free(c);
    return CREDPLUG_ERR_PLUGIN;
  }
  *out = (credplug_instance *)(void *)c;
  return CREDPLUG_OK;
}

static void out_state_text(credplug_call *call, const char *text) { host->out_state(call, text, strlen(text)); }

static int32_t sc_authenticate(credplug_instance *inst, credplug_call *call) {
  const counter_instance *c = (const counter_instance *)(void *)inst;
  size_t len = 0;
  const char *state = host->state(call, &len);
  double n = state ? host->json_number(state, len, "n", -1) : 0;
  char next[64], header[32];
  if (n < 0) {
    host->set_error(call, CREDPLUG_ERR_PLUGIN, "the state has no counter");
    return CREDPLUG_ERR_PLUGIN;
  }
  snprintf(next, sizeof next, "{\"n\": %.0f, \"note\": \"state-secret-%.0f\"}", n + 1, n + 1);
  snprintf(header, sizeof header, "%.0f", n + 1);
  if (strcmp(c->misuse, "array") == 0) {
    out_state_text(call, "[1, 2]");
  } else if (strcmp(c->misuse, "huge") == 0) {
    size_t size = CREDPLUG_MAX_STATE_BYTES + 10, i;
    char *big = malloc(size + 1);
    if (big == NULL) return CREDPLUG_ERR_PLUGIN;
    strcpy(big, "{\"pad\": \""); /* 9 characters, then the padding over its NUL */
    for (i = 9; i < size - 2; ++i) big[i] = 'x';
    memcpy(big + size - 2, "\"}", 3);
    host->out_state(call, big, size);
    free(big);
  } else if (strcmp(c->misuse, "deep") == 0) {
    out_state_text(call,
                   "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
                   "{\"a\":{\"a\":{\"a\":1}}}}}}}}}}}}}}}}}");
  } else if (strcmp(c->misuse, "reauthorize") == 0) {
    host->set_error(call, CREDPLUG_ERR_REAUTHORIZE, "the grant is gone: connect the account again");
    return CREDPLUG_ERR_REAUTHORIZE;
  } else {
    out_state_text(call, next);
  }
  if (strcmp(c->misuse, "then_fail") == 0) {
    host->set_error(call, CREDPLUG_ERR_PROVIDER, "the provider's answer broke after the new state");
    return CREDPLUG_ERR_PROVIDER;
  }
  host->out_header(call, "X-State-N", header, CREDPLUG_FLAG_PUBLIC);
  return CREDPLUG_OK;
}

static int32_t sc_test(credplug_instance *inst, credplug_call *call) {
  const counter_instance *c = (const counter_instance *)(void *)inst;
  size_t len = 0;
  const char *state = host->state(call, &len);
  char seen[32];
  if (strcmp(c->misuse, "in_test") == 0) out_state_text(call, "{\"n\": 100}");
  snprintf(seen, sizeof seen, "%.0f", state ? host->json_number(state, len, "n", -1) : -1);
  host->out_info(call, "state_n", seen, 0);
  return CREDPLUG_OK;
}

#if CREDPLUG_ABI_MINOR >= 5
static int32_t sc_revoke(credplug_instance *inst, credplug_call *call) {
  const counter_instance *c = (const counter_instance *)(void *)inst;
  if (host->state(call, NULL) == NULL) {
    host->set_error(call, CREDPLUG_ERR_INVALID_CONFIG, "there is no state to revoke");
    return CREDPLUG_ERR_INVALID_CONFIG;
  }
  if (strcmp(c->misuse, "revoke_fails") == 0) {
    host->set_error(call, CREDPLUG_ERR_PROVIDER, "the revocation endpoint answered 503");
    return CREDPLUG_ERR_PROVIDER;
  }
  if (strcmp(c->misuse, "in_revoke") == 0) out_state_text(call, "{\"n\": 100}");
  return CREDPLUG_OK;
}
#endif

static void sc_destroy(credplug_instance *inst) { free(inst); }

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           CREDPLUG_ABI_MAJOR,
                                           CREDPLUG_ABI_MINOR,
                                           PLUGIN_ID,
                                           "Counts in its state",
                                           "1.0.0",
                                           "{\"type\":\"object\","
                                           "\"properties\":{\"misuse\":{\"type\":\"string\"}}}",
                                           0,
                                           sc_init,
                                           NULL,
                                           sc_create,
                                           sc_authenticate,
                                           sc_test,
                                           sc_destroy,
                                           NULL,
                                           3600,
                                           NULL,
                                           NULL
#if CREDPLUG_ABI_MINOR >= 5
                                           ,
                                           sc_revoke
#endif
};

CREDPLUG_EXPORT int32_t credplug_get_interface(const char *name, uint32_t major, uint32_t host_minor_max,
                                               credplug_interface_answer *answer) {
  answer->major = CREDPLUG_ABI_MAJOR;
  answer->minor = 4;
  if (strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR || host_minor_max < 4)
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->minor = CREDPLUG_ABI_MINOR;
  answer->iface = &descriptor;
  return CREDPLUG_OK;
}
