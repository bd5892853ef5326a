/* sluice — crtdefs.h: definitions of the MSVC C run-time that its headers share and that the
 * Linux C library lacks: the path limits of its stdlib.h (windows.h, tchar.h and process.h
 * include this header, since a program cannot get them from the system's stdlib.h). */
#ifndef SLUICE_WIN32_CRTDEFS_H_
#define SLUICE_WIN32_CRTDEFS_H_

#ifndef _MAX_PATH
#define _MAX_PATH 260
#endif
#ifndef _MAX_DRIVE
#define _MAX_DRIVE 3
#endif
#ifndef _MAX_DIR
#define _MAX_DIR 256
#endif
#ifndef _MAX_FNAME
#define _MAX_FNAME 256
#endif
#ifndef _MAX_EXT
#define _MAX_EXT 256
#endif

#endif /* SLUICE_WIN32_CRTDEFS_H_ */
