// PipeNamespace: the directory that holds every pipe name, laid out so that no user can capture,
// block or fake another user's names (docs/security.md, "The namespace").
//
//   <ns>/                       root-owned, sticky, world-writable (or a user's private one):
//                               a user may add entries, and remove or rename only their own
//   <ns>/<key>.<uid>[.<n>]/     one user's entry for a name, owned by that user, mode 0755: only
//                               the owner adds, removes or renames what is in it. <key> is the
//                               folded name's hash; .<n> when someone else squats the plain name
//       lock                    mode 0600: the entry's mutex (an OFD lock only the owner's
//                               processes can take)
//       name                    mode 0644: pipe-wide attributes, the security descriptor and the
//                               entry's role (it created the name, or joined another user's);
//                               replaced whole by rename(2)
//       S                       mode 0644, a creator's: when it published the name's first
//                               instance (its change time, which nobody can set back)
//       I<slot>                 mode 0644, one per instance: an exclusive OFD lock taken before
//                               the file gets its name, held by a descriptor that travels with the
//                               server end. The lock is the instance: it vanishes with the last
//                               descriptor (SIGKILL included); others may read-lock the file, but
//                               shared locks are never counted, so they neither fake nor block it
//       L<ns>-<pid>-<slot>-<inquota>
//                               the listener of an instance while it is LISTENING, mode 0666;
//                               <ns> is CLOCK_MONOTONIC when it started listening, so sorting
//                               gives Windows' order: the instance listening longest first
//
// The name exists while some entry has a live instance. When several users' entries are live,
// the one that created the name first owns it (each creator stamps its entry after publishing
// its instance, then looks for older creators, so exactly one wins a race; nobody can stamp
// earlier than they really did); a user who joined another's name says whose, and clients
// check with the owner's descriptor that it may. Entries without live instances are removed by
// their owner's last close, or by the next scan of their owner or root (after a SIGKILL).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "os/linux/directory.hpp"
#include "os/linux/unique_fd.hpp"
#include "registry/pipe_name.hpp"
#include "sluice/result.hpp"

namespace sluice::registry {

/// Pipe-wide attributes, fixed by the first instance.
struct PipeAttributes {
  std::uint32_t access = 3;  ///< PIPE_ACCESS_* value
  std::uint32_t type = 0;    ///< PIPE_TYPE_* value
  std::uint32_t max_instances = 255;
  std::uint32_t default_timeout_ms = 50;
  std::string display;   ///< `\\.\pipe\Name` as the creator spelled it
  std::string security;  ///< the name's security descriptor, in its text form
};

/// What a new instance holds.
struct InstanceSlot {
  os::UniqueFd entry;     ///< the creating user's entry directory
  os::UniqueFd instance;  ///< the locked I<slot> file: the instance exists while it is open
  std::uint32_t slot = 0;
  PipeAttributes pipe;        ///< the pipe-wide attributes in force
  std::uint32_t owner = 0;    ///< uid of the name's owner
  bool created_name = false;  ///< the first instance of the name (nobody held it before)
};

/// One live entry of a name, as a client sees it.
struct NameEntry {
  os::UniqueFd dir;
  std::uint32_t uid = 0;  ///< the entry's owner (checked with fstat, not taken from its name)
  std::uint32_t gid = 0;  ///< the group of its directory: its owner's when it made it
  bool owner = false;     ///< the name owner's entry; others joined it
};

/// Whether the name's descriptor (owner_pipe.security) lets a joined entry's user add
/// instances; entries it refuses are left out of every view.
using JoinCheck = bool (*)(const PipeAttributes& owner_pipe, std::uint32_t uid, std::uint32_t gid);

/// A name that exists, as a client sees it: the owner's attributes and every live entry.
struct NameView {
  PipeAttributes pipe;
  std::uint32_t owner = 0;
  std::vector<NameEntry> entries;  ///< the owner's first
};

/// A listener file name, parsed.
struct ListenerEntry {
  std::string file;
  std::size_t entry = 0;  ///< index into NameView::entries
  std::uint32_t pid = 0;
  std::uint32_t slot = 0;
  std::uint32_t in_quota = 0;
};

/// One name of a listing: what Windows' directory listing of `\\.\pipe\` reports for it.
struct ListedName {
  std::string display;              ///< `\\.\pipe\Name` as the creator spelled it
  std::uint32_t instances = 0;      ///< live instances of every entry that counts for the name
  std::uint32_t max_instances = 0;  ///< 1 to 255; 255 is PIPE_UNLIMITED_INSTANCES
};

/// Thread safety: all members may be called from any thread.
class PipeNamespace {
 public:
  /// Opens the namespace in `directory`, created with `create_mode` when missing (0: never
  /// created). Refused (kAccessDenied) unless owned by root or the caller, and sticky when
  /// others may write it.
  static Result<PipeNamespace> open(std::string directory, unsigned create_mode = kSharedMode,
                                    JoinCheck may_join = nullptr);
  /// The mode of a namespace several users share: sticky and world-writable.
  static constexpr unsigned kSharedMode = 01777;
  /// The mode of one user's private namespace.
  static constexpr unsigned kPrivateMode = 0700;

  const std::string& path() const noexcept { return path_; }
  /// The namespace directory (for a watch on names coming and going).
  int directory() const noexcept { return dir_.get(); }

  /// Adds an instance to `name` (creating the name when no instance exists), applying the
  /// checks in the order Windows applies them: instance limit (kPipeBusy), first
  /// instance (kAccessDenied), access mode (kAccessDenied), then, for a name another user
  /// owns, `may_add` with the owner's attributes (the caller knows who it is; kAccessDenied).
  Result<InstanceSlot> create_instance(const PipeName& name, const PipeAttributes& requested,
                                       bool first_instance,
                                       const std::function<bool(const PipeAttributes&)>& may_add);

  /// Called by every holder of a closing instance after it closed its instance descriptor:
  /// removes the instance's files when nobody holds it any more, and the entry with its last.
  void forget_instance(int entry, std::uint32_t slot, const os::FileId& instance) const;

  /// The name as a client sees it. kFileNotFound when it does not exist; resource errors as
  /// such.
  Result<NameView> find(const PipeName& name) const;

  /// Instances of the name that exist now (capped at 255).
  std::uint32_t count_instances(const PipeName& name) const;
  /// The listeners present in `view`, oldest first; `live_only` skips those whose instance is
  /// gone (a listener a killed server left behind).
  static std::vector<ListenerEntry> listeners(const NameView& view, bool live_only);
  /// A fresh listener file name for `slot`.
  static std::string listener_name(std::uint32_t slot, std::uint32_t in_quota);

  /// What an entry's descriptor file says (the name as its creator spelled it, the pipe's
  /// descriptor), for an end that arrived from another process with the entry's descriptor.
  static Result<PipeAttributes> attributes_of_entry(int entry);

  /// Every name that exists now.
  Result<std::vector<std::string>> list() const;
  /// Every name that exists now with its instance counts, sorted by name. Entries that do not
  /// hold together (a descriptor that names another key, impossible attributes, files of the
  /// wrong type) are skipped: any user can plant them.
  Result<std::vector<ListedName>> list_pipes() const;

 private:
  struct Scan;
  Result<std::vector<Scan>> scan(const std::string& key, const std::string& skip) const;
  // scan() over entry names listed already (`files`, those of `key` among them).
  Result<std::vector<Scan>> scan_files(const std::string& key, std::vector<std::string> files,
                                       const std::string& skip) const;
  Result<NameView> view_of(std::vector<Scan> live) const;

  std::string path_;
  os::UniqueFd dir_;
  JoinCheck may_join_ = nullptr;  // null: nobody may join another user's name
};

}  // namespace sluice::registry
