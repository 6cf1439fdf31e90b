// Exponential backoff: the one rule for waiting before trying again, used
// by the token cache (failed token requests), the process transport (a
// runner that keeps ending) and the fleet cache (Redis down).
#pragma once

namespace credplug::host {

// The wait after the `n`-th failure in a row: initial * 2^(n-1), at most
// max; 0 when n < 1.
long backoff_ms(int n, long initial_ms, long max_ms);

// The same with a random part of up to half dropped ("equal jitter": waits
// still grow, and callers that failed together do not retry together).
long jittered_backoff_ms(int n, long initial_ms, long max_ms);

}  // namespace credplug::host
