/* A descriptor whose credential schema the host must refuse, in three
** builds: BAD_SCHEMA=0 is not JSON; 1 has a $ref cycle (it overflowed the
** host's stack in RapidJSON's HandleRefSchema); 2 has a pattern that
** expands to 10^8 states (1.5 GB and seconds of the host's time to
** compile). Each must be one skipped row, quickly. */
#include "abi_common.h"

#ifndef BAD_SCHEMA
#define BAD_SCHEMA 0
#endif
#if BAD_SCHEMA == 1
#define BAD_ID "ref-cycle"
#define BAD_TEXT "{\"type\":\"object\",\"properties\":{\"x\":{\"$ref\":\"#/properties/x\"}}}"
#elif BAD_SCHEMA == 2
#define BAD_ID "regex-bomb"
#define BAD_TEXT \
  "{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\",\"pattern\":\"((((a{100}){100}){100}){100})\"}}}"
#else
#define BAD_ID "bad-schema"
#define BAD_TEXT "{not json"
#endif

static const credplug_plugin descriptor = {sizeof(credplug_plugin),
                                           1,
                                           0,
                                           BAD_ID,
                                           "Bad schema",
                                           "1.0.0",
                                           BAD_TEXT,
                                           0,
                                           abi_init,
                                           NULL,
                                           abi_create,
                                           abi_authenticate,
                                           NULL,
                                           NULL,
                                           NULL,
                                           0,
                                           NULL,
                                           NULL,
                                           NULL};

ABI_ENTRY(descriptor)
