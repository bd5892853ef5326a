// Handle table, default registry, last error, and the handle functions (handleapi.h).
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "os/linux/errno_map.hpp"
#include "os/linux/file.hpp"
#include "os/linux/kernel_pipe.hpp"
#include "sluice/process.hpp"
#include "win32/exit_codes.hpp"
#include "win32/handle_transfer.hpp"
#include "win32/objects.hpp"

namespace sluice::win32 {
namespace {

thread_local DWORD t_last_error = 0;

constexpr std::uintptr_t kPseudoProcess = static_cast<std::uintptr_t>(-1);
constexpr std::uintptr_t kPseudoThread = static_cast<std::uintptr_t>(-2);

bool is_pseudo(HANDLE h) noexcept {
  auto v = reinterpret_cast<std::uintptr_t>(h);
  return v == kPseudoProcess || v == kPseudoThread;
}

int std_index(DWORD n) noexcept {
  if (n == STD_INPUT_HANDLE) return 0;
  if (n == STD_OUTPUT_HANDLE) return 1;
  if (n == STD_ERROR_HANDLE) return 2;
  return -1;
}

}  // namespace

FdObject::~FdObject() {
  if (owned) os::close_fd(fd);
}

std::mutex& io_mutex() noexcept {
  static std::mutex* mu = new std::mutex;
  return *mu;
}

void set_last_error(DWORD code) noexcept { t_last_error = code; }

DWORD win32_code(std::error_code ec) noexcept {
  if (!ec) return ERROR_SUCCESS;
  if (ec.category() == sluice::category()) return static_cast<DWORD>(ec.value());
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    return static_cast<DWORD>(os::from_errno(ec.value()).value());
  }
  return ERROR_GEN_FAILURE;
}

// ---- handle table ----------------------------------------------------------------------------

std::size_t HandleTable::index_of(HANDLE h) noexcept {
  auto v = reinterpret_cast<std::uintptr_t>(h);
  if (v == 0 || v % 4 != 0 || v / 4 > kMaxHandles) return SIZE_MAX;
  return v / 4 - 1;
}

namespace {
struct SlotLock {
  std::atomic<bool>& busy;
  explicit SlotLock(std::atomic<bool>& b) noexcept : busy(b) {
    while (busy.exchange(true, std::memory_order_acquire)) {
      while (busy.load(std::memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
      }
    }
  }
  ~SlotLock() { busy.store(false, std::memory_order_release); }
};
}  // namespace

std::shared_ptr<Object> HandleTable::Slot::load() const noexcept {
  SlotLock lock(busy);
  return object;
}

std::shared_ptr<Object> HandleTable::Slot::load(DWORD* rights) const noexcept {
  SlotLock lock(busy);
  *rights = access;
  return object;
}

std::shared_ptr<Object> HandleTable::Slot::exchange(std::shared_ptr<Object> next,
                                                    DWORD rights) noexcept {
  {
    SlotLock lock(busy);
    object.swap(next);
    access = rights;
  }
  return next;  // released by the caller, outside the slot's lock
}

HandleTable::~HandleTable() {
  for (auto& chunk : chunks_) delete[] chunk.load(std::memory_order_relaxed);
}

const HandleTable::Slot* HandleTable::find(std::size_t index) const noexcept {
  if (index >= kMaxHandles) return nullptr;
  // Acquire: pairs with the release that published the chunk, so its slots are constructed.
  const Slot* chunk = chunks_[index / kChunkSlots].load(std::memory_order_acquire);
  return chunk ? &chunk[index % kChunkSlots] : nullptr;
}

HandleTable::Slot& HandleTable::slot_locked(std::size_t index) {
  if (index >= kMaxHandles) throw std::bad_alloc();
  auto& chunk = chunks_[index / kChunkSlots];
  Slot* slots = chunk.load(std::memory_order_relaxed);
  if (!slots) {
    slots = new Slot[kChunkSlots];
    chunk.store(slots, std::memory_order_release);
  }
  return slots[index % kChunkSlots];
}

HANDLE HandleTable::insert(std::shared_ptr<Object> object, DWORD flags) {
  DWORD access = object ? object_rights(*object) : 0;
  return insert(std::move(object), flags, access);
}

HANDLE HandleTable::insert(std::shared_ptr<Object> object, DWORD flags, DWORD access) {
  std::lock_guard lock(mu_);
  std::size_t index;
  if (free_head_ < free_.size()) {
    index = free_[free_head_];
  } else {
    index = size_;
  }
  Slot& slot = slot_locked(index);  // may throw: nothing is taken yet
  if (free_head_ < free_.size()) {
    ++free_head_;
    if (free_head_ > 1024 && free_head_ * 2 > free_.size()) {
      free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(free_head_));
      free_head_ = 0;
    }
  } else {
    ++size_;
  }
  // Flags first: a lookup that finds the object finds its flags with it.
  slot.flags.store(flags, std::memory_order_relaxed);
  slot.exchange(std::move(object), access);
  return reinterpret_cast<HANDLE>((index + 1) * 4);
}

bool HandleTable::insert_at(HANDLE value, std::shared_ptr<Object> object, DWORD flags) {
  DWORD access = object ? object_rights(*object) : 0;
  return insert_at(value, std::move(object), flags, access);
}

bool HandleTable::insert_at(HANDLE value, std::shared_ptr<Object> object, DWORD flags,
                            DWORD access) {
  std::size_t index = index_of(value);
  if (index == SIZE_MAX || index > 65536) return false;
  std::lock_guard lock(mu_);
  if (index < size_ && find(index)->load()) return false;
  Slot& slot = slot_locked(index);
  while (size_ <= index) free_.push_back(size_++);
  // Take `index` out of the free list.
  for (std::size_t i = free_head_; i < free_.size(); ++i) {
    if (free_[i] == index) {
      free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  slot.flags.store(flags, std::memory_order_relaxed);
  slot.exchange(std::move(object), access);
  return true;
}

std::shared_ptr<Object> HandleTable::get(HANDLE h) const {
  const Slot* slot = find(index_of(h));
  return slot ? slot->load() : nullptr;
}

std::shared_ptr<Object> HandleTable::get(HANDLE h, DWORD* access) const {
  const Slot* slot = find(index_of(h));
  return slot ? slot->load(access) : nullptr;
}

std::optional<Entry> HandleTable::entry(HANDLE h) const {
  const Slot* slot = find(index_of(h));
  if (!slot) return std::nullopt;
  DWORD access = 0;
  auto object = slot->load(&access);
  if (!object) return std::nullopt;
  return Entry{std::move(object), slot->flags.load(std::memory_order_relaxed), access};
}

bool HandleTable::set_flags(HANDLE h, DWORD mask, DWORD flags) {
  std::lock_guard lock(mu_);
  const Slot* found = find(index_of(h));
  if (!found || !found->load()) return false;
  auto& f = const_cast<Slot*>(found)->flags;
  f.store((f.load(std::memory_order_relaxed) & ~mask) | (flags & mask), std::memory_order_relaxed);
  return true;
}

std::error_code HandleTable::close(HANDLE h) {
  std::shared_ptr<Object> released;
  {
    std::size_t index = index_of(h);
    std::lock_guard lock(mu_);
    const Slot* found = find(index);
    if (!found || !found->load()) return errc::kInvalidHandle;
    Slot& slot = const_cast<Slot&>(*found);
    if (slot.flags.load(std::memory_order_relaxed) & HANDLE_FLAG_PROTECT_FROM_CLOSE)
      return errc::kInvalidHandle;
    released = slot.exchange(nullptr, 0);
    slot.flags.store(0, std::memory_order_relaxed);
    free_.push_back(index);
  }
  return {};
}

std::vector<std::pair<HANDLE, Entry>> HandleTable::inheritable() {
  std::vector<std::pair<HANDLE, Entry>> out;
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < size_; ++i) {
    const Slot* slot = find(i);
    if (slot->flags.load(std::memory_order_relaxed) & HANDLE_FLAG_INHERIT) {
      DWORD access = 0;
      if (auto object = slot->load(&access))
        out.emplace_back(
            reinterpret_cast<HANDLE>((i + 1) * 4),
            Entry{std::move(object), slot->flags.load(std::memory_order_relaxed), access});
    }
  }
  return out;
}

// ---- rights ------------------------------------------------------------------------------------

namespace {
constexpr DWORD kAllRights = ~DWORD{0};
constexpr DWORD kEventQueryState = 0x0001;  // EVENT_QUERY_STATE ("Synchronization Object
                                            // Security and Access Rights")
}  // namespace

DWORD object_rights(const Object& object) noexcept {
  switch (object.kind()) {
    case Kind::kFd: {
      auto& file = static_cast<const FdObject&>(object);
      return (file.can_read ? FILE_GENERIC_READ : 0) | (file.can_write ? FILE_GENERIC_WRITE : 0);
    }
    // CreatePipe's read handle has GENERIC_READ and FILE_WRITE_ATTRIBUTES, its write handle
    // GENERIC_WRITE and FILE_READ_ATTRIBUTES ("Anonymous Pipe Security and Access Rights"), so
    // each end can still get and set the other attributes of its handle state.
    case Kind::kAnonRead:
      return FILE_GENERIC_READ | FILE_WRITE_ATTRIBUTES;
    case Kind::kAnonWrite:
      return FILE_GENERIC_WRITE | FILE_READ_ATTRIBUTES;
    case Kind::kEvent:
      return static_cast<const EventObject&>(object).access;
    case Kind::kToken:
      return static_cast<const TokenObject&>(object).access;
    default:
      // A named-pipe end that arrived from another process (its end refuses the direction it
      // was not opened for), threads, processes, ports: nothing checks the handle's rights.
      return kAllRights;
  }
}

DWORD map_generic_rights(Kind kind, DWORD desired) noexcept {
  // The GENERIC_MAPPING of each object type: "File Security and Access Rights" for files and
  // pipes, "Synchronization Object Security and Access Rights" for events. Bits the type does
  // not define are dropped rather than refused, as the object manager does for a duplicate.
  struct Mapping {
    DWORD read, write, execute, all;
  };
  Mapping m;
  if (is_file_kind(kind)) {
    m = {FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS};
  } else if (kind == Kind::kEvent) {
    m = {STANDARD_RIGHTS_READ | kEventQueryState, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
         STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, EVENT_ALL_ACCESS};
  } else {
    return desired;  // nothing checks these kinds' rights
  }
  DWORD out = desired & m.all;
  if (desired & GENERIC_READ) out |= m.read;
  if (desired & GENERIC_WRITE) out |= m.write;
  if (desired & GENERIC_EXECUTE) out |= m.execute;
  if (desired & GENERIC_ALL) out |= m.all;
  return out;
}

// ---- globals -----------------------------------------------------------------------------------

Globals::Globals() {
  auto opened = Registry::open();
  if (opened) {
    registry.emplace(std::move(*opened));
  } else {
    registry_error = opened.error();
  }
  // The standard handles are handles on fds 0, 1 and 2 (not owned: closing the handle leaves
  // the C runtime's stdio alone). A child's inherited handles come after them.
  for (int fd = 0; fd < 3; ++fd) {
    // A descriptor that is not open gets what access mode 0 (O_RDONLY) gives; its reads fail.
    auto mode = os::access_mode(fd).value_or(os::AccessMode{.read = true, .write = false});
    std_handles[fd] =
        handles.insert(std::make_shared<FdObject>(fd, false, mode.read, mode.write), 0);
  }
  adopt_inherited_handles(handles, registry ? &*registry : nullptr);
  adopt_exit_code_channel();
}

Globals& globals() {
  static Globals* g = new Globals;
  return *g;
}

Registry* registry(std::error_code* error) {
  Globals& g = globals();
  if (g.registry) return &*g.registry;
  *error = g.registry_error;
  return nullptr;
}

namespace {
// Library initialisation: the registry's agent thread must exist before any thread
// impersonates (a thread created during impersonation inherits the client's identity).
[[maybe_unused]] const bool g_initialised =
    (globals(), start_handle_inbox(), install_port_sleep_observer(), true);
}  // namespace

// ---- text --------------------------------------------------------------------------------------

std::string to_utf8(const wchar_t* s, std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<std::uint32_t>(s[i]);
    // A UTF-16 surrogate pair (text from a 16-bit WCHAR source) is the one character it encodes.
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n) {
      auto low = static_cast<std::uint32_t>(s[i + 1]);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        ++i;
      }
    }
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::string to_utf8(const wchar_t* s) { return to_utf8(s, std::wcslen(s)); }

std::wstring from_utf8(const std::string& s) {
  std::wstring out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    std::uint32_t c;
    int extra;
    if (b < 0x80) {
      c = b;
      extra = 0;
    } else if ((b & 0xE0) == 0xC0) {
      c = b & 0x1F;
      extra = 1;
    } else if ((b & 0xF0) == 0xE0) {
      c = b & 0x0F;
      extra = 2;
    } else if ((b & 0xF8) == 0xF0) {
      c = b & 0x07;
      extra = 3;
    } else {
      out.push_back(static_cast<wchar_t>(0xFFFD));
      ++i;
      continue;
    }
    if (i + static_cast<std::size_t>(extra) >= s.size()) {
      out.push_back(static_cast<wchar_t>(0xFFFD));
      break;
    }
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      auto cont = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cont & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      c = (c << 6) | (cont & 0x3F);
    }
    if (!ok) {
      out.push_back(static_cast<wchar_t>(0xFFFD));
      ++i;
      continue;
    }
    out.push_back(static_cast<wchar_t>(c));
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

// ---- inherited handles -------------------------------------------------------------------------

// Format of SLUICE_WIN32_HANDLES (written by CreateProcess): entries separated by ';', each
// "<HANDLE value>/<fd>:<fd>.../<item>", the item as handle_transfer.hpp makes it (named and
// anonymous pipe ends, files, events). The descriptors arrive at the same numbers.
void adopt_inherited_handles(HandleTable& table, Registry* registry) {
  const char* env = std::getenv("SLUICE_WIN32_HANDLES");
  if (!env) return;
  std::string list = env;
  ::unsetenv("SLUICE_WIN32_HANDLES");  // not for grandchildren
  // Entries: "<HANDLE value>/<fd>:<fd>.../<item>;" (handle_transfer.hpp describes the item).
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t end = list.find(';', pos);
    if (end == std::string::npos) end = list.size();
    std::string entry = list.substr(pos, end - pos);
    pos = end + 1;
    std::size_t slash1 = entry.find('/');
    std::size_t slash2 = slash1 == std::string::npos ? slash1 : entry.find('/', slash1 + 1);
    if (slash2 == std::string::npos) continue;
    unsigned long value = std::strtoul(entry.c_str(), nullptr, 10);
    std::vector<os::UniqueFd> fds;
    bool valid = true;
    std::string numbers = entry.substr(slash1 + 1, slash2 - slash1 - 1);
    for (std::size_t from = 0; from <= numbers.size();) {
      std::size_t colon = numbers.find(':', from);
      if (colon == std::string::npos) colon = numbers.size();
      int fd = std::atoi(numbers.substr(from, colon - from).c_str());
      // Our descriptors are close-on-exec except while a CreateProcess hands them on.
      if (fd < 3 || !os::set_inheritable(fd, false)) valid = false;
      if (fd >= 3) fds.emplace_back(fd);
      from = colon + 1;
    }
    if (!valid || value == 0) continue;
    auto object = accept_incoming(registry, entry.substr(slash2 + 1), std::move(fds));
    if (object)
      table.insert_at(reinterpret_cast<HANDLE>(value), std::move(*object), HANDLE_FLAG_INHERIT);
  }
}

}  // namespace sluice::win32

using namespace sluice::win32;

extern "C" {

DWORD WINAPI GetLastError(void) { return t_last_error; }
VOID WINAPI SetLastError(DWORD dwErrCode) { t_last_error = dwErrCode; }

BOOL WINAPI CloseHandle(HANDLE hObject) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (is_pseudo(hObject)) return TRUE;  // closing a pseudo handle does nothing (Windows)
    // A find handle is no kernel handle on Windows either: FindClose closes it.
    if (auto object = globals().handles.get(hObject); object && object->kind() == Kind::kFind)
      return fail(ERROR_INVALID_HANDLE);
    if (auto ec = globals().handles.close(hObject)) return fail(ec);
    return TRUE;
  });
}

BOOL WINAPI DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle,
                            HANDLE hTargetProcessHandle, LPHANDLE lpTargetHandle,
                            DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwOptions) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    if (reinterpret_cast<std::uintptr_t>(hSourceProcessHandle) != kPseudoProcess) {
      return fail(globals().handles.get(hSourceProcessHandle) ? ERROR_NOT_SUPPORTED
                                                              : ERROR_INVALID_HANDLE);
    }
    if ((dwOptions & ~static_cast<DWORD>(DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS)) != 0) {
      return fail(ERROR_INVALID_PARAMETER);
    }
    DWORD source_access = 0;
    auto object = globals().handles.get(hSourceHandle, &source_access);
    if (!object) return fail(ERROR_INVALID_HANDLE);
    // DUPLICATE_SAME_ACCESS ignores dwDesiredAccess; otherwise the duplicate has exactly the
    // rights asked for (DuplicateHandle, Microsoft Learn). The page says a duplicate may have
    // more rights than its source in some cases but not for a file: a GENERIC_READ file handle
    // cannot become GENERIC_READ | GENERIC_WRITE, because a file object's rights were checked
    // once, at open, and there is nothing to check them against again. Pipe ends are file
    // objects too. An event's rights are checked against its security descriptor, which grants
    // its creator everything and which sluice does not keep for events: any event right is
    // given.
    DWORD access = source_access;
    BOOL ok = TRUE;
    if (!(dwOptions & DUPLICATE_SAME_ACCESS)) {
      access = map_generic_rights(object->kind(), dwDesiredAccess);
      if (is_file_kind(object->kind()) && (access & ~source_access) != 0) {
        ok = fail(ERROR_ACCESS_DENIED);
      }
    }
    if (ok && lpTargetHandle) {
      if (reinterpret_cast<std::uintptr_t>(hTargetProcessHandle) != kPseudoProcess) {
        // Another process: through its handle inbox (handle_transfer.hpp).
        auto target = globals().handles.get(hTargetProcessHandle);
        if (!target || target->kind() != Kind::kProcess ||
            static_cast<ProcessObject&>(*target).is_thread_handle) {
          ok = fail(ERROR_INVALID_HANDLE);
        } else {
          auto& process = static_cast<ProcessObject&>(*target);
          auto sent = send_to_process(process.target().pid(), object,
                                      bInheritHandle ? HANDLE_FLAG_INHERIT : 0, access, 5000,
                                      process.target().pidfd().get());
          if (sent) {
            *lpTargetHandle = *sent;
          } else {
            ok = fail(sent.error());
          }
        }
      } else {
        *lpTargetHandle =
            globals().handles.insert(object, bInheritHandle ? HANDLE_FLAG_INHERIT : 0, access);
      }
    }
    // DUPLICATE_CLOSE_SOURCE closes the source even when the duplication failed (Windows).
    if (dwOptions & DUPLICATE_CLOSE_SOURCE) (void)globals().handles.close(hSourceHandle);
    return ok;
  });
}

BOOL WINAPI GetHandleInformation(HANDLE hObject, LPDWORD lpdwFlags) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    auto entry = globals().handles.entry(hObject);
    if (!entry) return fail(ERROR_INVALID_HANDLE);
    if (!lpdwFlags) return fail(ERROR_NOACCESS);
    *lpdwFlags = entry->flags;
    return TRUE;
  });
}

BOOL WINAPI SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    constexpr DWORD kKnown = HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE;
    if (!globals().handles.set_flags(hObject, dwMask & kKnown, dwFlags)) {
      return fail(ERROR_INVALID_HANDLE);
    }
    return TRUE;
  });
}

DWORD WINAPI GetFileType(HANDLE hFile) {
  return guarded<DWORD>(FILE_TYPE_UNKNOWN, [&]() -> DWORD {
    auto object = globals().handles.get(hFile);
    if (!object) {
      set_last_error(ERROR_INVALID_HANDLE);
      return FILE_TYPE_UNKNOWN;
    }
    switch (object->kind()) {
      case Kind::kNamedPipe:
      case Kind::kAnonRead:
      case Kind::kAnonWrite:
        return FILE_TYPE_PIPE;
      case Kind::kFd: {
        using sluice::os::FileType;
        auto type = sluice::os::file_type(static_cast<FdObject&>(*object).fd);
        if (!type) {
          set_last_error(ERROR_INVALID_HANDLE);
          return FILE_TYPE_UNKNOWN;
        }
        switch (*type) {
          case FileType::kFifo:
          case FileType::kSocket:
            return FILE_TYPE_PIPE;
          case FileType::kCharacterDevice:
            return FILE_TYPE_CHAR;
          case FileType::kRegular:
          case FileType::kBlockDevice:
            return FILE_TYPE_DISK;
          case FileType::kDirectory:
          case FileType::kOther:
            break;
        }
        set_last_error(NO_ERROR);
        return FILE_TYPE_UNKNOWN;
      }
      default:
        // Events, threads and processes are not files (Windows also reports NO_ERROR).
        set_last_error(NO_ERROR);
        return FILE_TYPE_UNKNOWN;
    }
  });
}

HANDLE WINAPI GetCurrentProcess(void) { return reinterpret_cast<HANDLE>(kPseudoProcess); }
DWORD WINAPI GetCurrentProcessId(void) { return static_cast<DWORD>(sluice::current_process_id()); }
HANDLE WINAPI GetCurrentThread(void) { return reinterpret_cast<HANDLE>(kPseudoThread); }
DWORD WINAPI GetCurrentThreadId(void) { return static_cast<DWORD>(sluice::current_thread_id()); }

HANDLE WINAPI GetStdHandle(DWORD nStdHandle) {
  return guarded<HANDLE>(INVALID_HANDLE_VALUE, [&]() -> HANDLE {
    int i = std_index(nStdHandle);
    if (i < 0) {
      set_last_error(ERROR_INVALID_HANDLE);
      return INVALID_HANDLE_VALUE;
    }
    Globals& g = globals();
    std::lock_guard lock(g.std_mu);
    return g.std_handles[i];
  });
}

BOOL WINAPI SetStdHandle(DWORD nStdHandle, HANDLE hHandle) {
  return guarded<BOOL>(FALSE, [&]() -> BOOL {
    int i = std_index(nStdHandle);
    if (i < 0) return fail(ERROR_INVALID_HANDLE);
    Globals& g = globals();
    std::lock_guard lock(g.std_mu);
    g.std_handles[i] = hHandle;
    return TRUE;
  });
}

}  // extern "C"
