// Fork safety, part three: OpenSSL's own locks. OpenSSL 3 keeps
// process-wide locks (its method store, its random generator) that a thread
// holds for microseconds inside most calls; a child forked at that moment
// waits for them forever, and OpenSSL does not support fork() in a threaded
// process (openssl/openssl#19066). So credplug's threads call into OpenSSL
// (directly, or through one step of libcurl's state machine) inside an
// OpenSslSection, and fork() waits until none is inside. A section never
// spans a wait on the network: fork() waits for CPU work only.
//
// exit() too: OpenSSL frees its global state in an atexit() handler, and a
// thread still in a token request (a service ending on SIGTERM, a Python
// program's sys.exit()) would crash in it. From close_openssl_at_exit() on,
// the thread running exit() waits for the sections under way, and every
// other thread that would enter one waits there until the process ends.
#pragma once

namespace credplug::host {

// Registers, once, the atexit() handler that closes the sections. Call it
// after OpenSSL is initialised: handlers run in reverse order, so this one
// then runs before OpenSSL's cleanup.
void close_openssl_at_exit();

class OpenSslSection {
 public:
  OpenSslSection();  // waits while a fork() is under way; forever once exit() began
  ~OpenSslSection();
  OpenSslSection(const OpenSslSection &) = delete;
  OpenSslSection &operator=(const OpenSslSection &) = delete;
};

}  // namespace credplug::host
