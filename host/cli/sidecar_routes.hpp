// The sidecar's HTTP API (docs/SIDECAR.md): the credentials its clients
// registered by name, and the /v1 routes over one Host.
#pragma once

#include <credplug/host.hpp>

#include <httplib.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace credplug::cli {

class Sidecar {
 public:
  explicit Sidecar(Host &host) : host_(host) {}
  // Adds every route to `server`. `token`: the bearer token every request
  // but /healthz must carry; empty for none (a 0600 socket is the wall).
  void install(httplib::Server &server, std::string token);
  // Closes every credential (after the server stopped).
  void close_all();

 private:
  struct Entry {
    std::string plugin, label;
    std::shared_ptr<Credential> credential;
    std::mutex served_mutex;
    HeadersPtr served;  // the newest headers handed out: what an invalidate of its generation drops
  };
  // A person connecting an account: begun, not yet completed.
  struct Connecting {
    std::string plugin, label;
    SecretString credential;
  };

  std::shared_ptr<Entry> find(const std::string &name);
  void put(const httplib::Request &req, httplib::Response &res, const std::string &name);
  void remove(httplib::Response &res, const std::string &name);
  void list(httplib::Response &res);
  void headers(httplib::Response &res, Entry &entry);
  void invalidate(const httplib::Request &req, httplib::Response &res, Entry &entry);
  void sign(const httplib::Request &req, httplib::Response &res, Entry &entry);
  void begin_authorization(const httplib::Request &req, httplib::Response &res, const std::string &name);
  void complete_authorization(const httplib::Request &req, httplib::Response &res, const std::string &name);

  Host &host_;
  std::mutex mutex_;  // guards the maps, never held during a plugin call
  std::map<std::string, std::shared_ptr<Entry>> credentials_;
  std::map<std::string, Connecting> connecting_;
};

}  // namespace credplug::cli
