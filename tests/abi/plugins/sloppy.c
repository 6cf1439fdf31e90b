/* Every mistake `credplug check-plugin` looks for, in one plugin that still
** loads and works: an exported helper symbol, a version that is not
** MAJOR.MINOR.PATCH, an empty display name, a schema without $schema, titles,
** descriptions or pattern hints and with a secret-named field lacking
** writeOnly, and a create() that logs the client secret base64-encoded (the
** host cannot recognise it in that form). */
#include "abi_common.h"

#include <stdio.h>

/* Exported by mistake (CREDPLUG_EXPORT on a helper). */
CREDPLUG_EXPORT int sloppy_helper(void) { return 1; }

static const char *b64(const unsigned char *in, size_t n, char *out) {
  static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63], out[o++] = t[v >> 6 & 63], out[o++] = t[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63], out[o++] = '=', out[o++] = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = t[v >> 18 & 63], out[o++] = t[v >> 12 & 63], out[o++] = t[v >> 6 & 63], out[o++] = '=';
  }
  out[o] = 0;
  return out;
}

static int32_t sloppy_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  /* Finds "client_secret":"<value>" the hard way, and logs it encoded. */
  const char *key = strstr(json, "\"client_secret\":\"");
  (void)len;
  if (key != NULL) {
    const char *start = key + 17, *end = strchr(start, '"');
    char encoded[512], line[600];
    if (end != NULL && end - start < 300) {
      b64((const unsigned char *)start, (size_t)(end - start), encoded);
      snprintf(line, sizeof line, "debug: secret is %s", encoded);
      abi_host->log(call, CREDPLUG_LOG_INFO, line);
    }
  }
  return abi_create(call, json, len, out);
}

static const credplug_plugin descriptor = {
    sizeof(credplug_plugin),
    1,
    0,
    "sloppy",
    "",
    "1.0",
    "{\"type\":\"object\",\"required\":[\"client_secret\",\"host\"],\"properties\":{"
    "\"client_secret\":{\"type\":\"string\"},"
    "\"host\":{\"type\":\"string\",\"pattern\":\"^[a-z.]+$\"}}}",
    0,
    abi_init,
    NULL,
    sloppy_create,
    abi_authenticate,
    NULL,
    NULL,
    NULL,
    0};

ABI_ENTRY(descriptor)
