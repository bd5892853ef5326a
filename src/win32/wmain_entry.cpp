// main() for Unicode programs, which define wmain (tchar.h's _tmain in _UNICODE builds). This
// file holds nothing else, so the linker takes it from the static library only when the program
// has no main of its own.
#include <tchar.h>

#include <string>
#include <vector>

#include "win32/objects.hpp"

int main(int argc, char** argv) {
  std::vector<std::wstring> wide;
  wide.reserve(static_cast<std::size_t>(argc));
  for (int i = 0; i < argc; ++i) wide.push_back(sluice::win32::from_utf8(argv[i]));
  std::vector<wchar_t*> wargv;
  for (auto& w : wide) wargv.push_back(w.data());
  wargv.push_back(nullptr);
  return wmain(argc, wargv.data());
}
