// Exit codes with all 32 bits between sluice processes (ExitProcess, GetExitCodeProcess): the
// channel and its rule are the objects layer's (objects/exit_code.hpp), shared with the C++
// API's sluice::Process. The Win32 layer's initialisation adopts the channel as well, so that a
// Win32 program reports its code even when nothing else brings in the objects layer's file.
#pragma once

#include "objects/exit_code.hpp"

namespace sluice::win32 {

using objects::adopt_exit_code_channel;

}  // namespace sluice::win32
