/* Lists the pipes of the machine, as Sysinternals PipeList does, through the Win32 calls a
 * program can make: FindFirstFile and FindNextFile on \\.\pipe\*, which report each pipe's
 * current number of instances in nFileSizeLow. (PipeList also shows the maximum, which Windows
 * reports only through NtQueryDirectoryFile; WIN32_FIND_DATA has no field for it.)
 * Usage: pipelist [pattern]   e.g. pipelist "my*" */
#include <windows.h>
#include <stdio.h>
#include <tchar.h>

int _tmain(int argc, TCHAR* argv[]) {
  TCHAR path[MAX_PATH];
  WIN32_FIND_DATA data;
  HANDLE find;
  DWORD pipes = 0;

  lstrcpy(path, TEXT("\\\\.\\pipe\\"));
  if (argc > 1 && lstrlen(argv[1]) < MAX_PATH - lstrlen(path))
    lstrcat(path, argv[1]);
  else
    lstrcat(path, TEXT("*"));
  find = FindFirstFile(path, &data);
  if (find == INVALID_HANDLE_VALUE) {
    if (GetLastError() == ERROR_FILE_NOT_FOUND) {
      _tprintf(TEXT("No pipes.\n"));
      return 0;
    }
    _tprintf(TEXT("FindFirstFile failed. GLE=%d\n"), (int)GetLastError());
    return 1;
  }
  _tprintf(TEXT("%-50s %9s\n"), TEXT("Pipe Name"), TEXT("Instances"));
  _tprintf(TEXT("%-50s %9s\n"), TEXT("---------"), TEXT("---------"));
  do {
    _tprintf(TEXT("%-50s %9lu\n"), data.cFileName, (unsigned long)data.nFileSizeLow);
    ++pipes;
  } while (FindNextFile(find, &data));
  if (GetLastError() != ERROR_NO_MORE_FILES)
    _tprintf(TEXT("FindNextFile failed. GLE=%d\n"), (int)GetLastError());
  FindClose(find);
  _tprintf(TEXT("%lu pipe(s)\n"), (unsigned long)pipes);
  return 0;
}
