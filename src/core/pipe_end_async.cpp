// Asynchronous operations on a pipe end: reads, writes and connects that wait without a thread.
//
// A pending operation sits in the end's queue. Whoever can make it progress serves the queue:
// the agent thread when the peer rings the doorbell (it asked for one by setting kWaitDoorbell
// in its own segment), when the peer hangs up or the state changes, and the initiating call
// itself. Completions run after every lock is released, exactly once each.
#include <algorithm>

#include "core/pipe_end_core.hpp"

namespace sluice::core {
namespace {

PipeEndCore::IoResult failure(std::error_code e) { return {e, 0, false}; }

}  // namespace

void PipeEndCore::run(Completions& done) noexcept {
  for (auto& [callback, result] : done) {
    try {
      callback(result);
    } catch (...) {
      // A callback must not throw into the engine; the API layers' callbacks only post.
    }
  }
  done.clear();
}

void PipeEndCore::serve_locked(Completions& done) {
  if (!conn_) return;
  bool message_mode = read_mode_.load() == ReadMode::kMessage;
  while (!reads_.empty()) {
    AsyncOp& op = reads_.front();
    auto r = read_locked(op.buffer, message_mode, false, &op.partial);
    if (!r && (r.error() == errc::kNoData || r.error() == errc::kIoPending)) break;
    done.emplace_back(std::move(op.done),
                      r ? IoResult{{}, r->bytes, r->more_data} : failure(r.error()));
    reads_.pop_front();
  }
  while (!writes_.empty()) {
    AsyncOp& op = writes_.front();
    WriteProgress& w = op.write;
    if (!w.queued && !append_some_locked(w) && !w.error) {
      if (std::error_code gone = write_blocked_error()) {
        done.emplace_back(std::move(op.done), failure(gone));
        writes_.pop_front();
        continue;
      }
      break;  // waiting for room in the ring
    }
    // As in write_locked: the peer's going is looked at only when the write is not done, and
    // then what it read once more (it publishes its reading first).
    std::error_code gone;
    if (w.error) {
      done.emplace_back(std::move(op.done), failure(w.error));
    } else if (conn_->channel.peer_has_read(w.must_have_read) ||
               ((gone = write_blocked_error()) && conn_->channel.peer_has_read(w.must_have_read))) {
      write_completed_locked(w);
      done.emplace_back(std::move(op.done), IoResult{{}, w.done, false});
    } else if (gone) {
      done.emplace_back(std::move(op.done), failure(gone));
    } else {
      break;  // waiting for the reader: the quota
    }
    writes_.pop_front();
  }
}

void PipeEndCore::serve_and_arm_locked(Completions& done) {
  if (!conn_) return;
  if (shared_) {  // its own thread waits for what stays pending (pipe_end_shared.cpp)
    serve_locked(done);
    if (!reads_.empty() || !writes_.empty()) start_shared_server_locked();
    return;
  }
  shm::SegmentHeader& own = conn_->channel.own();
  // Arm before the last look (the peer checks our flag after publishing), then look again.
  for (int round = 0; round < 2; ++round) {
    serve_locked(done);
    bool armed_now = false;
    auto arm = [&](std::atomic<std::uint32_t>& flag, bool wanted) {
      bool armed = flag.load(std::memory_order_relaxed) & shm::kWaitDoorbell;
      if (wanted && !armed) {
        flag.fetch_or(shm::kWaitDoorbell, std::memory_order_relaxed);
        armed_now = true;
      } else if (!wanted && armed) {
        flag.fetch_and(~shm::kWaitDoorbell, std::memory_order_relaxed);
      }
    };
    arm(own.waiting_for_data, !reads_.empty());
    arm(own.waiting_for_space, !writes_.empty());
    // The head read is a waiting read request: the peer's no-wait writes hand bytes to it.
    std::uint64_t request = 0;
    if (!reads_.empty()) {
      const AsyncOp& head = reads_.front();
      bool message_mode = read_mode_.load() == ReadMode::kMessage;
      request = shm::kPendingRead | (message_mode ? shm::kPendingMessage : 0) |
                (head.buffer.size() - head.partial);
    }
    own.pending_read.store(request, std::memory_order_seq_cst);
    if (!armed_now) return;
    conn_->channel.barrier_before_sleep();
  }
}

PipeEndCore::Started PipeEndCore::start_read(std::span<std::byte> buffer, IoCallback callback) {
  Completions done;
  Started s;
  {
    // Not a plain lock: the agent may have asked for a serve while we held io_mu_ (it only
    // try-locks), and nobody else would look again.
    SyncIo io(*this);
    if (!has(kReadData)) return {failure(errc::kAccessDenied), 0};
    if (auto e = io_state_error()) return {failure(e), 0};
    if (reads_.empty()) {
      bool message_mode = read_mode_.load() == ReadMode::kMessage;
      std::size_t partial = 0;
      auto r = read_locked(buffer, message_mode, false, &partial);
      if (r) return {IoResult{{}, r->bytes, r->more_data}, 0};
      bool would_wait = r.error() == errc::kNoData || r.error() == errc::kIoPending;
      if (!would_wait) return {failure(r.error()), 0};
      // Wait mode decides, not the handle: a no-wait end fails at once, overlapped or not.
      if (r.error() == errc::kNoData && wait_mode_.load() == WaitMode::kNoWait)
        return {failure(errc::kNoData), 0};
      s.id = next_op_id_++;
      reads_.push_back(AsyncOp{s.id, std::move(callback), buffer, partial, {}});
    } else {
      s.id = next_op_id_++;
      reads_.push_back(AsyncOp{s.id, std::move(callback), buffer, 0, {}});
    }
    serve_and_arm_locked(done);
  }
  run(done);
  return s;
}

PipeEndCore::Started PipeEndCore::start_write(std::span<const std::byte> data,
                                              IoCallback callback) {
  Completions done;
  Started s;
  {
    // Not a plain lock: the agent may have asked for a serve while we held io_mu_ (it only
    // try-locks), and nobody else would look again.
    SyncIo io(*this);
    if (!has(kWriteData)) return {failure(errc::kAccessDenied), 0};
    if (auto e = io_state_error()) return {failure(e), 0};
    if (peer_gone()) return {failure(errc::kNoData), 0};
    if (data.empty() && type_ == PipeType::kByte) return {IoResult{}, 0};
    if (wait_mode_.load() == WaitMode::kNoWait) {
      auto n = write_nowait_locked(data);
      return {n ? IoResult{{}, *n, false} : failure(n.error()), 0};
    }
    AsyncOp op;
    op.write.data = data;
    if (writes_.empty()) {
      if (append_some_locked(op.write) && conn_->channel.peer_has_read(op.write.must_have_read)) {
        write_completed_locked(op.write);
        return {IoResult{{}, data.size(), false}, 0};
      }
      if (op.write.error) return {failure(op.write.error), 0};
    }
    s.id = op.id = next_op_id_++;
    op.done = std::move(callback);
    writes_.push_back(std::move(op));
    serve_and_arm_locked(done);
  }
  run(done);
  return s;
}

PipeEndCore::Started PipeEndCore::start_transact(std::span<const std::byte> request,
                                                 std::span<std::byte> reply, IoCallback callback) {
  Completions done;
  Started s;
  {
    // Not a plain lock: the agent may have asked for a serve while we held io_mu_ (it only
    // try-locks), and nobody else would look again.
    SyncIo io(*this);
    if (auto e = transact_precondition_locked()) return {failure(e), 0};
    auto written = write_locked(request, false);
    if (!written) return {failure(written.error()), 0};
    std::size_t partial = 0;
    auto r = read_locked(reply, true, false, &partial);
    if (r) return {IoResult{{}, r->bytes, r->more_data}, 0};
    if (r.error() != errc::kNoData && r.error() != errc::kIoPending) return {failure(r.error()), 0};
    // The reply is awaited whatever the wait mode: the transaction itself was accepted.
    s.id = next_op_id_++;
    reads_.push_back(AsyncOp{s.id, std::move(callback), reply, partial, {}});
    serve_and_arm_locked(done);
  }
  run(done);
  return s;
}

PipeEndCore::Started PipeEndCore::start_connect(IoCallback callback) {
  if (!server_) return {failure(errc::kInvalidFunction), 0};
  std::lock_guard io(io_mu_);
  std::lock_guard lock(state_mu_);
  if (shared_) return {failure(errc::kNotSupported), 0};  // TODO(compat): listen as a holder
  switch (state_.load()) {
    case InstanceState::kClosed:
      return {failure(errc::kInvalidHandle), 0};
    case InstanceState::kConnected:
      return {failure(peer_gone() ? errc::kNoData : errc::kPipeConnected), 0};
    case InstanceState::kDisconnected:
      if (auto listening = start_listening_locked(); !listening)
        return {failure(listening.error()), 0};
      break;
    case InstanceState::kListening:
      break;
  }
  if (wait_mode_.load() == WaitMode::kNoWait) return {failure(errc::kPipeListening), 0};
  Started s;
  s.id = next_op_id_++;
  connects_.push_back(AsyncOp{s.id, std::move(callback), {}, 0, {}});
  return s;
}

void PipeEndCore::complete_connects(std::error_code result) {
  Completions done;
  {
    std::lock_guard lock(state_mu_);
    for (auto& op : connects_) done.emplace_back(std::move(op.done), IoResult{result, 0, false});
    connects_.clear();
  }
  run(done);
}

std::size_t PipeEndCore::cancel(std::uint64_t id) {
  Completions done;
  {
    // Not a plain lock: the agent may have asked for a serve while we held io_mu_ (it only
    // try-locks), and nobody else would look again.
    SyncIo io(*this);
    auto take = [&](auto& queue) {
      for (auto it = queue.begin(); it != queue.end();) {
        if (id == 0 || it->id == id) {
          done.emplace_back(std::move(it->done), failure(errc::kOperationAborted));
          it = queue.erase(it);
        } else {
          ++it;
        }
      }
    };
    for (const AsyncOp& op : reads_) {  // only the first can have begun a message
      if ((id == 0 || op.id == id) && op.partial > 0)
        carry_.assign(op.buffer.begin(),
                      op.buffer.begin() + static_cast<std::ptrdiff_t>(op.partial));
    }
    take(reads_);
    // A write the reader has taken whole completes, as on Windows when the cancellation comes
    // too late; the others are withdrawn.
    for (auto it = writes_.begin(); it != writes_.end();) {
      if ((id == 0 || it->id == id) && withdraw_locked(it->write)) {
        write_completed_locked(it->write);
        done.emplace_back(std::move(it->done), IoResult{{}, it->write.done, false});
        it = writes_.erase(it);
      } else {
        ++it;
      }
    }
    take(writes_);
    {
      std::lock_guard lock(state_mu_);
      take(connects_);  // the instance stays listening
    }
    serve_and_arm_locked(done);  // later operations may move up
  }
  kick_shared_server();  // a shared end's server thread may have nothing left to wait for
  std::size_t cancelled = std::count_if(done.begin(), done.end(), [](const auto& d) {
    return d.second.error == errc::kOperationAborted;
  });
  run(done);
  return cancelled;
}

void PipeEndCore::fail_pending_locked(Completions& done, std::error_code reads,
                                      std::error_code writes) {
  for (auto& op : reads_) done.emplace_back(std::move(op.done), failure(reads));
  for (auto& op : writes_) done.emplace_back(std::move(op.done), failure(writes));
  reads_.clear();
  writes_.clear();
}

void PipeEndCore::serve_pending() {
  if (is_shared()) {  // the agent's news (a hang-up) for the shared server thread
    kick_shared_server();
    return;
  }
  serve_requested_.store(true);
  serve_if_requested();
}

void PipeEndCore::serve_if_requested() noexcept {
  // The request is raised before either side looks: whoever holds io_mu_ last sees it.
  if (!serve_requested_.load() || !io_mu_.try_lock()) return;
  Completions done;
  // A shared end is served by its own thread: serving here would touch its state without the
  // end lock (clearing the read request another holder's waiting read announced).
  if (serve_requested_.exchange(false) && !shared_) serve_and_arm_locked(done);
  io_mu_.unlock();
  run(done);
}

}  // namespace sluice::core
