// embed-example: call a provider's API with credentials managed by credplug.
//
//   embed-example PLUGIN_ID CREDENTIAL_FILE METHOD URL [BODY] [--times N]
//
// Opens the credential once, then makes the API request N times (default 3).
// Before each request it asks credplug for the headers to attach (cached,
// refreshed ahead of expiry); on HTTP 401 it tells credplug the token was
// refused and retries once with a new one. The CA file for both credplug and
// the API request comes from $CREDPLUG_CA_FILE when set (the emulator's test
// CA); otherwise the system store is used.
#include <credplug/host.hpp>

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

size_t discard(char *, size_t size, size_t n, void *) { return size * n; }

// One API request with the credential's current headers; returns the status.
long call_api(CURL *curl, const credplug::HeaderSet &auth, const std::string &method, const std::string &url,
              const std::string &body) {
  curl_slist *headers = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const auto &h : auth.headers) headers = curl_slist_append(headers, (h.name + ": " + h.value.reveal()).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  if (const char *ca = std::getenv("CREDPLUG_CA_FILE")) curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);  // (a real platform would wipe the header copies too)
  return status;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 5) {
    std::cerr << "usage: embed-example PLUGIN_ID CREDENTIAL_FILE METHOD URL [BODY] [--times N]\n";
    return 2;
  }
  const std::string id = argv[1], file = argv[2], method = argv[3], url = argv[4];
  std::string body = argc > 5 && std::string(argv[5]) != "--times" ? argv[5] : "";
  int times = 3;
  for (int i = 5; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--times") times = std::atoi(argv[i + 1]);

  std::ifstream in(file);
  std::stringstream json;
  json << in.rdbuf();
  try {
    credplug::Host host;  // plugins from $CREDPLUG_PLUGIN_PATH and beside the installation
    auto credential = host.open(id, json.str());
    CURL *curl = curl_easy_init();
    for (int i = 1; i <= times; ++i) {
      auto auth = credential->headers();
      long status = call_api(curl, *auth, method, url, body);
      if (status == 401) {  // the token was refused: once more with a new one
        credential->invalidate(*auth);
        auth = credential->headers();
        status = call_api(curl, *auth, method, url, body);
      }
      std::cout << "request " << i << ": HTTP " << status << " (token #" << auth->generation << ")\n";
      if (status < 200 || status >= 300) return 1;
    }
    curl_easy_cleanup(curl);
    auto s = credential->cache_status();
    std::cout << "token requests: " << s.token_requests << "\n";
  } catch (const credplug::Error &e) {
    std::cerr << "embed-example: " << credplug::to_string(e.kind()) << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
