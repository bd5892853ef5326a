// The process's code pages and the console's (winnls.h, consoleapi.h).
#include <windows.h>

#include <atomic>

#include "win32/objects.hpp"

namespace {

std::atomic<UINT> g_output_code_page{CP_UTF8};
std::atomic<UINT> g_input_code_page{CP_UTF8};

BOOL set_code_page(std::atomic<UINT>& code_page, UINT value) {
  // The pseudo code pages name no code page of their own; no code page is above 65535.
  if (value <= CP_THREAD_ACP || value > 65535) return sluice::win32::fail(ERROR_INVALID_PARAMETER);
  code_page.store(value);
  return TRUE;
}

}  // namespace

extern "C" {

UINT WINAPI GetACP(void) { return CP_UTF8; }
UINT WINAPI GetOEMCP(void) { return CP_UTF8; }
UINT WINAPI GetConsoleOutputCP(void) { return g_output_code_page.load(); }
UINT WINAPI GetConsoleCP(void) { return g_input_code_page.load(); }
BOOL WINAPI SetConsoleOutputCP(UINT wCodePageID) {
  return set_code_page(g_output_code_page, wCodePageID);
}
BOOL WINAPI SetConsoleCP(UINT wCodePageID) { return set_code_page(g_input_code_page, wCodePageID); }

}  // extern "C"
