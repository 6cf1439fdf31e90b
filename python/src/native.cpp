// credplug._native: the C embedding API (credplug/host.h) as Python classes.
//
// Built on the C API, not the C++ one: the C API is the stable ABI, so this
// module keeps working with any later libcredplug-host of the same major,
// and it inherits that API's guarantees (thread-safe, fork-safe, nothing
// thrown). Every call that may wait (a token request, a connection test)
// releases the GIL. Objects are closed by close() or the last reference; a
// call racing close() holds its own reference (a shared_ptr taken under
// the GIL), so close() never frees what another thread is using.
#include <credplug/host.h>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Python.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;

namespace {

bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// A string the C API handed over: freed (and wiped) with credplug_free().
struct CString {
  char *p = nullptr;
  CString() = default;
  CString(const CString &) = delete;
  CString &operator=(const CString &) = delete;
  ~CString() { credplug_free(p); }
  char **out() { return &p; }
  std::string str() const { return p ? std::string(p) : std::string(); }
};

// Raises the exception class credplug._errors has for `status`, with the
// C API's message.
[[noreturn]] void raise_status(int32_t status, const CString &message) {
  py::object errors = py::module_::import("credplug._errors");
  py::object error = errors.attr("from_status")(status, message.p ? message.str() : credplug_status_string(status));
  PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

void check(int32_t status, const CString &message) {
  if (status != CREDPLUG_HOST_OK) raise_status(status, message);
}

py::object json_loads(const CString &text) {
  if (text.p == nullptr) return py::none();
  return py::module_::import("json").attr("loads")(py::str(text.p));
}

// A credential given as text, bytes or a mapping (serialised here).
std::string credential_text(const py::handle &credential) {
  if (py::isinstance<py::str>(credential)) return credential.cast<std::string>();
  if (py::isinstance<py::bytes>(credential)) return credential.cast<std::string>();
  return py::module_::import("json").attr("dumps")(credential).cast<std::string>();
}

// The Python callables a host or credential hands to the C API. They are
// called from the library's threads (background refreshes), so each call
// takes the GIL; none is called once the interpreter is finalizing.
struct HostCallbacks {
  py::object log;
  py::object on_event;
  ~HostCallbacks() {
    if (finalizing()) {  // the objects die with the interpreter
      log.release();
      on_event.release();
      return;
    }
    try {
      py::gil_scoped_acquire gil;
      log = py::object();
      on_event = py::object();
    } catch (...) {  // nothing to do in a destructor
    }
  }
};

void call_log(void *user, int32_t level, const char *message) {
  if (finalizing()) return;
  py::gil_scoped_acquire gil;
  try {
    static_cast<HostCallbacks *>(user)->log(level, message);
  } catch (py::error_already_set &e) {
    e.discard_as_unraisable("credplug log callback");
  }
}

void call_on_event(void *data, const char *event_json) {
  if (finalizing()) return;
  py::gil_scoped_acquire gil;
  try {
    static_cast<HostCallbacks *>(data)->on_event(py::module_::import("json").attr("loads")(event_json));
  } catch (py::error_already_set &e) {
    e.discard_as_unraisable("credplug on_event callback");
  }
}

// Frees a C object without the GIL: freeing a credential waits for its
// background refresh, which may be calling back into Python.
template <class T, void (*Free)(T *)>
void free_without_gil(T *p) noexcept {
  if (p == nullptr) return;
  if (!finalizing() && PyGILState_Check()) {
    PyThreadState *state = PyEval_SaveThread();
    Free(p);
    PyEval_RestoreThread(state);
  } else {
    Free(p);
  }
}

struct HostHandle {
  credplug_host *host = nullptr;
  std::shared_ptr<HostCallbacks> callbacks;  // outlives every credential opened
  ~HostHandle() { free_without_gil<credplug_host, credplug_host_free>(host); }
};

struct CredentialHandle {
  credplug_credential *credential = nullptr;
  std::shared_ptr<HostCallbacks> host_callbacks;
  py::object on_state;  // the embedder's state sink; None for none
  ~CredentialHandle() {
    free_without_gil<credplug_credential, credplug_credential_free>(credential);
    if (finalizing()) {
      on_state.release();
      return;
    }
    try {
      py::gil_scoped_acquire gil;
      on_state = py::object();
    } catch (...) {  // nothing to do in a destructor
    }
  }
};

int call_on_state(void *data, const char *state_json, size_t len) {
  if (finalizing()) return 1;
  py::gil_scoped_acquire gil;
  try {
    static_cast<CredentialHandle *>(data)->on_state(py::str(state_json, len));
    return 0;
  } catch (py::error_already_set &e) {
    // The token request fails with StateNotSavedError and the state is
    // offered again; the embedder's exception is reported, not lost.
    e.discard_as_unraisable("credplug on_state callback");
    return 1;
  }
}

// One token's headers: a read-only mapping of name to value. Values are
// secrets: repr() masks them, and the C copy is wiped when this goes.
class Headers {
 public:
  explicit Headers(credplug_headers *h) : h_(h) {}
  Headers(const Headers &) = delete;
  Headers &operator=(const Headers &) = delete;
  ~Headers() { credplug_headers_release(h_); }
  const credplug_headers *get() const { return h_; }

  size_t size() const { return credplug_headers_count(h_); }
  const char *name(size_t i) const { return credplug_headers_name(h_, i); }
  const char *value(size_t i) const { return credplug_headers_value(h_, i); }
  bool secret(size_t i) const { return credplug_headers_secret(h_, i) != 0; }
  // Header names compare without case (RFC 9110, section 5.1).
  std::optional<size_t> find(const std::string &name) const {
    for (size_t i = 0, n = size(); i < n; ++i)
      if (strcasecmp(credplug_headers_name(h_, i), name.c_str()) == 0) return i;
    return std::nullopt;
  }

 private:
  credplug_headers *h_;
};

std::string masked_repr(const char *type, const std::vector<std::pair<std::string, bool>> &names,
                        const std::vector<std::string> &values) {
  std::string out = std::string("<credplug.") + type + " {";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += py::repr(py::str(names[i].first)).cast<std::string>() + ": ";
    out += names[i].second ? "'***'" : py::repr(py::str(values[i])).cast<std::string>();
  }
  return out + "}>";
}

// What to add to one signed request (credplug_credential_sign).
class Signed {
 public:
  explicit Signed(credplug_signed *s) : s_(s) {}
  Signed(const Signed &) = delete;
  Signed &operator=(const Signed &) = delete;
  ~Signed() { credplug_signed_release(s_); }
  py::dict headers() const {
    py::dict out;
    for (size_t i = 0, n = credplug_signed_header_count(s_); i < n; ++i)
      out[py::str(credplug_signed_header_name(s_, i))] = py::str(credplug_signed_header_value(s_, i));
    return out;
  }
  std::vector<std::pair<std::string, std::string>> query() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t i = 0, n = credplug_signed_query_count(s_); i < n; ++i)
      out.emplace_back(credplug_signed_query_name(s_, i), credplug_signed_query_value(s_, i));
    return out;
  }
  std::string url() const { return credplug_signed_url(s_); }
  std::string repr() const {
    std::vector<std::pair<std::string, bool>> names;
    std::vector<std::string> values;
    for (size_t i = 0, n = credplug_signed_header_count(s_); i < n; ++i) {
      names.emplace_back(credplug_signed_header_name(s_, i), credplug_signed_header_secret(s_, i) != 0);
      values.emplace_back(credplug_signed_header_value(s_, i));
    }
    return masked_repr("Signed", names, values);
  }

 private:
  credplug_signed *s_;
};

// asyncio.to_thread(self.<method>, *args): a coroutine.
template <class... Args>
py::object to_thread(const py::object &self, const char *method, Args &&...args) {
  return py::module_::import("asyncio").attr("to_thread")(self.attr(method), std::forward<Args>(args)...);
}

class Credential {
 public:
  explicit Credential(std::shared_ptr<CredentialHandle> handle) : handle_(std::move(handle)) {}

  // A reference for one call, taken under the GIL; ValueError once closed.
  std::shared_ptr<CredentialHandle> use() const {
    if (!handle_) throw py::value_error("the credential is closed");
    return handle_;
  }
  void close() {
    std::shared_ptr<CredentialHandle> last = std::move(handle_);
    handle_.reset();
    // `last` goes here; when it is the last reference, its destructor
    // frees the C credential without the GIL.
  }
  bool closed() const { return !handle_; }

  // A cached token is read with the GIL held (it never waits): releasing
  // the GIL for 100 ns would send the thread to the back of the GIL's
  // queue behind every other thread (the convoy effect). Only a token
  // request runs without it.
  std::unique_ptr<Headers> cached(const std::shared_ptr<CredentialHandle> &h) const {
    credplug_headers *out = nullptr;
    CString err;
    check(credplug_headers_get_cached(h->credential, &out, err.out()), err);
    return out ? std::make_unique<Headers>(out) : nullptr;
  }

  std::unique_ptr<Headers> headers() const {
    auto h = use();
    if (auto ready = cached(h)) return ready;
    credplug_headers *out = nullptr;
    CString err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_headers_get(h->credential, &out, err.out());
    }
    check(status, err);
    return std::make_unique<Headers>(out);
  }

  // headers() for asyncio: a cached token at once, else a token request on
  // the loop's executor.
  py::object headers_async(const py::object &self) const {
    if (auto ready = cached(use())) return py::module_::import("credplug._aio").attr("ready")(std::move(ready));
    return to_thread(self, "headers");
  }

  void invalidate(const Headers *rejected) const {
    auto h = use();
    CString err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_invalidate(h->credential, rejected ? rejected->get() : nullptr, err.out());
    }
    check(status, err);
  }

  // Runs `call(credential, &json, &err)` without the GIL; the JSON parsed.
  template <class Call>
  py::object json_call(Call call) const {
    auto h = use();
    CString json, err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = call(h->credential, json.out(), err.out());
    }
    check(status, err);
    return json_loads(json);
  }

  py::object state() const {
    auto h = use();
    CString json, err;
    check(credplug_credential_state(h->credential, json.out(), err.out()), err);
    if (json.p == nullptr) return py::none();
    return py::str(json.p);
  }

  void set_state(const py::handle &state) const {
    auto h = use();
    const std::string text = credential_text(state);
    CString err;
    check(credplug_credential_set_state(h->credential, text.data(), text.size(), err.out()), err);
  }

  void revoke() const {
    auto h = use();
    CString err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_credential_revoke(h->credential, err.out());
    }
    check(status, err);
  }

  std::unique_ptr<Signed> sign(const std::string &method, const std::string &url, const py::object &headers,
                               const py::object &body, const py::object &body_sha256, int64_t time_ms) const {
    auto h = use();
    std::vector<std::string> header_strings;
    if (!headers.is_none()) {
      py::object items = py::hasattr(headers, "items") ? headers.attr("items")() : headers;
      for (const auto &item : items) {
        auto pair = item.cast<std::pair<std::string, std::string>>();
        header_strings.push_back(std::move(pair.first));
        header_strings.push_back(std::move(pair.second));
      }
    }
    std::vector<const char *> header_ptrs;
    header_ptrs.reserve(header_strings.size() + 1);
    for (const auto &s : header_strings) header_ptrs.push_back(s.c_str());
    header_ptrs.push_back(nullptr);
    std::string body_bytes, sha;
    if (!body.is_none()) body_bytes = credential_text(body);  // str or bytes
    if (!body_sha256.is_none()) sha = body_sha256.cast<std::string>();

    credplug_request request;
    std::memset(&request, 0, sizeof request);
    request.struct_size = sizeof request;
    request.method = method.c_str();
    request.url = url.c_str();
    request.headers = header_ptrs.data();
    request.body = body.is_none() ? nullptr : body_bytes.data();
    request.body_len = body_bytes.size();
    request.body_sha256 = body_sha256.is_none() ? nullptr : sha.c_str();
    request.time_ms = time_ms;
    credplug_signed *out = nullptr;
    CString err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_credential_sign(h->credential, &request, &out, err.out());
    }
    check(status, err);
    return std::make_unique<Signed>(out);
  }

 private:
  std::shared_ptr<CredentialHandle> handle_;
};

int32_t isolation_of(const py::object &isolation) {
  if (isolation.is_none()) return CREDPLUG_ISOLATION_DEFAULT;
  const auto name = isolation.cast<std::string>();
  if (name == "process") return CREDPLUG_ISOLATION_PROCESS;
  if (name == "in-process") return CREDPLUG_ISOLATION_IN_PROCESS;
  throw py::value_error("isolation: \"process\" or \"in-process\", not \"" + name + "\"");
}

class Host {
 public:
  Host(const std::optional<std::vector<std::string>> &plugin_dirs, bool use_environment, bool use_default_dir,
       const std::optional<std::string> &ca_file, const py::object &isolation,
       const std::optional<std::string> &runner_path, const std::optional<std::string> &pin_file,
       const std::optional<std::string> &shared_cache_url, const std::optional<std::string> &shared_cache_key_file,
       const std::optional<std::string> &authorization_key_file, int64_t connect_timeout_ms, int64_t total_timeout_ms,
       const py::object &log, int32_t log_level, bool json_logs, const py::object &on_event,
       bool runners_without_namespaces, bool runners_without_zygote, bool runners_without_spare) {
    credplug_host_options o;
    credplug_host_options_init(&o);
    std::vector<const char *> dirs;
    if (plugin_dirs) {
      for (const auto &d : *plugin_dirs) dirs.push_back(d.c_str());
      dirs.push_back(nullptr);
      o.plugin_dirs = dirs.data();
    }
    o.use_environment = use_environment ? 1 : CREDPLUG_OFF;
    o.use_default_dir = use_default_dir ? 1 : CREDPLUG_OFF;
    auto c_str = [](const std::optional<std::string> &s) { return s ? s->c_str() : nullptr; };
    o.ca_file = c_str(ca_file);
    o.isolation = isolation_of(isolation);
    o.runner_path = c_str(runner_path);
    o.pin_file = c_str(pin_file);
    o.shared_cache_url = c_str(shared_cache_url);
    o.shared_cache_key_file = c_str(shared_cache_key_file);
    o.authorization_key_file = c_str(authorization_key_file);
    o.connect_timeout_ms = connect_timeout_ms;
    o.total_timeout_ms = total_timeout_ms;
    o.log_format = json_logs ? CREDPLUG_LOG_FORMAT_JSON : CREDPLUG_LOG_FORMAT_DEFAULT;
    o.runners_without_namespaces = runners_without_namespaces ? 1 : 0;
    o.runners_without_zygote = runners_without_zygote ? 1 : 0;
    o.runners_without_spare = runners_without_spare ? 1 : 0;
    auto handle = std::make_shared<HostHandle>();
    handle->callbacks = std::make_shared<HostCallbacks>();
    if (!log.is_none()) {
      handle->callbacks->log = log;
      o.log = call_log;
      o.log_user = handle->callbacks.get();
      o.log_level = log_level;
    }
    if (!on_event.is_none()) {
      handle->callbacks->on_event = on_event;
      o.on_event = call_on_event;
      o.on_event_data = handle->callbacks.get();
    }
    CString err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_host_new(&o, &handle->host, err.out());
    }
    check(status, err);
    handle_ = std::move(handle);
  }

  std::shared_ptr<HostHandle> use() const {
    if (!handle_) throw py::value_error("the host is closed");
    return handle_;
  }
  void close() { handle_.reset(); }
  bool closed() const { return !handle_; }

  py::object plugins() const {
    auto h = use();
    CString json, err;
    check(credplug_host_plugins(h->host, json.out(), err.out()), err);
    return json_loads(json);
  }

  void reload_plugins() const {
    auto h = use();
    CString err;
    check(credplug_host_reload_plugins(h->host, err.out()), err);
  }

  py::object schema(const std::string &plugin, bool form) const {
    auto h = use();
    CString json, err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = form ? credplug_host_schema_form(h->host, plugin.c_str(), json.out(), err.out())
                    : credplug_host_schema(h->host, plugin.c_str(), json.out(), err.out());
    }
    check(status, err);
    return json_loads(json);
  }

  py::object validate(const std::string &plugin, const py::handle &credential) const {
    auto h = use();
    std::string text = credential_text(credential);
    CString json, err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_validate_json(h->host, plugin.c_str(), text.data(), text.size(), json.out(), err.out());
    }
    wipe(text);
    check(status, err);
    return json_loads(json);
  }

  Credential open(const std::string &plugin, const py::handle &credential, const std::optional<std::string> &label,
                  const py::object &state, const py::object &on_state) const {
    auto h = use();
    auto cred = std::make_shared<CredentialHandle>();
    cred->host_callbacks = h->callbacks;
    std::string text = credential_text(credential);
    std::string state_text;
    if (!state.is_none()) state_text = credential_text(state);
    credplug_open_options o;
    std::memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.label = label ? label->c_str() : nullptr;
    if (!state.is_none()) {
      o.state = state_text.data();
      o.state_len = state_text.size();
    }
    if (!on_state.is_none()) {
      cred->on_state = on_state;
      o.on_state = call_on_state;
      o.on_state_data = cred.get();
    }
    CString err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_open_with(h->host, plugin.c_str(), text.data(), text.size(), &o, &cred->credential, err.out());
    }
    wipe(text);
    wipe(state_text);
    check(status, err);
    return Credential(std::move(cred));
  }

  py::tuple begin_authorization(const std::string &plugin, const py::handle &credential,
                                const std::string &redirect_uri) const {
    auto h = use();
    std::string text = credential_text(credential);
    CString url, pending, err;
    int64_t expires_at = 0;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_begin_authorization(h->host, plugin.c_str(), text.data(), text.size(), redirect_uri.c_str(),
                                            url.out(), pending.out(), &expires_at, err.out());
    }
    wipe(text);
    check(status, err);
    return py::make_tuple(url.str(), pending.str(), expires_at);
  }

  std::string complete_authorization(const std::string &pending, const std::string &redirect_url) const {
    auto h = use();
    CString state, err;
    int32_t status;
    {
      py::gil_scoped_release nogil;
      status = credplug_complete_authorization(h->host, pending.c_str(), redirect_url.c_str(), state.out(), err.out());
    }
    check(status, err);
    return state.str();
  }

  py::object metrics() const {
    auto h = use();
    CString json, err;
    check(credplug_host_metrics(h->host, json.out(), err.out()), err);
    return json_loads(json);
  }

  std::string metrics_prometheus() const {
    auto h = use();
    CString text, err;
    check(credplug_host_metrics_prometheus(h->host, text.out(), err.out()), err);
    return text.str();
  }

 private:
  static void wipe(std::string &s) {
    volatile char *p = s.data();
    for (size_t i = 0; i < s.size(); ++i) p[i] = 0;
  }
  std::shared_ptr<HostHandle> handle_;
};

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "credplug's C embedding API (libcredplug-host) as Python classes; use the credplug package.";
  m.def(
      "version", [] { return std::string(credplug_host_version()); },
      "The library's version, as credplug_host_version().");
  m.def("status_name", [](int32_t status) { return std::string(credplug_status_name(status)); });

  py::class_<Headers>(m, "Headers")
      .def("__len__", &Headers::size)
      .def("__getitem__",
           [](const Headers &h, const std::string &name) {
             auto i = h.find(name);
             if (!i) throw py::key_error(name);
             return py::str(h.value(*i));
           })
      .def("__contains__",
           [](const Headers &h, const py::object &name) {
             return py::isinstance<py::str>(name) && h.find(name.cast<std::string>()).has_value();
           })
      .def(
          "get",
          [](const Headers &h, const std::string &name, const py::object &fallback) -> py::object {
            auto i = h.find(name);
            return i ? py::str(h.value(*i)) : fallback;
          },
          py::arg("name"), py::arg("default") = py::none())
      .def("keys",
           [](const Headers &h) {
             py::list out;
             for (size_t i = 0, n = h.size(); i < n; ++i) out.append(py::str(h.name(i)));
             return out;
           })
      .def("__iter__",
           [](const Headers &h) {
             py::list out;
             for (size_t i = 0, n = h.size(); i < n; ++i) out.append(py::str(h.name(i)));
             return py::iter(out);
           })
      .def("values",
           [](const Headers &h) {
             py::list out;
             for (size_t i = 0, n = h.size(); i < n; ++i) out.append(py::str(h.value(i)));
             return out;
           })
      .def("items",
           [](const Headers &h) {
             py::list out;
             for (size_t i = 0, n = h.size(); i < n; ++i)
               out.append(py::make_tuple(py::str(h.name(i)), py::str(h.value(i))));
             return out;
           })
      .def("is_secret",
           [](const Headers &h, const std::string &name) {
             auto i = h.find(name);
             if (!i) throw py::key_error(name);
             return h.secret(*i);
           })
      .def_property_readonly("generation", [](const Headers &h) { return credplug_headers_generation(h.get()); })
      .def_property_readonly("expires_at", [](const Headers &h) { return credplug_headers_expires_at(h.get()); })
      .def("__repr__", [](const Headers &h) {
        std::vector<std::pair<std::string, bool>> names;
        std::vector<std::string> values;
        for (size_t i = 0, n = h.size(); i < n; ++i) {
          names.emplace_back(h.name(i), h.secret(i));
          values.emplace_back(h.value(i));
        }
        return masked_repr("Headers", names, values);
      });

  py::class_<Signed>(m, "Signed")
      .def_property_readonly("headers", &Signed::headers)
      .def_property_readonly("query", &Signed::query)
      .def_property_readonly("url", &Signed::url)
      .def("__repr__", &Signed::repr);

  py::class_<Credential>(m, "Credential")
      .def("headers", &Credential::headers)
      .def("invalidate", &Credential::invalidate, py::arg("rejected") = nullptr)
      .def("test", [](const Credential &c) { return c.json_call(credplug_test); })
      .def("status", [](const Credential &c) { return c.json_call(credplug_credential_status); })
      .def("cache_status", [](const Credential &c) { return c.json_call(credplug_cache_status); })
      .def("state", &Credential::state)
      .def("set_state", &Credential::set_state, py::arg("state"))
      .def("revoke", &Credential::revoke)
      .def("sign", &Credential::sign, py::arg("method"), py::arg("url"), py::kw_only(), py::arg("headers") = py::none(),
           py::arg("body") = py::none(), py::arg("body_sha256") = py::none(), py::arg("time_ms") = 0)
      // The same calls for asyncio: each runs on the loop's default
      // executor, so a token request never blocks the event loop.
      .def("headers_async", [](const py::object &self) { return self.cast<const Credential &>().headers_async(self); })
      .def("test_async", [](const py::object &self) { return to_thread(self, "test"); })
      .def("revoke_async", [](const py::object &self) { return to_thread(self, "revoke"); })
      .def(
          "invalidate_async",
          [](const py::object &self, const py::object &rejected) { return to_thread(self, "invalidate", rejected); },
          py::arg("rejected") = py::none())
      .def("sign_async",
           [](const py::object &self, const py::args &args, const py::kwargs &kwargs) {
             return py::module_::import("asyncio").attr("to_thread")(self.attr("sign"), *args, **kwargs);
           })
      .def("close", &Credential::close)
      .def_property_readonly("closed", &Credential::closed)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Credential &c, const py::args &) { c.close(); });

  py::class_<Host>(m, "Host")
      .def(py::init<const std::optional<std::vector<std::string>> &, bool, bool, const std::optional<std::string> &,
                    const py::object &, const std::optional<std::string> &, const std::optional<std::string> &,
                    const std::optional<std::string> &, const std::optional<std::string> &,
                    const std::optional<std::string> &, int64_t, int64_t, const py::object &, int32_t, bool,
                    const py::object &, bool, bool, bool>(),
           py::kw_only(), py::arg("plugin_dirs") = py::none(), py::arg("use_environment") = true,
           py::arg("use_default_dir") = true, py::arg("ca_file") = py::none(), py::arg("isolation") = py::none(),
           py::arg("runner_path") = py::none(), py::arg("pin_file") = py::none(),
           py::arg("shared_cache_url") = py::none(), py::arg("shared_cache_key_file") = py::none(),
           py::arg("authorization_key_file") = py::none(), py::arg("connect_timeout_ms") = 0,
           py::arg("total_timeout_ms") = 0, py::arg("log") = py::none(), py::arg("log_level") = 0,
           py::arg("json_logs") = false, py::arg("on_event") = py::none(),
           py::arg("runners_without_namespaces") = false, py::arg("runners_without_zygote") = false,
           py::arg("runners_without_spare") = false)
      .def("plugins", &Host::plugins)
      .def("reload_plugins", &Host::reload_plugins)
      .def("schema", &Host::schema, py::arg("plugin"), py::kw_only(), py::arg("form") = false)
      .def("validate_json", &Host::validate, py::arg("plugin"), py::arg("credential"))
      .def("open", &Host::open, py::arg("plugin"), py::arg("credential"), py::kw_only(), py::arg("label") = py::none(),
           py::arg("state") = py::none(), py::arg("on_state") = py::none())
      .def("begin_authorization_tuple", &Host::begin_authorization, py::arg("plugin"), py::arg("credential"),
           py::arg("redirect_uri"))
      .def("complete_authorization", &Host::complete_authorization, py::arg("pending"), py::arg("redirect_url"))
      .def("metrics", &Host::metrics)
      .def("metrics_prometheus", &Host::metrics_prometheus)
      .def("close", &Host::close)
      .def_property_readonly("closed", &Host::closed)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](Host &h, const py::args &) { h.close(); });
}
