// `credplug test ID FILE... | DIR`: many credentials tested concurrently
// through one Host (one connection pool), with a progress bar on a terminal,
// a summary table at the end, or one JSON object per credential (--json).
#pragma once

#include "output.hpp"

#include <credplug/host.hpp>

#include <string>
#include <vector>

namespace credplug::cli {

// FILE and DIR arguments expanded: a directory gives its *.json files, sorted.
// Throws CredentialSourceError for a path that does not exist.
std::vector<std::string> credential_files(const std::vector<std::string> &args);

// Tests every file with `jobs` threads. Returns the exit code: 0 when all
// passed, else the exit code of the first failing file in argument order.
int test_many(Host &host, const std::string &id, const std::vector<std::string> &files, int jobs, bool references,
              const OutputOptions &out);

}  // namespace credplug::cli
