#!/usr/bin/env python3
"""Checks that every source file keeps to its layer (docs/layers.md).

Fails (exit 1, one line per violation: file:line: rule: what) when
  - a file includes a header of a layer it may not use (layer),
  - a file outside src/os/linux includes an operating-system header (os-header),
  - a file outside src/os/linux calls a system call itself (syscall),
  - library code includes a test-support header (test-support),
unless scripts/layers_allowlist.txt lists the crossing with its reason. An allowlist entry that
no longer matches anything is a violation too (stale-allowlist), so the list only shrinks.

Usage: scripts/check_layers.py [--root DIR] [--allowlist FILE]
       scripts/check_layers.py --self-test
"""

import argparse
import fnmatch
import os
import re
import subprocess
import sys
import tempfile

# The public headers every layer may use: the vocabulary types (errors, Result, security
# descriptors, pipe options and results). Their code lives in src/types.
TYPES_HEADERS = {"error.hpp", "result.hpp", "security.hpp", "pipe_types.hpp"}

# Which layers each layer may include (its own is always allowed). docs/layers.md draws it.
ALLOWED = {
    "types": set(),
    "os": {"types"},
    "shm": {"os", "types"},
    "transport": {"os", "types"},
    "registry": {"os", "types"},
    "core": {"shm", "transport", "registry", "os", "types"},
    "objects": {"core", "shm", "transport", "registry", "os", "types"},
    "api": {"objects", "core", "shm", "transport", "registry", "os", "types"},
    # The front doors above the C++ API use it through its public headers only.
    "asio": {"api", "types"},
    "win32": {"api", "objects", "types"},
    # bench/ and examples/: what an installed sluice offers a program.
    "apps": {"api", "asio", "win32", "types"},
}

# Headers that give access to the kernel. Outside src/os/linux a file reaches the system through
# the os layer instead, so there is one place that knows each call's quirks (EINTR, errno
# mapping). <time.h>, <errno.h>, <stdlib.h>, <string.h>, <strings.h> are C or plain POSIX
# library headers and stay allowed.
OS_HEADER_PATTERNS = [
    "sys/*", "linux/*", "asm/*", "asm-generic/*", "netinet/*", "arpa/*",
    "unistd.h", "fcntl.h", "pthread.h", "poll.h", "signal.h", "spawn.h", "termios.h",
    "dirent.h", "pwd.h", "grp.h", "sched.h", "semaphore.h", "mqueue.h", "dlfcn.h", "netdb.h",
    "liburing.h", "syscall.h", "ucontext.h", "aio.h",
]

# System calls (and the libc wrappers that are one). `::name(` is flagged for all of them; a bare
# `name(` only for the names no sluice function shares (sluice has read(), write(), close(),
# kill() and open() members of its own).
SYSCALLS_QUALIFIED = {
    "open", "openat", "close", "read", "write", "pread", "pwrite", "readv", "writev", "dup",
    "pipe", "poll", "socket", "bind", "listen", "accept", "connect", "send", "recv", "shutdown",
    "unlink", "mkdir", "rmdir", "rename", "chmod", "chown", "kill", "stat", "access", "sleep",
    "pause", "alarm", "truncate", "lseek", "fsync", "exit", "_exit", "umask", "chdir",
}
SYSCALLS_BARE = {
    "syscall", "setresuid", "setresgid", "setreuid", "setregid", "setuid", "setgid",
    "seteuid", "setegid", "setgroups", "getgroups", "fork", "vfork", "execve", "execv", "execvp",
    "execvpe", "waitpid", "waitid", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid",
    "getegid", "mmap", "munmap", "mprotect", "mremap", "memfd_create", "ftruncate", "fstat",
    "fstatat", "lstat", "readlink", "readlinkat", "unlinkat", "mkdirat", "renameat", "fchmod",
    "fchown", "socketpair", "accept4", "sendmsg", "recvmsg", "getsockopt", "setsockopt",
    "getsockname", "getpeername", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "eventfd", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "pipe2", "dup2", "dup3",
    "fcntl", "ioctl", "prctl", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "tgkill",
    "posix_spawn", "posix_spawnp", "sigaction", "sigprocmask", "pthread_sigmask", "pthread_kill",
    "tcgetattr", "tcsetattr", "getpwnam_r", "getpwuid_r", "getgrnam_r", "getgrgid_r",
    "getpwnam", "getpwuid", "getgrnam", "getgrgid", "isatty", "nanosleep", "usleep",
    "clock_gettime", "clock_nanosleep", "sched_yield", "getrandom", "flock", "faccessat",
    "getrlimit", "setrlimit", "prlimit", "futex_waitv", "io_uring_setup", "io_uring_enter",
}
SYSCALL_RE = re.compile(
    r"(?<![\w:.>])::(?P<q>" + "|".join(sorted(SYSCALLS_QUALIFIED | SYSCALLS_BARE)) + r")\s*\("
    r"|(?<![\w:.>~])(?P<b>" + "|".join(sorted(SYSCALLS_BARE)) + r")\s*\(")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

SOURCE_DIRS = ["src", "include", "win32/include", "bench", "examples", "tests/support"]
SOURCE_EXTS = (".cpp", ".hpp", ".h", ".c", ".cc")
WIN32_PUBLIC = {"windows.h", "sddl.h", "aclapi.h", "accctrl.h", "tchar.h", "strsafe.h", "conio.h"}


def layer_of(path):
    """The layer of a repository-relative path, or None for files outside every layer."""
    parts = path.split("/")
    if parts[0] == "src" and len(parts) > 2:
        if parts[1] == "os":
            return "os"
        return {"types": "types", "shm": "shm", "transport": "transport",
                "registry": "registry", "core": "core", "objects": "objects", "api": "api",
                "asio": "asio", "win32": "win32"}.get(parts[1])
    if parts[:2] == ["include", "sluice"]:
        if len(parts) == 3 and parts[2] in TYPES_HEADERS:
            return "types"
        if parts[2] == "asio" or parts[2] == "asio.hpp":
            return "asio"
        return "api"
    if parts[:2] == ["win32", "include"]:
        return "win32"
    if parts[0] in ("bench", "examples", "tools"):
        return "apps"
    if parts[:2] == ["tests", "support"]:
        return "test-support"
    return None


def is_test(path):
    """Test code: test and fuzz sources, the headers only tests include, and tests/support."""
    name = os.path.basename(path)
    return (path.startswith("tests/") or re.search(r"_(test|fuzz)\.cpp$", name) is not None
            or re.search(r"_(fixture|test_util)\.hpp$", name) is not None)


def resolve(root, path, quote, text):
    """The repository-relative file an include names, or None for a system/third-party header."""
    here = os.path.dirname(path)
    candidates = []
    if quote == '"':
        candidates.append(os.path.join(here, text))
    candidates += [os.path.join(d, text) for d in ("src", "include", "tests/support")]
    if text in WIN32_PUBLIC:
        candidates.append(os.path.join("win32/include", text))
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(root, c)):
            return c
    return None


def strip_comments_and_strings(line, in_block):
    """The code of one line without comments and literals; and whether a /* */ stays open."""
    out = []
    i = 0
    while i < len(line):
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, in_block = end + 2, False
        elif line.startswith("//", i):
            break
        elif line.startswith("/*", i):
            in_block = True
            i += 2
        elif line[i] in "\"'":
            quote = line[i]
            i += 1
            while i < len(line) and line[i] != quote:
                i += 2 if line[i] == "\\" else 1
            i += 1
            out.append(quote + quote)
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_block


def files(root):
    for d in SOURCE_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, d)):
            for n in sorted(names):
                if n.endswith(SOURCE_EXTS):
                    yield os.path.relpath(os.path.join(dirpath, n), root)


def violations(root):
    """(file, line, rule, key, message) for every crossing in the tree, before the allowlist."""
    found = []
    for path in sorted(set(files(root))):
        layer = layer_of(path)
        test = is_test(path)
        os_layer = path.startswith("src/os/linux/")
        # bench/ and examples/ are programs: the benchmarks measure pipe(2) and AF_UNIX beside
        # sluice, the demo and examples spawn and signal processes, so only the layer rule holds.
        loose_os = test or os_layer or layer == "apps"
        in_block = False
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if m and not in_block:
                    quote, text = m.groups()
                    target = resolve(root, path, quote, text)
                    shown = f"{quote}{text}{'>' if quote == '<' else quote}"
                    if target is None:
                        if not loose_os and any(fnmatch.fnmatch(text, p)
                                                for p in OS_HEADER_PATTERNS):
                            found.append((path, number, "os-header", text,
                                          f"{shown} is an OS header: only src/os/linux may "
                                          "include one"))
                        continue
                    to = layer_of(target)
                    public = path.startswith(("include/", "win32/include/"))
                    if to == "test-support" and not test:
                        found.append((path, number, "test-support", text,
                                      f"{shown} is test support, not library code"))
                    elif ((public or layer == "apps") and not test
                          and not target.startswith(("include/", "win32/include/"))
                          and os.path.dirname(target) != os.path.dirname(path)):
                        found.append((path, number, "layer", text,
                                      f"{shown} is internal: {'a public header' if public else layer}"
                                      " may include public headers only"))
                    elif (not test and layer and to and to != layer
                          and to not in ALLOWED.get(layer, set())):
                        found.append((path, number, "layer", text,
                                      f"{layer} may not include {to} ({shown})"))
                    continue
                code, in_block = strip_comments_and_strings(line, in_block)
                if loose_os or code.lstrip().startswith("#"):
                    continue
                for call in SYSCALL_RE.finditer(code):
                    name = call.group("q") or call.group("b")
                    found.append((path, number, "syscall", f"{name}()",
                                  f"system call {name}() outside src/os/linux"))
    return found


def read_allowlist(path):
    """[(file glob, key glob, reason, line)] from the allowlist; a reason is required."""
    entries = []
    if not os.path.exists(path):
        return entries, []
    errors = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split(None, 2)
            if len(fields) < 3 or not fields[2].startswith("--") or len(fields[2]) < 4:
                errors.append(f"{path}:{number}: allowlist: expected "
                              "'FILE-GLOB KEY-GLOB -- reason'")
                continue
            entries.append((fields[0], fields[1], fields[2][2:].strip(), number))
    return entries, errors


def check(root, allowlist):
    entries, errors = read_allowlist(allowlist)
    used = set()
    for path, number, rule, key, message in violations(root):
        allowed = False
        for file_glob, key_glob, _, entry_line in entries:
            if fnmatch.fnmatch(path, file_glob) and fnmatch.fnmatch(key, key_glob):
                used.add(entry_line)
                allowed = True
        if not allowed:
            errors.append(f"{path}:{number}: {rule}: {message}")
    for file_glob, key_glob, _, entry_line in entries:
        if entry_line not in used:
            errors.append(f"{os.path.relpath(allowlist, root)}:{entry_line}: stale-allowlist: "
                          f"'{file_glob} {key_glob}' matches nothing; remove it")
    return errors


def self_test():
    """Builds a small tree with one violation of each kind and checks each is reported once."""
    tree = {
        "src/os/linux/fd.hpp": '#include <unistd.h>\n#include "sluice/result.hpp"\n',
        "src/os/linux/fd.cpp": '#include "os/linux/fd.hpp"\nint f() { return ::close(3); }\n',
        "src/shm/ring.hpp": '#include "os/linux/fd.hpp"\n',
        "src/shm/ring.cpp": ('#include "shm/ring.hpp"\n#include "core/engine.hpp"\n'
                             '#include "transport/wire.hpp"\n'),
        "src/transport/wire.hpp": "",
        "src/core/engine.hpp": '#include "sluice/named_pipe.hpp"\n',
        "src/core/engine.cpp": ('#include <sys/mman.h>\n// ::close(1) in a comment is fine\n'
                                'void g() { ::close(1); const char* s = "fork()"; }\n'),
        "src/core/engine_test.cpp": '#include <sys/wait.h>\n#include "pipe_fixture.hpp"\n'
                                    'void t() { fork(); }\n',
        "src/api/named_pipe.cpp": '#include "pipe_fixture.hpp"\n#include "core/engine.hpp"\n',
        "src/win32/pipes.cpp": '#include "os/linux/fd.hpp"\n#include "sluice/named_pipe.hpp"\n',
        "include/sluice/result.hpp": "",
        "include/sluice/named_pipe.hpp": ('#include "sluice/result.hpp"\n'
                                          '#include "core/engine.hpp"\n'),
        "tests/support/pipe_fixture.hpp": '#include <unistd.h>\n',
    }
    expected = {
        "src/shm/ring.cpp:2: layer",          # upward: core is above shm
        "src/shm/ring.cpp:3: layer",          # sideways: transport is shm's sibling
        "src/core/engine.hpp:1: layer",       # core includes the C++ API
        "src/core/engine.cpp:1: os-header",
        "src/core/engine.cpp:3: syscall",
        "src/api/named_pipe.cpp:1: test-support",
        "include/sluice/named_pipe.hpp:2: layer",  # an installed header names an internal one
        "scripts/layers_allowlist.txt:3: stale-allowlist",
    }
    allow = ("# a comment\n"
             "src/win32/*.cpp os/linux/* -- the Win32 layer's machinery is not moved yet\n"
             "src/nothing/* * -- matches nothing\n")
    with tempfile.TemporaryDirectory() as root:
        for path, text in tree.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        allowlist = os.path.join(root, "scripts/layers_allowlist.txt")
        os.makedirs(os.path.dirname(allowlist))
        with open(allowlist, "w", encoding="utf-8") as f:
            f.write(allow)
        got = {":".join(e.split(":")[:3]) for e in check(root, allowlist)}
        # The command line must fail on the same tree, so that CI sees it.
        status = subprocess.run([sys.executable, os.path.abspath(__file__), "--root", root],
                                capture_output=True).returncode
    if got != expected or status != 1:
        print("check_layers self-test FAILED")
        print("  missing:", sorted(expected - got))
        print("  unexpected:", sorted(got - expected))
        print("  exit status on a bad tree:", status)
        return 1
    print(f"check_layers self-test: {len(expected)} violations caught, nothing else")
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.dirname(here))
    parser.add_argument("--allowlist")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        return self_test()
    root = os.path.abspath(args.root)
    allowlist = args.allowlist or os.path.join(root, "scripts/layers_allowlist.txt")
    errors = check(root, allowlist)
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} violation(s); see docs/layers.md", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
