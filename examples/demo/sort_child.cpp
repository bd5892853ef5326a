#include "sort_child.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <sluice/anonymous_pipe.hpp>
#include <sluice/process.hpp>

#include "text.hpp"

namespace demo {

bool run_sort_child() {
  using namespace std::chrono_literals;
  // Lower-case ASCII words sort the same in every locale, so `sort` needs no LC_ALL=C.
  const std::vector<std::string> words = {"pear",  "kiwi",   "apple",  "mango", "fig",
                                          "lemon", "cherry", "banana", "grape", "date"};

  auto to_child = sluice::AnonymousPipe::create();
  if (!to_child) return report("create stdin pipe", to_child.error());
  auto from_child = sluice::AnonymousPipe::create();
  if (!from_child) return report("create stdout pipe", from_child.error());
  auto child = sluice::Process::spawn({.argv = {"sort"},
                                       .stdin_fd = to_child->read.native_handle(),
                                       .stdout_fd = from_child->write.native_handle(),
                                       .inherit_handles = false});
  if (!child) return report("spawn sort", child.error());
  // The child has its own copies now. Ours must go, or sort never sees the end of its input and
  // we never see the end of its output.
  to_child->read.close();
  from_child->write.close();

  std::string input;
  for (const auto& w : words) input += w + "\n";
  std::string label = "to sort (pid " + std::to_string(child->pid()) + ") via its stdin pipe:";
  std::printf("  %-42s", label.c_str());
  for (const auto& w : words) std::printf(" %s", w.c_str());
  std::printf("\n");
  // Everything fits the 4096-byte quota, so writing all before reading cannot deadlock.
  if (auto sent = to_child->write.write(as_bytes(input)); !sent)
    return report("write to sort", sent.error());
  to_child->write.close();  // sort's end of input

  std::string output;
  std::byte buffer[1024];
  for (;;) {
    auto got = from_child->read.read(buffer);
    if (got.error() == sluice::errc::kBrokenPipe) break;  // sort closed its stdout: all read
    if (!got) return report("read from sort", got.error());
    output += as_text(std::span(buffer, *got));
  }
  auto code = child->wait(10s);
  if (!code) return report("wait for sort", code.error());

  std::printf("  %-42s ", "back from sort via its stdout pipe:");
  std::string expected;
  auto sorted = words;
  std::sort(sorted.begin(), sorted.end());
  for (const auto& w : sorted) expected += w + "\n";
  for (std::size_t i = 0; i < output.size(); ++i)  // one line, words apart
    std::putchar(output[i] != '\n' ? output[i] : i + 1 < output.size() ? ' ' : '\n');
  std::printf("  sort exited with %d; output %s\n", *code,
              output == expected ? "is sorted" : "is NOT what was expected");
  return *code == 0 && output == expected;
}

}  // namespace demo
