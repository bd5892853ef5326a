#include "registry/pipe_namespace.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

namespace sluice::registry {
namespace {

constexpr unsigned kEntryMode = 0755;   // others list it, read `name` and reach the listeners
constexpr unsigned kMutexMode = 0600;   // nobody else can open it, so nobody else can lock it
constexpr unsigned kPublicMode = 0644;  // readable, so others can test the instance locks
constexpr const char* kMutexFile = "lock";
constexpr const char* kDescriptorFile = "name";
constexpr const char* kDescriptorTag = "sluice-pipe 4";  // 4: the name line is escaped
constexpr std::uint32_t kUnlimitedSlots = 65536;
constexpr int kEntryNames = 8;  // <key>.<uid>, then .1 to .7 when someone squats those
constexpr int kCreateAttempts = 32;

// When a creator published its first instance: the change time of its S file, which nobody
// can set, so nobody can claim to be older than they are. The kernel's clock for it is coarse
// (a tick of a few milliseconds), and a tie goes to the lower uid. So a creator other than
// root lets its tick pass before it looks for rivals, and yields to one in the same tick: a
// rival that comes after it is then always later. Root wins every tie and need not wait.
struct Stamp {
  os::ChangeTime kernel;
  bool set() const { return kernel.seconds != 0 || kernel.nanoseconds != 0; }
  friend auto operator<=>(const Stamp&, const Stamp&) = default;
};

// Compares stamps with "not stamped yet" as the latest: a creator that sees another unstamped
// took its own stamp earlier than the other one will.
bool earlier(const Stamp& a, const Stamp& b) {
  if (!a.set()) return false;
  if (!b.set()) return true;
  return a < b;
}

// The `name` file: the pipe's attributes and the entry's role.
struct EntryInfo {
  PipeAttributes pipe;
  bool creator = true;          // it created the name; else it joined owner_uid's
  std::uint32_t owner_uid = 0;  // the name's owner (the entry's own uid for a creator)
  Stamp owner_stamp;            // a joiner's: the owner's; a creator's is read from its S file
};

// The name as one line of the `name` file: a pipe name may hold any character but a backslash
// (Pipe Names, Microsoft Learn), a line feed too, so '%' and line feeds are escaped.
std::string escape_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%')
      out += "%25";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

bool unescape_line(const std::string& line, std::string* text) {
  text->clear();
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '%') {
      *text += line[i];
      continue;
    }
    std::string_view code = std::string_view(line).substr(i + 1, 2);
    if (code == "25")
      *text += '%';
    else if (code == "0A")
      *text += '\n';
    else
      return false;
    i += 2;
  }
  return true;
}

std::string encode(const EntryInfo& e) {
  const PipeAttributes& a = e.pipe;
  std::ostringstream out;
  out << kDescriptorTag << '\n'
      << a.access << ' ' << a.type << ' ' << a.max_instances << ' ' << a.default_timeout_ms << '\n'
      << escape_line(a.display) << '\n'
      << a.security << '\n'
      << (e.creator ? "creator" : "joiner") << ' ' << e.owner_uid << ' '
      << e.owner_stamp.kernel.seconds << ' ' << e.owner_stamp.kernel.nanoseconds << '\n';
  return out.str();
}

bool decode(const std::string& text, EntryInfo* e) {
  std::istringstream in(text);
  std::string tag, role, display;
  PipeAttributes& a = e->pipe;
  if (!std::getline(in, tag) || tag != kDescriptorTag) return false;
  if (!(in >> a.access >> a.type >> a.max_instances >> a.default_timeout_ms)) return false;
  in.ignore(1);
  if (!std::getline(in, display) || !unescape_line(display, &a.display) ||
      !std::getline(in, a.security))
    return false;
  if (!(in >> role >> e->owner_uid >> e->owner_stamp.kernel.seconds >>
        e->owner_stamp.kernel.nanoseconds))
    return false;
  if (role != "creator" && role != "joiner") return false;
  e->creator = role == "creator";
  return true;
}

std::string instance_file(std::uint32_t slot) { return "I" + std::to_string(slot); }

constexpr const char* kStampFile = "S";

// Stamps an entry that just published the first instance of a name, and lets the clock's
// tick pass when asked to.
Result<Stamp> publish_stamp(int entry, bool let_the_tick_pass) {
  auto file = os::create_unnamed_file(entry, 0, kPublicMode);
  if (!file) return file.error();
  os::unlink_at(entry, kStampFile);
  auto linked = os::link_file_at(file->get(), entry, kStampFile);  // sets the change time
  if (!linked) return linked.error();
  if (!*linked) return errc::kBusy;
  auto when = os::change_time(file->get());
  if (!when) return when.error();
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  while (let_the_tick_pass && os::coarse_time() <= *when &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  return Stamp{*when};
}

// A creator entry's stamp; unset while it has none yet.
Stamp read_stamp(int entry) {
  auto file = os::open_file_at(entry, kStampFile, 0, false);
  if (!file) return {};
  auto when = os::change_time(file->get());
  return when ? Stamp{*when} : Stamp{};
}

bool is_resource_error(const std::error_code& ec) {
  return ec == errc::kTooManyOpenFiles || ec == errc::kNotEnoughMemory;
}

// "<key>.<uid>" or "<key>.<uid>.<n>": the uid the name claims (fstat has the last word).
bool parse_entry_name(const std::string& file, const std::string& key, std::uint32_t* uid) {
  if (file.size() <= key.size() + 1 || file.compare(0, key.size(), key) != 0 ||
      file[key.size()] != '.')
    return false;
  const char* p = file.c_str() + key.size() + 1;
  char* end = nullptr;
  unsigned long v = std::strtoul(p, &end, 10);
  if (end == p || v > 0xFFFFFFFFul) return false;
  if (*end == '.') {
    char* rest = nullptr;
    std::strtoul(end + 1, &rest, 10);
    if (rest == end + 1 || *rest != '\0') return false;
  } else if (*end != '\0') {
    return false;
  }
  *uid = static_cast<std::uint32_t>(v);
  return true;
}

// A namespace key: 32 lower-case hex digits (parse_pipe_name's); anything else is not an entry.
bool is_key(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// Whether instance file `file` in `entry` is held by a live instance.
bool instance_is_live(int entry, const std::string& file) {
  auto fd = os::open_file_at(entry, file, 0, false);
  return fd && os::byte_is_write_locked(fd->get(), 0);
}

std::uint32_t live_instances(int entry) {
  auto files = os::list_directory(entry, "I");
  if (!files) return 0;
  std::uint32_t n = 0;
  for (const auto& f : *files) n += instance_is_live(entry, f);
  return n;
}

// Whether an entry has a live instance. Instance files go with their instance (only a killed
// server leaves one), so the first one looked at nearly always answers.
bool any_live_instance(int entry) {
  auto files = os::list_directory(entry, "I");
  if (!files) return false;
  for (const auto& f : *files)
    if (instance_is_live(entry, f)) return true;
  return false;
}

// The lowest slot without an instance file. Files go with their instances, so a present file
// is nearly always a live instance; a killed server's stays until the entry is empty.
std::uint32_t free_slot(int entry) {
  auto files = os::list_directory(entry, "I");
  std::vector<bool> taken;
  if (files) {
    for (const auto& f : *files) {
      char* end = nullptr;
      unsigned long slot = std::strtoul(f.c_str() + 1, &end, 10);
      if (end == f.c_str() + 1 || *end != '\0' || slot >= kUnlimitedSlots) continue;
      if (slot >= taken.size()) taken.resize(slot + 1);
      taken[slot] = true;
    }
  }
  std::uint32_t slot = 0;
  while (slot < taken.size() && taken[slot]) ++slot;
  return slot;
}

// Takes the entry's mutex; an empty result when the entry was removed meanwhile (its mutex
// file is gone: whoever waits for it must start again).
Result<os::UniqueFd> lock_entry(int entry, bool create, bool wait) {
  auto mutex = os::open_file_at(entry, kMutexFile, kMutexMode, create);
  if (!mutex) return mutex.error();
  auto locked = os::lock_byte(mutex->get(), 0, true, wait);
  if (!locked) return locked.error();
  if (!*locked) return errc::kBusy;
  auto links = os::link_count(mutex->get());
  if (!links) return links.error();
  if (*links == 0) return errc::kFileNotFound;
  return std::move(*mutex);
}

// What an entry's `name` file says.
Result<EntryInfo> read_entry(int entry) {
  auto descriptor = os::open_file_at(entry, kDescriptorFile, 0, false);
  if (!descriptor) return descriptor.error();
  auto text = os::read_small_file(descriptor->get(), 8192);
  if (!text) return text.error();
  EntryInfo info;
  if (!decode(*text, &info)) return errc::kBadPipe;
  return info;
}

// Removes every file of an entry but its mutex: what instances that are all gone left. Under
// the entry's mutex.
void clear_entry_locked(int entry) {
  auto names = os::list_directory(entry, "");
  if (names)
    for (const auto& n : *names)
      if (n != kMutexFile) os::unlink_at(entry, n);
}

// Removes everything in an entry that has no live instance, then the entry. Under its mutex.
void remove_entry_locked(int ns, const std::string& file, int entry) {
  clear_entry_locked(entry);
  // The mutex goes last: who opens it from now on makes a new one, in an entry that is then
  // not empty, so the rmdir below fails and their entry lives on.
  os::unlink_at(entry, kMutexFile);
  os::remove_directory_at(ns, file);
}

}  // namespace

struct PipeNamespace::Scan {
  os::UniqueFd dir;
  std::string file;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;  // the directory's group: its owner's when it made it
  EntryInfo info;
};

Result<PipeNamespace> PipeNamespace::open(std::string directory, unsigned create_mode,
                                          JoinCheck may_join) {
  auto dir = os::open_directory(directory, create_mode, create_mode != 0);
  if (!dir) return dir.error();
  auto safe = os::check_directory_is_safe(dir->get());
  if (!safe) return safe.error();
  PipeNamespace ns;
  ns.path_ = std::move(directory);
  ns.dir_ = std::move(*dir);
  ns.may_join_ = may_join;
  return ns;
}

Result<std::vector<PipeNamespace::Scan>> PipeNamespace::scan(const std::string& key,
                                                             const std::string& skip) const {
  auto files = os::list_directory(dir_.get(), key + ".");
  if (!files) return files.error();
  return scan_files(key, std::move(*files), skip);
}

Result<std::vector<PipeNamespace::Scan>> PipeNamespace::scan_files(const std::string& key,
                                                                   std::vector<std::string> files,
                                                                   const std::string& skip) const {
  const std::uint32_t me = os::current_user_id();
  std::vector<Scan> live;
  for (auto& file : files) {
    std::uint32_t uid = 0;
    if (file == skip || !parse_entry_name(file, key, &uid)) continue;
    auto dir = os::open_subdirectory(dir_.get(), file, 0, false);
    if (!dir) {
      if (is_resource_error(dir.error())) return dir.error();
      continue;
    }
    auto owner = os::file_owner(dir->get());
    if (!owner || owner->uid != uid) continue;  // someone else's squat of that uid's entry name
    if (!any_live_instance(dir->get())) {
      // Left by a killed server: its owner and root may tidy it up.
      if (me == uid || me == 0) {
        auto mutex = lock_entry(dir->get(), false, false);
        if (mutex && !any_live_instance(dir->get()))
          remove_entry_locked(dir_.get(), file, dir->get());
      }
      continue;
    }
    auto info = read_entry(dir->get());
    if (!info) continue;
    Scan s;
    s.info = std::move(*info);
    if (s.info.creator) {
      s.info.owner_uid = uid;
      s.info.owner_stamp = read_stamp(dir->get());
    }
    s.dir = std::move(*dir);
    s.file = std::move(file);
    s.uid = uid;
    s.gid = owner->gid;
    live.push_back(std::move(s));
  }
  return live;
}

namespace {

// The creator that owns the name among live entries: the earliest stamp, the lower uid on a
// tie (the same rule every process applies).
template <class Entries>
int owning_creator(const Entries& entries) {
  int best = -1;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (!e.info.creator) continue;
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const auto& b = entries[static_cast<std::size_t>(best)];
    if (earlier(e.info.owner_stamp, b.info.owner_stamp) ||
        (e.info.owner_stamp == b.info.owner_stamp && e.uid < b.uid))
      best = static_cast<int>(i);
  }
  return best;
}

template <class Entry>
bool belongs_to(const Entry& e, const Entry& owner) {
  return &e == &owner || (!e.info.creator && e.info.owner_uid == owner.uid &&
                          e.info.owner_stamp == owner.info.owner_stamp);
}

}  // namespace

Result<NameView> PipeNamespace::view_of(std::vector<Scan> live) const {
  int owner = owning_creator(live);
  if (owner < 0) return errc::kFileNotFound;
  const Scan& o = live[static_cast<std::size_t>(owner)];
  NameView view;
  view.pipe = o.info.pipe;
  view.owner = o.uid;
  for (auto& e : live) {
    if (!belongs_to(e, o)) continue;
    if (&e != &o && !(may_join_ && may_join_(o.info.pipe, e.uid, e.gid))) continue;
    NameEntry entry{std::move(e.dir), e.uid, e.gid, &e == &o};
    if (entry.owner)
      view.entries.insert(view.entries.begin(), std::move(entry));
    else
      view.entries.push_back(std::move(entry));
  }
  return view;
}

Result<InstanceSlot> PipeNamespace::create_instance(
    const PipeName& name, const PipeAttributes& requested, bool first_instance,
    const std::function<bool(const PipeAttributes&)>& may_add) {
  const std::uint32_t me = os::current_user_id();
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    // This user's entry: the first of its possible names that this user owns.
    os::UniqueFd entry;
    std::string entry_file;
    for (int n = 0; n < kEntryNames && !entry; ++n) {
      std::string file = name.key + "." + std::to_string(me);
      if (n > 0) file += "." + std::to_string(n);
      auto dir = os::open_subdirectory(dir_.get(), file, kEntryMode, true);
      if (!dir) {
        if (is_resource_error(dir.error())) return dir.error();
        continue;
      }
      auto owner = os::file_owner(dir->get());
      if (!owner) return owner.error();
      if (owner->uid != me) continue;  // squatted by someone else: try the next name
      entry = std::move(*dir);
      entry_file = std::move(file);
    }
    if (!entry) return errc::kAccessDenied;
    auto mutex = lock_entry(entry.get(), true, true);
    if (!mutex) {
      if (mutex.error() == errc::kFileNotFound) continue;  // removed meanwhile: again
      return mutex.error();
    }
    // An attempt that ends without an instance leaves no entry behind (under the mutex still).
    struct TidyUp {
      int ns, entry;
      const std::string& file;
      bool armed = true;
      ~TidyUp() {
        if (armed && !any_live_instance(entry)) remove_entry_locked(ns, file, entry);
      }
    } tidy_up{dir_.get(), entry.get(), entry_file};

    // Who owns the name now: this user (an entry with live instances), someone else, nobody.
    const bool own_live = any_live_instance(entry.get());
    auto others = scan(name.key, entry_file);
    if (!others) return others.error();
    EntryInfo mine;
    bool name_exists = true;
    std::uint32_t owner_uid = me;
    std::vector<Scan*> pipe_entries;  // other entries whose instances are this pipe's
    if (own_live) {
      auto info = read_entry(entry.get());
      if (!info) return errc::kAccessDenied;
      mine = std::move(*info);
      if (mine.creator) {
        mine.owner_uid = me;
        mine.owner_stamp = read_stamp(entry.get());
      }
      bool owner_live = mine.creator;
      for (auto& o : *others) {
        bool same_pipe =
            o.info.owner_uid == mine.owner_uid && o.info.owner_stamp == mine.owner_stamp;
        if (same_pipe && !o.info.creator) pipe_entries.push_back(&o);
        owner_live = owner_live || (same_pipe && o.info.creator && o.uid == mine.owner_uid);
      }
      if (!owner_live) {
        // We joined a name whose creator's instances are all gone: ours keep the name, so we
        // own it now. TODO(compat): Windows keeps the creator as the owner.
        mine.creator = true;
        mine.owner_uid = me;
        pipe_entries.clear();
        if (auto written =
                os::replace_file_at(entry.get(), kDescriptorFile, encode(mine), kPublicMode);
            !written)
          return written.error();
        auto stamp = publish_stamp(entry.get(), me != 0);
        if (!stamp) return stamp.error();
        mine.owner_stamp = *stamp;
      }
      owner_uid = mine.owner_uid;
    } else if (int owner = owning_creator(*others); owner >= 0) {
      Scan& o = (*others)[static_cast<std::size_t>(owner)];
      mine.pipe = o.info.pipe;
      mine.creator = false;
      mine.owner_uid = owner_uid = o.uid;
      mine.owner_stamp = o.info.owner_stamp;
      for (auto& e : *others)
        if (belongs_to(e, o)) pipe_entries.push_back(&e);
    } else {
      name_exists = false;
      mine.pipe = requested;
      mine.pipe.display = name.display;
      mine.creator = true;
      mine.owner_uid = me;
    }

    if (name_exists) {
      // Hash collision with another name: refuse rather than join the wrong pipe.
      PipeName existing;
      if (parse_stored_name(mine.pipe.display, &existing) != NameProblem::kNone ||
          existing.folded != name.folded)
        return errc::kAccessDenied;
      if (mine.pipe.max_instances < 255) {  // counting costs a look at every instance
        std::uint32_t instances = own_live ? live_instances(entry.get()) : 0;
        for (const Scan* e : pipe_entries) instances += live_instances(e->dir.get());
        if (instances >= mine.pipe.max_instances) return errc::kPipeBusy;
      }
      if (first_instance) return errc::kAccessDenied;
      if (mine.pipe.access != requested.access) return errc::kAccessDenied;
      if (owner_uid != me && !may_add(mine.pipe)) return errc::kAccessDenied;
    }
    if (!own_live) {
      clear_entry_locked(entry.get());  // whatever a killed server left here is stale now
      if (auto written =
              os::replace_file_at(entry.get(), kDescriptorFile, encode(mine), kPublicMode);
          !written)
        return written.error();
    }

    // The instance: a file locked before it has a name, so nobody can lock it first.
    std::uint32_t slot = free_slot(entry.get());
    if (slot >= kUnlimitedSlots) return errc::kPipeBusy;
    auto instance = os::create_unnamed_file(entry.get(), 0, kPublicMode);
    if (!instance) return instance.error();
    auto locked = os::lock_byte(instance->get(), 0, true, false);
    if (!locked) return locked.error();
    if (!*locked) return errc::kBusy;  // nobody else can reach an unnamed file
    auto linked = os::link_file_at(instance->get(), entry.get(), instance_file(slot));
    if (!linked) return linked.error();
    if (!*linked) continue;

    if (!name_exists) {
      // Published; now the stamp, then a look for an older creator of the same name (another
      // user's, racing us): the older one owns the name and we withdraw.
      auto stamp = publish_stamp(entry.get(), me != 0);
      if (!stamp) {
        os::unlink_at(entry.get(), instance_file(slot));
        return stamp.error();
      }
      mine.owner_stamp = *stamp;
      auto rivals = scan(name.key, entry_file);
      if (!rivals) {
        os::unlink_at(entry.get(), instance_file(slot));
        return rivals.error();
      }
      bool lost = false;
      for (const auto& r : *rivals)
        lost = lost || (r.info.creator && r.info.owner_stamp.set() &&
                        (r.info.owner_stamp < mine.owner_stamp ||
                         (r.info.owner_stamp == mine.owner_stamp && me != 0)));  // tie: yield
      if (lost) {
        os::unlink_at(entry.get(), instance_file(slot));
        if (first_instance) return errc::kAccessDenied;
        continue;  // join the winner's name
      }
    }
    tidy_up.armed = false;
    InstanceSlot out;
    out.entry = std::move(entry);
    out.instance = std::move(*instance);
    out.slot = slot;
    out.pipe = std::move(mine.pipe);
    out.owner = owner_uid;
    out.created_name = !name_exists;
    return out;
  }
  return errc::kBusy;
}

void PipeNamespace::forget_instance(int entry, std::uint32_t slot,
                                    const os::FileId& instance) const {
  auto mutex = lock_entry(entry, false, true);
  if (!mutex) return;
  std::string file = instance_file(slot);
  if (auto fd = os::open_file_at(entry, file, 0, false); fd) {
    auto id = os::file_id(fd->get());
    // Another holder of the instance (a shared server end) may still keep it alive; and a new
    // instance may have taken the slot since (then the file is another one).
    if (id && *id == instance && !os::byte_is_write_locked(fd->get(), 0))
      os::unlink_at(entry, file);
  }
  if (any_live_instance(entry)) return;
  auto name = os::name_of_open_directory(entry);
  if (!name) return;
  // Only when that name is still this very directory (its owner may have renamed it).
  auto again = os::open_subdirectory(dir_.get(), *name, 0, false);
  if (!again) return;
  auto a = os::file_id(again->get());
  auto b = os::file_id(entry);
  if (a && b && *a == *b) remove_entry_locked(dir_.get(), *name, entry);
}

Result<NameView> PipeNamespace::find(const PipeName& name) const {
  auto live = scan(name.key, {});
  if (!live) return live.error();
  auto view = view_of(std::move(*live));
  if (!view) return view.error();
  PipeName existing;
  if (parse_stored_name(view->pipe.display, &existing) != NameProblem::kNone ||
      existing.folded != name.folded)
    return errc::kFileNotFound;  // another name with the same hash
  return view;
}

std::uint32_t PipeNamespace::count_instances(const PipeName& name) const {
  auto view = find(name);
  if (!view) return 0;
  std::uint32_t count = 0;
  for (const auto& e : view->entries) count += live_instances(e.dir.get());
  return std::min<std::uint32_t>(count, 255);
}

std::vector<ListenerEntry> PipeNamespace::listeners(const NameView& view, bool live_only) {
  std::vector<ListenerEntry> out;
  for (std::size_t i = 0; i < view.entries.size(); ++i) {
    int dir = view.entries[i].dir.get();
    auto names = os::list_directory(dir, "L");
    if (!names) continue;
    for (auto& file : *names) {
      ListenerEntry e;
      unsigned long long ns = 0;
      if (std::sscanf(file.c_str(), "L%20llu-%u-%u-%u", &ns, &e.pid, &e.slot, &e.in_quota) != 4)
        continue;
      if (live_only && !instance_is_live(dir, instance_file(e.slot))) continue;
      e.file = std::move(file);
      e.entry = i;
      out.push_back(std::move(e));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ListenerEntry& a, const ListenerEntry& b) { return a.file < b.file; });
  return out;
}

std::string PipeNamespace::listener_name(std::uint32_t slot, std::uint32_t in_quota) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch())
                .count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "L%020lld-%u-%u-%u", static_cast<long long>(ns),
                os::current_process_id(), slot, in_quota);
  return buf;
}

Result<PipeAttributes> PipeNamespace::attributes_of_entry(int entry) {
  auto info = read_entry(entry);
  if (!info) return info.error();
  return std::move(info->pipe);
}

Result<std::vector<std::string>> PipeNamespace::list() const {
  auto pipes = list_pipes();
  if (!pipes) return pipes.error();
  std::vector<std::string> names;
  names.reserve(pipes->size());
  for (auto& p : *pipes) names.push_back(std::move(p.display));
  return names;
}

Result<std::vector<ListedName>> PipeNamespace::list_pipes() const {
  auto files = os::list_directory(dir_.get(), "");
  if (!files) return files.error();
  // One listing of the namespace, grouped by key, rather than one per name.
  std::map<std::string, std::vector<std::string>> by_key;
  for (auto& f : *files) {
    std::string key = f.substr(0, f.find('.'));
    if (is_key(key)) by_key[key].push_back(std::move(f));
  }
  std::vector<ListedName> pipes;
  for (auto& [key, entries] : by_key) {
    auto live = scan_files(key, std::move(entries), {});
    if (!live) {
      if (is_resource_error(live.error())) return live.error();
      continue;
    }
    auto view = view_of(std::move(*live));
    if (!view) continue;
    // The descriptor file is the entry owner's to write: believe it only when it names this
    // very key, so nobody lists a name under another's key or shows one twice.
    PipeName parsed;
    if (parse_stored_name(view->pipe.display, &parsed) != NameProblem::kNone || parsed.key != key ||
        parsed.display != view->pipe.display)
      continue;
    const std::uint32_t max = view->pipe.max_instances;
    if (max < 1 || max > 255) continue;
    ListedName p;
    p.display = std::move(view->pipe.display);
    p.max_instances = max;
    for (const auto& e : view->entries) p.instances += live_instances(e.dir.get());
    if (p.instances == 0) continue;  // its last instance went while we looked
    pipes.push_back(std::move(p));
  }
  std::sort(pipes.begin(), pipes.end(),
            [](const ListedName& a, const ListedName& b) { return a.display < b.display; });
  return pipes;
}

}  // namespace sluice::registry
