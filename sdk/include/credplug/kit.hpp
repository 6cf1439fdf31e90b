// The credplug SDK's C++ kit: everything a provider plugin needs.
#pragma once

#include <credplug/plugin.h>
#include <credplug/kit/call.hpp>
#include <credplug/kit/crypto.hpp>
#include <credplug/kit/encoding.hpp>
#include <credplug/kit/failure.hpp>
#include <credplug/kit/json.hpp>
#include <credplug/kit/jwt.hpp>
#include <credplug/kit/oauth2.hpp>
#include <credplug/kit/provider.hpp>
#include <credplug/kit/secret.hpp>
#include <credplug/kit/url.hpp>
