/* Every mistake `credplug check-plugin` looks for, in one plugin that still
** loads and works: an exported helper symbol, a version that is not
** MAJOR.MINOR.PATCH, an empty display name, a schema without $schema, titles,
** descriptions or pattern hints and with a secret-named field lacking
** writeOnly, and a create() that logs the client secret hex-encoded (the
** host cannot recognise it in that form; base64 it now masks) and its last
** ten characters (a part: the host cannot know it is one). */
#include "abi_common.h"

#include <stdio.h>

/* Exported by mistake (CREDPLUG_EXPORT on a helper). */
CREDPLUG_EXPORT int sloppy_helper(void) { return 1; }

static const char *hex(const unsigned char *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; ++i) out[2 * i] = digits[in[i] >> 4], out[2 * i + 1] = digits[in[i] & 15];
  out[2 * n] = 0;
  return out;
}

static int32_t sloppy_create(credplug_call *call, const char *json, size_t len, credplug_instance **out) {
  /* Finds "client_secret":"<value>" the hard way, and logs it encoded. */
  const char *key = strstr(json, "\"client_secret\":\"");
  (void)len;
  if (key != NULL) {
    const char *start = key + 17, *end = strchr(start, '"');
    char encoded[620], line[700];
    if (end != NULL && end - start < 300) {
      hex((const unsigned char *)start, (size_t)(end - start), encoded);
      snprintf(line, sizeof line, "debug: secret is %s", encoded);
      abi_host->log(call, CREDPLUG_LOG_INFO, line);
      if (end - start > 10) {
        snprintf(line, sizeof line, "debug: using the key ending in %.10s", end - 10);
        abi_host->log(call, CREDPLUG_LOG_INFO, line);
      }
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
    0,
    NULL,
    NULL,
    NULL};

ABI_ENTRY(descriptor)
