// Asymmetric memory barriers across processes (membarrier(2)).
//
// The data path's wake-up protocol is a Dekker handshake: a producer publishes, then checks
// whether the consumer sleeps; a consumer announces its sleep, then checks for data. Each side
// needs a full barrier between its store and its load. With membarrier the busy side (every
// message) gets away with a compiler barrier and the side about to sleep (rare, and about to pay
// a futex anyway) issues a barrier on every CPU that runs a registered process.
#pragma once

namespace sluice::os {

/// Registers this process as a target of expedited global barriers. Returns whether the kernel
/// supports them (it is then safe to rely on process_barrier()).
bool register_for_process_barriers() noexcept;

/// Whether register_for_process_barriers() succeeded in this process.
bool process_barriers_available() noexcept;

/// A full memory barrier on every CPU running a thread of a registered process (including this
/// one). Falls back to a local full fence when unavailable.
void process_barrier() noexcept;

}  // namespace sluice::os
