#include <credplug/kit/provider.hpp>

#include <algorithm>
#include <cstring>

namespace credplug::kit::detail {
namespace {
const credplug_host_api *g_host = nullptr;

// The services minor 0 of the kit calls; a host table must cover them.
bool covers_minor0(const credplug_host_api *h) {
  return CREDPLUG_HAS_FIELD(h, credplug_host_api, http_release) && h->log && h->now_ms && h->secure_zero &&
         h->add_secret && h->out_header && h->out_expires_at && h->out_info && h->set_error && h->http_send &&
         h->http_status && h->http_body && h->http_header && h->http_error && h->http_release;
}
}  // namespace

const credplug_host_api *host_api() noexcept { return g_host; }

int32_t init(const credplug_host_api *host) noexcept {
  if (!covers_minor0(host)) return CREDPLUG_ERR_INCOMPATIBLE;
  g_host = host;
  return CREDPLUG_OK;
}

void shutdown() noexcept { g_host = nullptr; }

int32_t report_failure(credplug_call *call, int32_t code, const char *message) noexcept {
  if (g_host != nullptr) g_host->set_error(call, code, message);
  return code;
}

int32_t answer_interface(const credplug_plugin *descriptor, uint32_t required_minor, const char *name, uint32_t major,
                         uint32_t host_minor_max, credplug_interface_answer *answer) noexcept {
  if (answer == nullptr || name == nullptr) return CREDPLUG_ERR_INCOMPATIBLE;
  bool can_write_version = CREDPLUG_HAS_FIELD(answer, credplug_interface_answer, minor);
  if (can_write_version) {
    answer->major = CREDPLUG_ABI_MAJOR;
    answer->minor = required_minor;
  }
  if (std::strcmp(name, CREDPLUG_INTERFACE_CREDENTIAL) != 0 || major != CREDPLUG_ABI_MAJOR ||
      host_minor_max < required_minor || !CREDPLUG_HAS_FIELD(answer, credplug_interface_answer, iface))
    return CREDPLUG_ERR_INCOMPATIBLE;
  answer->minor = std::min<uint32_t>(host_minor_max, CREDPLUG_ABI_MINOR);
  answer->iface = descriptor;
  return CREDPLUG_OK;
}

}  // namespace credplug::kit::detail
