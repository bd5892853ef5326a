// main() for Unicode programs, which define wmain (tchar.h's _tmain in _UNICODE builds). This
// file holds nothing else, so the linker takes it from the static library only when the program
// has no main of its own.
//
// MSVC accepts wmain in every form main has: no parameters, (argc, argv) and (argc, argv, envp)
// ("main function and command-line arguments", Microsoft Learn), in C and in C++. Linux gives no
// entry point to a C++ wmain, so the compiler mangles it by its parameters, and each form is a
// different symbol; a C wmain is one symbol whatever its parameters. So this main refers to all
// four weakly: whichever the program defines is non-null and called, the others stay null.
#include <cstdio>
#include <string>
#include <vector>

#include "win32/objects.hpp"

// A C program's wmain, any of its forms. Calling one declared with fewer parameters with three
// arguments is what the C start-up code does with main on every Linux ABI (the callee ignores
// the argument registers it does not declare).
extern "C" int sluice_c_wmain(int, wchar_t**, wchar_t**) __asm__("wmain") __attribute__((weak));
// A C++ program's wmain, one symbol per form.
int wmain() __attribute__((weak));
int wmain(int, wchar_t**) __attribute__((weak));
int wmain(int, wchar_t**, wchar_t**) __attribute__((weak));
// TODO(compat): MSVC also accepts `void wmain(...)` (exit code 0); here the caller reads an
// int that was never returned, so such a program exits with an unspecified code.

namespace {

// The argv or envp vector as wide strings (from_utf8: the locale's multibyte is UTF-8), with
// the pointers the program receives; `strings` owns what `pointers` point into.
struct WideVector {
  std::vector<std::wstring> strings;
  std::vector<wchar_t*> pointers;

  explicit WideVector(char** narrow) {
    for (char** p = narrow; p != nullptr && *p != nullptr; ++p)
      strings.push_back(sluice::win32::from_utf8(*p));
    for (auto& w : strings) pointers.push_back(w.data());
    pointers.push_back(nullptr);
  }
};

}  // namespace

int main(int argc, char** argv, char** envp) {
  WideVector wargv(argv);
  WideVector wenvp(envp);
  if (sluice_c_wmain != nullptr)
    return sluice_c_wmain(argc, wargv.pointers.data(), wenvp.pointers.data());
  if (static_cast<int (*)(int, wchar_t**, wchar_t**)>(wmain) != nullptr)
    return wmain(argc, wargv.pointers.data(), wenvp.pointers.data());
  if (static_cast<int (*)(int, wchar_t**)>(wmain) != nullptr)
    return wmain(argc, wargv.pointers.data());
  if (static_cast<int (*)()>(wmain) != nullptr) return wmain();
  // The linker took this main because the program has none; without a wmain either, Windows'
  // linker would have refused the program (LNK2019). Weak references cannot refuse it here.
  std::fputs("sluice: this program defines neither main nor wmain\n", stderr);
  return 1;
}
