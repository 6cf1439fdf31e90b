#include "transport/plugin_registry.hpp"

#include "described/described_transport.hpp"
#include "described/provider_description.hpp"
#include "plugin/plugin_paths.hpp"
#include "transport/in_process_transport.hpp"
#include "transport/process_transport.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;

namespace credplug::host {
namespace {

std::vector<std::string> plugin_files(const std::string &dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if ((it->path().extension() == ".so" || is_provider_description_file(it->path().string())) &&
        it->is_regular_file(ec))
      files.push_back(it->path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// Before any code of the file runs: a safe path and, with a pin file, a
// pinned hash. Returns the id it is pinned as ("" without pins); throws
// std::runtime_error saying why it may not load.
std::string check_file(const LoadPolicy &policy, const std::string &path) {
  if (!policy.allow_unsafe_paths)
    if (auto why = unsafe_plugin_path(path))
      throw std::runtime_error(*why +
                               ", so anyone could have replaced its code (fix the permissions, or allow it with "
                               "--allow-unsafe-plugin-paths / CREDPLUG_ALLOW_UNSAFE_PLUGIN_PATHS=1)");
  if (policy.pins) return pinned_id(*policy.pins, conventional_plugin_id(path), file_sha256(path));
  return "";
}

// What check_file() allows, as text: Hosts that check alike share runners.
std::string check_key(const LoadPolicy &policy) {
  std::string key = policy.allow_unsafe_paths ? "unsafe-paths" : "safe-paths";
  if (policy.pins)
    for (const auto &[id, sha256] : policy.pins->sha256_by_id) key += '\0' + id + ' ' + sha256;
  return key;
}

// The names a plugin with this id may have in a directory, in the order looked for.
std::vector<std::string> file_names_for(const std::string &id) {
  return {"credplug-" + id + ".so", "credplug-" + id + kProviderDescriptionSuffix};
}

}  // namespace

std::shared_ptr<PluginTransport> PluginRegistry::load(const std::string &path) {
  // A description is data: the host reads it here, whatever the isolation.
  if (is_provider_description_file(path)) return load_described(path);
  if (policy_.isolated)
    return load_in_runner(
        path, policy_.runner, policy_.load_deadline_ms,
        [policy = policy_](const std::string &file) {
          try {
            check_file(policy, file);
          } catch (const std::exception &e) {
            throw LoadError(std::string("its replaced file may not load: ") + e.what());
          }
        },
        check_key(policy_));
  return load_in_process(path);
}

// False (with the problem recorded) when the file may not be loaded.
bool PluginRegistry::may_load(const std::string &path, std::string &pinned_as) {
  if (by_path_.count(path) || problems_.count(path)) return false;
  try {
    pinned_as = check_file(policy_, path);
  } catch (const std::exception &e) {
    problems_[path] = std::string("not loaded: ") + e.what();
    logger_.write(CREDPLUG_LOG_WARN, "plugin " + path + " " + problems_[path]);
    return false;
  }
  return true;
}

// Records a loaded file under its id, or why it cannot be used.
void PluginRegistry::accept(const std::string &path, const std::string &pinned_as,
                            const std::shared_ptr<PluginTransport> &plugin) {
  const std::string named = conventional_plugin_id(path);
  const std::string &id = plugin->description().id;
  if (policy_.pins && named.empty() && id != pinned_as) {
    problems_[path] = "its hash is pinned for plugin '" + pinned_as + "', but it holds plugin '" + id + "'";
    return;
  }
  // A lookup by id loads credplug-<id>.so and never credplug-<other>.so, so
  // a file must hold the plugin its name says.
  if (!named.empty() && named != id) {
    problems_[path] = "it is named for plugin '" + named + "' but holds plugin '" + id + "'; rename it credplug-" + id +
                      (is_provider_description_file(path) ? kProviderDescriptionSuffix : ".so");
    return;
  }
  if (auto it = by_id_.find(id); it != by_id_.end() && it->second != plugin) {
    problems_[path] =
        "plugin '" + id + "' is shadowed by " + it->second->description().path + " (earlier in the search path)";
    return;
  }
  by_id_[id] = plugin;
  by_path_[path] = id;
  for (const auto &warning : plugin->schema().warnings())
    logger_.write(CREDPLUG_LOG_WARN, "plugin '" + id + "': " + warning);
}

void PluginRegistry::try_load(const std::string &path) {
  std::string pinned_as;
  if (!may_load(path, pinned_as)) return;
  try {
    accept(path, pinned_as, load(path));
  } catch (const std::exception &e) {
    problems_[path] = e.what();
  }
}

void PluginRegistry::scan_all() {
  if (scanned_) return;
  struct Candidate {
    std::string path, pinned_as;
    std::shared_ptr<PluginTransport> plugin;
    std::string problem;
  };
  std::vector<Candidate> candidates;
  for (const auto &dir : dirs_)
    for (const auto &file : plugin_files(dir)) {
      Candidate c{file, "", nullptr, ""};
      if (may_load(file, c.pinned_as)) candidates.push_back(std::move(c));
    }
  // Loading a plugin in a runner is mostly waiting for the runner to start:
  // start them all at once. (In this process, loading is dlopen(): in turn.)
  auto load_one = [this](Candidate &c) {
    try {
      c.plugin = load(c.path);
    } catch (const std::exception &e) {
      c.problem = e.what();
    }
  };
  if (policy_.isolated) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> loaders;
    for (size_t t = 0; t < std::min<size_t>(candidates.size(), 8); ++t)
      loaders.emplace_back([&] {
        for (size_t i; (i = next++) < candidates.size();) load_one(candidates[i]);
      });
    for (auto &t : loaders) t.join();
  } else {
    for (auto &c : candidates) load_one(c);
  }
  // Then in search-path order, so the first file of an id wins.
  for (auto &c : candidates) {
    if (c.plugin)
      accept(c.path, c.pinned_as, c.plugin);
    else
      problems_[c.path] = c.problem;
  }
  scanned_ = true;
}

std::map<std::string, std::shared_ptr<PluginTransport>> PluginRegistry::all() {
  std::lock_guard<std::mutex> lock(mutex_);
  scan_all();
  return by_id_;
}

std::map<std::string, std::string> PluginRegistry::problems() {
  std::lock_guard<std::mutex> lock(mutex_);
  scan_all();
  return problems_;
}

void PluginRegistry::add_problem(const std::string &where, const std::string &why) {
  std::lock_guard<std::mutex> lock(mutex_);
  problems_[where] = why;
  lasting_problems_[where] = why;
}

void PluginRegistry::reload() {
  std::lock_guard<std::mutex> lock(mutex_);
  by_id_.clear();
  by_path_.clear();
  problems_ = lasting_problems_;
  scanned_ = false;
}

bool PluginRegistry::replaced(const std::shared_ptr<PluginTransport> &plugin) {
  const PluginDescription &d = plugin->description();
  try {
    if (identity_of(d.path) == d.file) return false;
  } catch (const LoadError &) {  // removed: the loaded plugin keeps serving
    return false;
  }
  if (policy_.isolated || is_provider_description_file(d.path)) return true;
  // Its code is mapped in this process, and dlopen() would hand it back.
  if (warned_replaced_.insert(d.path).second)
    logger_.write(CREDPLUG_LOG_WARN, "plugin '" + d.id + "': " + d.path +
                                         " changed since it was loaded; a plugin in this process loads once per "
                                         "process (restart it, or run plugins in runners, to use the new file)");
  return false;
}

std::shared_ptr<PluginTransport> PluginRegistry::find(const std::string &id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    if (!replaced(it->second)) return it->second;
    // An upgrade: the new file for new credentials (the ones open keep theirs).
    by_path_.erase(it->second->description().path);
    by_id_.erase(it);
  }
  // The conventional file name first, so one command loads one plugin.
  for (const auto &dir : dirs_)
    for (const auto &name : file_names_for(id)) {
      std::string path = (fs::path(dir) / name).string();
      std::error_code ec;
      if (!fs::exists(path, ec)) continue;
      try_load(path);
      if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
      if (auto p = problems_.find(path); p != problems_.end())
        throw Error(ErrorKind::Plugin, "the plugin file for '" + id + "' (" + path + ") cannot be used: " + p->second);
    }
  // Then files whose names do not say which plugin they hold; a file named
  // for another plugin is not loaded (its code is not run) for this lookup.
  std::set<std::string> known_ids;
  for (const auto &dir : dirs_)
    for (const auto &file : plugin_files(dir)) {
      std::string named = conventional_plugin_id(file);
      if (named.empty())
        try_load(file);
      else
        known_ids.insert(named);
    }
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  for (const auto &[known_id, p] : by_id_) known_ids.insert(known_id);
  std::string known;
  for (const auto &known_id : known_ids) known += (known.empty() ? "" : ", ") + known_id;
  std::string searched;
  for (const auto &d : dirs_) searched += (searched.empty() ? "" : ", ") + d;
  throw Error(ErrorKind::InvalidInput,
              "no plugin with id '" + id + "'; available: " + (known.empty() ? "none" : known) +
                  " (searched: " + (searched.empty() ? "no directories" : searched) +
                  "); for a plugin elsewhere, name the directory that holds credplug-" + id + ".so or credplug-" + id +
                  kProviderDescriptionSuffix + " (--plugin-dir DIR, or CREDPLUG_PLUGIN_PATH)");
}

}  // namespace credplug::host
