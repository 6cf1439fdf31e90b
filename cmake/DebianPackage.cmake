# `cpack -G DEB` in the build tree: credplug_<version>_<arch>.deb with
# everything `cmake --install` puts under /usr (the CLI and its runner, the
# plugins and schemas, libcredplug-host and its headers, the CMake and
# pkg-config packages, docs, examples, the emulator) and, when it is built,
# the Python package in /usr/lib/python3/dist-packages. Its dependencies
# are read off the binaries (dpkg-shlibdeps). tests/deb/run.sh unpacks it
# into a temporary root and runs it from PATH.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME credplug)
set(CPACK_PACKAGE_VENDOR credplug)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "credential plugins for API connectors: tokens, signatures, a sidecar")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "credplug loads provider plugins (a stable C ABI) that obtain and renew API\n"
  "credentials: OAuth 2.0 tokens, signed requests, people's connected accounts.\n"
  "The credplug CLI tests credentials; `credplug serve` serves them to programs\n"
  "in any language over a Unix socket; libcredplug-host embeds them (C, C++,\n"
  "Python).")
string(REPLACE ";" "" CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_DEBIAN_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "credplug developers <credplug@users.noreply.github.com>")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The Python extension needs the package's own libcredplug-host.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_BINARY_DIR}/lib")
# Not read off a binary: the trusted CAs the HTTPS client loads; Python for
# the optional package.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates")
# The Python extension is built for the build machine's Python (Debian 12: 3.11).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-requests, curl")
if(CREDPLUG_PYTHON_VERSION)
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3 (>= ${CREDPLUG_PYTHON_VERSION}), ${CPACK_DEBIAN_PACKAGE_SUGGESTS}")
endif()
include(CPack)
