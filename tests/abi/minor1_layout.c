/* Offsets and sizes of the minor-1 structs, compiled against the frozen
** minor-1 header: abi_test.cpp checks the current header keeps every one of
** them (fields only ever appended). */
#include <credplug/plugin.h>

#include <stddef.h>

#define OFF(type, field) offsetof(type, field)

const size_t credplug_minor1_plugin_layout[] = {
    sizeof(credplug_plugin),          OFF(credplug_plugin, abi_major),    OFF(credplug_plugin, abi_minor),
    OFF(credplug_plugin, id),         OFF(credplug_plugin, display_name), OFF(credplug_plugin, version),
    OFF(credplug_plugin, credential_schema), OFF(credplug_plugin, capabilities), OFF(credplug_plugin, init),
    OFF(credplug_plugin, shutdown),   OFF(credplug_plugin, create),       OFF(credplug_plugin, authenticate),
    OFF(credplug_plugin, test),       OFF(credplug_plugin, destroy),      OFF(credplug_plugin, refresh),
    OFF(credplug_plugin, default_token_lifetime_s)};

const size_t credplug_minor1_host_api_layout[] = {
    sizeof(credplug_host_api),          OFF(credplug_host_api, log),          OFF(credplug_host_api, now_ms),
    OFF(credplug_host_api, secure_zero), OFF(credplug_host_api, add_secret),  OFF(credplug_host_api, out_header),
    OFF(credplug_host_api, out_expires_at), OFF(credplug_host_api, out_info), OFF(credplug_host_api, set_error),
    OFF(credplug_host_api, http_send),  OFF(credplug_host_api, http_status),  OFF(credplug_host_api, http_body),
    OFF(credplug_host_api, http_header), OFF(credplug_host_api, http_error),  OFF(credplug_host_api, http_release)};

const size_t credplug_minor1_other_layout[] = {
    sizeof(credplug_http_request), OFF(credplug_http_request, flags),
    sizeof(credplug_interface_answer), OFF(credplug_interface_answer, iface)};
