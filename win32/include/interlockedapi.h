/* sluice — interlockedapi.h: the Interlocked family (winnt.h and interlockedapi.h on Windows).
 *
 * windows.h includes this header. Each function is a full barrier, as on x86 and x64 Windows,
 * and is an inline function over the compiler's __atomic built-ins (MSVC makes them compiler
 * intrinsics), so a program links no symbol for them. Return values as Microsoft documents:
 * Increment, Decrement and Add give the new value; Exchange, CompareExchange, ExchangeAdd, And,
 * Or and Xor give the value before. The Acquire, Release and NoFence forms are the full-barrier
 * ones (stronger than asked, never weaker).
 */
#include <windows.h>

#ifndef SLUICE_WIN32_INTERLOCKEDAPI_H_
#define SLUICE_WIN32_INTERLOCKEDAPI_H_

typedef long long LONG64;
typedef LONG64* PLONG64;
typedef unsigned long long ULONG64;
typedef ULONG64* PULONG64;

/* One function of the form `T name(T volatile* Target, T Value)` over an __atomic built-in. */
#define SLUICE_INTERLOCKED_BINARY(name, builtin, T)       \
  static __inline__ T name(T volatile* Target, T Value) { \
    return builtin(Target, Value, __ATOMIC_SEQ_CST);      \
  }

#define SLUICE_INTERLOCKED_OPS(suffix, T)                                                     \
  static __inline__ T InterlockedIncrement##suffix(T volatile* Addend) {                      \
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);                                   \
  }                                                                                           \
  static __inline__ T InterlockedDecrement##suffix(T volatile* Addend) {                      \
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);                                   \
  }                                                                                           \
  static __inline__ T InterlockedCompareExchange##suffix(T volatile* Destination, T ExChange, \
                                                         T Comperand) {                       \
    __atomic_compare_exchange_n(Destination, &Comperand, ExChange, 0, __ATOMIC_SEQ_CST,       \
                                __ATOMIC_SEQ_CST);                                            \
    return Comperand; /* the value before, whether or not it was replaced */                  \
  }                                                                                           \
  SLUICE_INTERLOCKED_BINARY(InterlockedExchange##suffix, __atomic_exchange_n, T)              \
  SLUICE_INTERLOCKED_BINARY(InterlockedExchangeAdd##suffix, __atomic_fetch_add, T)            \
  SLUICE_INTERLOCKED_BINARY(InterlockedAdd##suffix, __atomic_add_fetch, T)                    \
  SLUICE_INTERLOCKED_BINARY(InterlockedAnd##suffix, __atomic_fetch_and, T)                    \
  SLUICE_INTERLOCKED_BINARY(InterlockedOr##suffix, __atomic_fetch_or, T)                      \
  SLUICE_INTERLOCKED_BINARY(InterlockedXor##suffix, __atomic_fetch_xor, T)

SLUICE_INTERLOCKED_OPS(, LONG)
SLUICE_INTERLOCKED_OPS(64, LONG64)
SLUICE_INTERLOCKED_OPS(16, SHORT)
SLUICE_INTERLOCKED_BINARY(InterlockedAnd8, __atomic_fetch_and, char)
SLUICE_INTERLOCKED_BINARY(InterlockedOr8, __atomic_fetch_or, char)
SLUICE_INTERLOCKED_BINARY(InterlockedXor8, __atomic_fetch_xor, char)
SLUICE_INTERLOCKED_BINARY(InterlockedExchangePointer, __atomic_exchange_n, PVOID)
#undef SLUICE_INTERLOCKED_OPS
#undef SLUICE_INTERLOCKED_BINARY

static __inline__ PVOID InterlockedCompareExchangePointer(PVOID volatile* Destination,
                                                          PVOID Exchange, PVOID Comperand) {
  __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST,
                              __ATOMIC_SEQ_CST);
  return Comperand;
}

/* A full memory barrier (MemoryBarrier in winnt.h). */
#define MemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#define InterlockedIncrementAcquire InterlockedIncrement
#define InterlockedIncrementRelease InterlockedIncrement
#define InterlockedIncrementNoFence InterlockedIncrement
#define InterlockedDecrementAcquire InterlockedDecrement
#define InterlockedDecrementRelease InterlockedDecrement
#define InterlockedDecrementNoFence InterlockedDecrement
#define InterlockedExchangeAcquire InterlockedExchange
#define InterlockedExchangeNoFence InterlockedExchange
#define InterlockedCompareExchangeAcquire InterlockedCompareExchange
#define InterlockedCompareExchangeRelease InterlockedCompareExchange
#define InterlockedCompareExchangeNoFence InterlockedCompareExchange
#define InterlockedExchangeAddAcquire InterlockedExchangeAdd
#define InterlockedExchangeAddRelease InterlockedExchangeAdd
#define InterlockedExchangeAddNoFence InterlockedExchangeAdd
#define InterlockedIncrementAcquire64 InterlockedIncrement64
#define InterlockedDecrementAcquire64 InterlockedDecrement64
#define InterlockedCompareExchangeAcquire64 InterlockedCompareExchange64
#define InterlockedCompareExchangeRelease64 InterlockedCompareExchange64
#define InterlockedExchangePointerAcquire InterlockedExchangePointer
#define InterlockedExchangePointerNoFence InterlockedExchangePointer
#define InterlockedCompareExchangePointerAcquire InterlockedCompareExchangePointer
#define InterlockedCompareExchangePointerRelease InterlockedCompareExchangePointer
#define InterlockedCompareExchangePointerNoFence InterlockedCompareExchangePointer

#endif /* SLUICE_WIN32_INTERLOCKEDAPI_H_ */
