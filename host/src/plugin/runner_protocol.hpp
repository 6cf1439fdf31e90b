// The wire protocol between the host and a plugin runner (process
// isolation), over one SOCK_STREAM socketpair. docs/SANDBOX.md, "The
// runner protocol".
//
// A frame is  u32 length | u8 type | u32 call id | payload  (length counts
// type, id and payload; integers in this machine's byte order: both ends are
// the same build on the same machine). Call id 0 is the process itself
// (handshake, loading, logs from init()); the host numbers calls from 1.
//
//   runner -> host: Hello, then Loaded or LoadFailed, then for each call any
//                   number of service frames (Log, AddSecret, Out*, SetError,
//                   HttpSend, each answered by HttpResult) and one Done.
//   host -> runner: Call, HttpResult (and first, to a spare runner started
//                   before its plugin was known, Load: zygote.hpp).
//
// The host treats every frame as hostile (the runner holds plugin code): a
// frame that is too long, malformed or out of place ends the runner.
#pragma once

#include <credplug/plugin.h>

#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace credplug::runner {

// 3: Call frames carry the credential's state; OutState (ABI minor 4).
// 4: Op::Revoke, kHasRevoke (ABI minor 5).
constexpr uint32_t kProtocolVersion = 4;
constexpr std::string_view kMagic = "credplug-runner";
// Larger than any legitimate frame: a response body is capped by the host's
// max_response_bytes, an output by plugin.h's limits.
constexpr size_t kMaxFrameBytes = 64u << 20;
// The runner's descriptors: the channel, always this number.
constexpr int kChannelFd = 3;
// The flags of a request to the zygote runner (host/runner/zygote.hpp):
// the runner enters its namespaces; it is a spare, told its plugin later.
constexpr uint8_t kZygoteNamespaces = 1;
constexpr uint8_t kZygoteSpare = 2;

enum class Msg : uint8_t {
  // runner -> host
  Hello = 1,         // str magic, u32 version
  Loaded = 2,        // str id, display_name, version, schema; u32 abi_major, abi_minor, flags, default_lifetime_s
  LoadFailed = 3,    // str message
  Log = 4,           // u32 level, str message
  AddSecret = 5,     // str value
  OutHeader = 6,     // str name, value; u32 flags
  OutExpiresAt = 7,  // i64 unix seconds
  OutInfo = 8,       // str key, value; u32 flags
  SetError = 9,      // u32 code, str message
  HttpSend = 10,     // str method, url; u32 header count, str name, value ...; str body; u32 timeout_ms, flags;
                     // str client certificate, key, passphrase ("": none)
  Done = 11,         // u32 status; u64 instance (Create only)
  Stopped = 12,      // u32 system call number, str its name: the sandbox ends the runner for it
  OutQuery = 13,     // str name, value; u32 flags
  OutState = 14,     // str the state's JSON text
  OutUrl = 15,       // str the authorization request's URL
  // host -> runner
  Call = 64,        // u8 op, u64 instance, str credential JSON (Create) or the request (Sign: encode_sign_request;
                    // Authorize: encode_authorization),
                    // u8 has state, str the credential's state (plugin.h, state())
  HttpResult = 65,  // u32 rc, u32 status, str error; u32 header count, str name, value ...; str body
  Load = 66,        // str the plugin file's absolute path: to a spare runner, once, before anything else
};

enum class Op : uint8_t {
  Create = 1,
  Authenticate = 2,
  Test = 3,
  Refresh = 4,
  Destroy = 5,
  Sign = 6,
  Authorize = 7,
  Revoke = 8,
};

// Loaded flags.
constexpr uint32_t kHasTest = 0x1, kHasRefresh = 0x2, kHasDestroy = 0x4, kConcurrentInstance = 0x8, kHasSign = 0x10,
                   kHasAuthorize = 0x20, kHasRevoke = 0x40;

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Frame {
  Msg type{};
  uint32_t call = 0;
  std::string payload;  // may hold secrets: wiped by its owner (wipe())
};

// explicit_bzero: both ends handle secrets in these buffers.
void wipe(std::string &s);

class Encoder {
 public:
  Encoder &u8(uint8_t v) { return raw(&v, sizeof v); }
  Encoder &u32(uint32_t v) { return raw(&v, sizeof v); }
  Encoder &u64(uint64_t v) { return raw(&v, sizeof v); }
  Encoder &i64(int64_t v) { return raw(&v, sizeof v); }
  Encoder &str(std::string_view s) {
    u32(uint32_t(s.size()));
    out_.append(s);
    return *this;
  }
  std::string &bytes() { return out_; }

 private:
  Encoder &raw(const void *p, size_t n) {
    out_.append(static_cast<const char *>(p), n);
    return *this;
  }
  std::string out_;
};

// Reads what an Encoder wrote; throws ProtocolError past the end.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  uint8_t u8() { return fixed<uint8_t>(); }
  uint32_t u32() { return fixed<uint32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  int64_t i64() { return fixed<int64_t>(); }
  std::string_view str();
  // A string handed on as a C string: a NUL inside would silently cut it.
  std::string_view cstr();
  // Throws unless every byte was read.
  void end() const;

 private:
  template <class T>
  T fixed() {
    if (in_.size() - pos_ < sizeof(T)) throw ProtocolError("a frame ends in the middle of a field");
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

// A Call frame's payload; `state` is the credential's state as the plugin's
// state() gives it (nullptr: none).
std::string encode_call(Op op, uint64_t instance, std::string_view credential_json = {},
                        const std::string *state = nullptr);

// sign()'s request as a Call frame carries it: str method, url; u32 header
// count, str name, value ...; u8 has body, str body; str body_sha256; i64
// time_ms.
std::string encode_sign_request(const credplug_sign_request &req);

// The request decoded in the runner: strings it owns, and the struct the
// plugin sees pointing into them. Throws ProtocolError.
class DecodedSignRequest {
 public:
  explicit DecodedSignRequest(std::string_view payload);
  DecodedSignRequest(const DecodedSignRequest &) = delete;
  DecodedSignRequest &operator=(const DecodedSignRequest &) = delete;
  ~DecodedSignRequest();
  const credplug_sign_request &get() const { return req_; }

 private:
  std::vector<std::string> strings_;  // method, url, body, body_sha256, then the headers
  std::vector<const char *> headers_;
  credplug_sign_request req_{};
};

// authorize()'s values as a Call frame carries them: str redirect_uri, state,
// code_challenge, code_challenge_method; u8 has code, str code,
// code_verifier.
std::string encode_authorization(const credplug_authorization &auth);

// The values decoded in the runner, as DecodedSignRequest. Throws ProtocolError.
class DecodedAuthorization {
 public:
  explicit DecodedAuthorization(std::string_view payload);
  DecodedAuthorization(const DecodedAuthorization &) = delete;
  DecodedAuthorization &operator=(const DecodedAuthorization &) = delete;
  ~DecodedAuthorization();
  const credplug_authorization &get() const { return auth_; }

 private:
  std::string strings_[6];
  credplug_authorization auth_{};
};

// Appends a whole frame to `out`: frames that need no answer are batched and
// written with the next one that does (one system call, not one each).
void append_frame(std::string &out, Msg type, uint32_t call, std::string_view payload);

// Writes bytes (MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE). False
// when the peer is gone.
bool write_all(int fd, std::string_view bytes);

// append_frame() and write_all() of one frame.
bool write_frame(int fd, Msg type, uint32_t call, std::string_view payload);

// How long a reader expecting a frame soon polls before it sleeps
// (FrameReader::set_spin): 0 where this process may run on one CPU only,
// where polling would take the CPU from the very peer it waits for.
// Benchmark 7b0: one call's round trip 47.6 -> 17.0 us on the project's VM.
std::chrono::nanoseconds spin_before_sleep();

// Reads frames from a stream, as many bytes per system call as have arrived.
// One reader at a time.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  ~FrameReader() { wipe(buffer_); }

  // Before it sleeps in the kernel for the next bytes, the reader polls for
  // up to `spin` (0: never). A thread woken from sleep costs tens of µs on a
  // virtual machine (an inter-processor interrupt to a halted vCPU, then the
  // scheduler); an answer expected within a few µs is cheaper to wait for
  // awake. Holds from the next read on: the reading thread sets it for the
  // wait it is about to make.
  void set_spin(std::chrono::nanoseconds spin) { spin_ = spin; }

  // The next frame, or nullopt at end of stream. Throws ProtocolError for a
  // frame over kMaxFrameBytes or cut short.
  std::optional<Frame> next();
  // The same, waiting at most until `deadline`: sets *timed_out (and
  // returns nullopt) when it passes. A frame begun but not finished by then
  // throws ProtocolError: the stream cannot be resumed.
  std::optional<Frame> next(std::chrono::steady_clock::time_point deadline, bool *timed_out);

 private:
  std::optional<Frame> read(const std::chrono::steady_clock::time_point *deadline, bool *timed_out);
  // The first whole frame buffered, taken out; else nothing, with
  // *frame_bytes the size of the frame begun (0: its header is not in yet).
  std::optional<Frame> take_frame(size_t *frame_bytes);
  void make_room(size_t frame_bytes);
  // Bytes read while spinning (0: end of stream), or -1: none came.
  ssize_t spin_read(const std::chrono::steady_clock::time_point *deadline);
  int fd_;
  std::chrono::nanoseconds spin_{0};
  bool is_socket_ = true;  // until recv() says otherwise
  // Its whole size is room to read into (never zero-filled per read): the
  // bytes read and not yet returned are [start_, end_).
  std::string buffer_;
  size_t start_ = 0, end_ = 0;
};

}  // namespace credplug::runner
