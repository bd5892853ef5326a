// sluice-bench — what the echo runner and its exec'd server and client processes exchange.
//
//   runner                         server (exec'd)            client i (exec'd), i = 0..N-1
//   spawn server  ─────────────►  serve(); kStarted  ──►
//   spawn clients ─────────────────────────────────────────►  kStarted
//   measure /proc of all (before)
//   go pipes: 8 bytes each ───────────────────────────────────►  connect all, one checked trip
//                                                        ◄──  kReady
//   measure /proc of all (after)
//   go pipes: t0 each ─────────────────────────────────────────►  rate: trips until t0 + rounds
//                                                              scale: one more trip on each
//                                                        ◄──  samples file, kDone
//   kill the group, read the files
//
// Records go over one pipe, each a single write() below PIPE_BUF, so they never interleave;
// each client has its own go pipe, one 8-byte value per phase.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::bench {

enum class EchoPhase : std::uint32_t { kStarted = 1, kReady, kDone, kError };

inline constexpr std::int32_t kEchoServerIndex = -1;

struct EchoRecord {
  std::int32_t who = kEchoServerIndex;  // client index, or kEchoServerIndex
  EchoPhase phase = EchoPhase::kError;
  char message[504] = {};
};
static_assert(sizeof(EchoRecord) == 512);

/// scratch/client-<i>.bin: per round, a std::uint64_t count and then count float latencies (µs).
inline std::string echo_samples_path(const std::string& scratch, int client) {
  return scratch + "/client-" + std::to_string(client) + ".bin";
}

}  // namespace sluice::bench
