// Discovery: the plugin files in a Host's search path, loaded (through the
// Host's transport: a runner per plugin, or in this process) once each, by
// id, and the files that could not be used with why. Before any code of a
// file runs, its path must be safe and, with a pin file, its hash pinned.
#pragma once

#include "transport/host_services.hpp"
#include "transport/plugin_pins.hpp"
#include "transport/plugin_transport.hpp"
#include "transport/runner_process.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace credplug::host {

struct LoadPolicy {
  bool allow_unsafe_paths = false;
  std::optional<PinFile> pins;
  bool isolated = true;  // in a runner process; else in this process
  RunnerProgram runner;  // when isolated
  long load_deadline_ms = 10000;
};

class PluginRegistry {
 public:
  PluginRegistry(std::vector<std::string> dirs, LoadPolicy policy, const Logger &logger)
      : dirs_(std::move(dirs)), policy_(std::move(policy)), logger_(logger) {}

  const std::vector<std::string> &dirs() const { return dirs_; }

  // Every plugin in the search path, by id (loads them all, once).
  std::map<std::string, std::shared_ptr<PluginTransport>> all();
  // Files (or search path entries) that could not be used, and why.
  std::map<std::string, std::string> problems();
  // Recorded before any scan (an ignored CREDPLUG_PLUGIN_PATH entry).
  void add_problem(const std::string &where, const std::string &why);

  // The plugin with this id, loading only the file that should hold it (and
  // files whose names do not say). A file replaced since it was loaded is
  // loaded afresh (in runners; in this process, a warning says it cannot
  // be). Throws Error(InvalidInput) naming the ids known, or Error(Plugin)
  // when the file for `id` cannot be used.
  std::shared_ptr<PluginTransport> find(const std::string &id);

  // Forgets what was found: the next look scans the search path again.
  // Plugins that credentials hold keep running for them.
  void reload();

 private:
  bool may_load(const std::string &path, std::string &pinned_as);
  // Whether a loaded plugin's file was replaced, and can be loaded afresh.
  bool replaced(const std::shared_ptr<PluginTransport> &plugin);
  void accept(const std::string &path, const std::string &pinned_as, const std::shared_ptr<PluginTransport> &plugin);
  void try_load(const std::string &path);
  void scan_all();
  std::shared_ptr<PluginTransport> load(const std::string &path);

  const std::vector<std::string> dirs_;
  const LoadPolicy policy_;
  const Logger &logger_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<PluginTransport>> by_id_;
  std::map<std::string, std::string> by_path_;           // path -> id, for loaded files
  std::map<std::string, std::string> problems_;          // path -> why it could not be used
  std::map<std::string, std::string> lasting_problems_;  // add_problem()'s: kept by reload()
  std::set<std::string> warned_replaced_;                // in-process files said to have changed
  bool scanned_ = false;
};

}  // namespace credplug::host
