// sluice-demo: a tour of sluice. Part 1 runs a message-mode named pipe server (several instances,
// one thread each) for client processes that are this same program re-run with --client. Part 2
// sorts words through a child process's stdin and stdout, both anonymous pipes. Part 3 hands a
// pipe end that has read half a message to a worker process (this program with --worker).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/registry.hpp>

#include "handoff.hpp"
#include "message_service.hpp"
#include "sort_child.hpp"
#include "text.hpp"

namespace {

// A private pipe namespace, removed again on every way out of main.
class TempDirectory {
 public:
  TempDirectory() {
    char pattern[] = "/tmp/sluice-demo-XXXXXX";
    if (::mkdtemp(pattern)) path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--client")
    return demo::run_client_process({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "--worker")
    return demo::run_worker_process({args.begin() + 1, args.end()});
  if (!args.empty()) {
    std::printf(
        "usage: sluice-demo\n  Runs the named pipe and anonymous pipe demos; exits 0 when "
        "every check passed.\n");
    return args[0] == "--help" || args[0] == "-h" ? 0 : 2;
  }

  std::error_code error;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) return demo::report("find this executable", error), 1;
  TempDirectory directory;
  if (directory.path().empty()) {
    std::perror("sluice-demo: mkdtemp");
    return 1;
  }
  auto registry = sluice::Registry::open(directory.path());
  if (!registry) return demo::report("open registry", registry.error()), 1;

  std::printf("sluice demo (private pipe namespace in %s)\n\n", directory.path().c_str());
  std::printf("1. Named pipe, message mode: server threads, client processes, transact\n");
  bool named_ok = demo::run_message_service(*registry, self, {});
  std::printf("\n2. Anonymous pipes: a child's stdin and stdout\n");
  bool anonymous_ok = demo::run_sort_child();
  std::printf("\n3. One pipe end, two processes: half a message each\n");
  bool handoff_ok = demo::run_handoff(*registry, self);

  bool ok = named_ok && anonymous_ok && handoff_ok;
  std::printf("\n%s\n", ok ? "All checks passed." : "Some checks FAILED.");
  return ok ? 0 : 1;
}
