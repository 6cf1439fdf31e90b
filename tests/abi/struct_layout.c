/* Sizes and field offsets of the ABI's structs as the header this is compiled
** against lays them out. Built once per frozen header (tests/CMakeLists.txt): against
** the frozen minor-0 ... minor-4 headers and the current one, LAYOUT naming
** the arrays, so that abi_test.cpp checks each minor only appended. */
#include <credplug/plugin.h>

#include <stddef.h>

#define OFF(type, field) offsetof(type, field)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

const size_t CAT(LAYOUT, _plugin)[] = {sizeof(credplug_plugin),
                                       OFF(credplug_plugin, abi_major),
                                       OFF(credplug_plugin, abi_minor),
                                       OFF(credplug_plugin, id),
                                       OFF(credplug_plugin, display_name),
                                       OFF(credplug_plugin, version),
                                       OFF(credplug_plugin, credential_schema),
                                       OFF(credplug_plugin, capabilities),
                                       OFF(credplug_plugin, init),
                                       OFF(credplug_plugin, shutdown),
                                       OFF(credplug_plugin, create),
                                       OFF(credplug_plugin, authenticate),
                                       OFF(credplug_plugin, test),
                                       OFF(credplug_plugin, destroy)
#if CREDPLUG_ABI_MINOR >= 1
                                           ,
                                       OFF(credplug_plugin, refresh),
                                       OFF(credplug_plugin, default_token_lifetime_s)
#endif
#if CREDPLUG_ABI_MINOR >= 3
                                           ,
                                       OFF(credplug_plugin, sign)
#endif
#if CREDPLUG_ABI_MINOR >= 4
                                           ,
                                       OFF(credplug_plugin, authorize)
#endif
#if CREDPLUG_ABI_MINOR >= 5
                                           ,
                                       OFF(credplug_plugin, revoke)
#endif
};
const size_t CAT(LAYOUT, _plugin_count) = sizeof CAT(LAYOUT, _plugin) / sizeof(size_t);

const size_t CAT(LAYOUT, _host_api)[] = {sizeof(credplug_host_api),
                                         OFF(credplug_host_api, log),
                                         OFF(credplug_host_api, now_ms),
                                         OFF(credplug_host_api, secure_zero),
                                         OFF(credplug_host_api, add_secret),
                                         OFF(credplug_host_api, out_header),
                                         OFF(credplug_host_api, out_expires_at),
                                         OFF(credplug_host_api, out_info),
                                         OFF(credplug_host_api, set_error),
                                         OFF(credplug_host_api, http_send),
                                         OFF(credplug_host_api, http_status),
                                         OFF(credplug_host_api, http_body),
                                         OFF(credplug_host_api, http_header),
                                         OFF(credplug_host_api, http_error),
                                         OFF(credplug_host_api, http_release)
#if CREDPLUG_ABI_MINOR >= 2
                                             ,
                                         OFF(credplug_host_api, json_string),
                                         OFF(credplug_host_api, json_number),
                                         OFF(credplug_host_api, json_bool),
                                         OFF(credplug_host_api, base64_encode),
                                         OFF(credplug_host_api, url_encode),
                                         OFF(credplug_host_api, form_encode),
                                         OFF(credplug_host_api, oauth2_token)
#endif
#if CREDPLUG_ABI_MINOR >= 3
                                             ,
                                         OFF(credplug_host_api, out_query),
                                         OFF(credplug_host_api, sha256),
                                         OFF(credplug_host_api, hmac_sha256),
                                         OFF(credplug_host_api, random_bytes),
                                         OFF(credplug_host_api, hex_encode),
                                         OFF(credplug_host_api, key_load),
                                         OFF(credplug_host_api, key_free),
                                         OFF(credplug_host_api, jwt_sign)
#endif
#if CREDPLUG_ABI_MINOR >= 4
                                             ,
                                         OFF(credplug_host_api, state),
                                         OFF(credplug_host_api, out_state),
                                         OFF(credplug_host_api, out_url)
#endif
};
const size_t CAT(LAYOUT, _host_api_count) = sizeof CAT(LAYOUT, _host_api) / sizeof(size_t);

const size_t CAT(LAYOUT, _other)[] = {sizeof(credplug_http_request), OFF(credplug_http_request, flags),
                                      sizeof(credplug_interface_answer), OFF(credplug_interface_answer, iface)};
const size_t CAT(LAYOUT, _other_count) = 4;
