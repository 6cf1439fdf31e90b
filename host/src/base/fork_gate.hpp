// Fork safety, part three: OpenSSL's own locks. OpenSSL 3 keeps
// process-wide locks (its method store, its random generator) that a thread
// holds for microseconds inside most calls; a child forked at that moment
// waits for them forever, and OpenSSL does not support fork() in a threaded
// process (openssl/openssl#19066). So credplug's threads call into OpenSSL
// (directly, or through one step of libcurl's state machine) inside an
// OpenSslSection, and fork() waits until none is inside. A section never
// spans a wait on the network: fork() waits for CPU work only.
#pragma once

namespace credplug::host {

class OpenSslSection {
 public:
  OpenSslSection();  // waits while a fork() is under way
  ~OpenSslSection();
  OpenSslSection(const OpenSslSection &) = delete;
  OpenSslSection &operator=(const OpenSslSection &) = delete;
};

}  // namespace credplug::host
