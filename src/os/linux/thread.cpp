#include "os/linux/thread.hpp"

#include <pthread.h>

namespace sluice::os {

Result<void> start_detached_thread(void* (*entry)(void*), void* argument, std::size_t stack_size) {
  pthread_attr_t attr;
  if (pthread_attr_init(&attr) != 0) return errc::kNotEnoughMemory;
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (stack_size >= 65536) pthread_attr_setstacksize(&attr, stack_size);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, entry, argument);
  pthread_attr_destroy(&attr);
  if (rc != 0) return errc::kNotEnoughMemory;
  return {};
}

void exit_thread() { pthread_exit(nullptr); }

}  // namespace sluice::os
