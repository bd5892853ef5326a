// The direction of a named pipe as PipeEndCore keeps it (access_): the PIPE_ACCESS_INBOUND,
// PIPE_ACCESS_OUTBOUND and PIPE_ACCESS_DUPLEX values of CreateNamedPipe's open mode (Microsoft
// Learn, "CreateNamedPipe"), seen from the server.
#pragma once

#include <cstdint>

namespace sluice::core {

constexpr std::uint32_t kAccessInbound = 1;
constexpr std::uint32_t kAccessOutbound = 2;
constexpr std::uint32_t kAccessDuplex = 3;

}  // namespace sluice::core
