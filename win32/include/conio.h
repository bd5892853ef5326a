/* sluice — conio.h: console input. */
#ifndef SLUICE_WIN32_CONIO_H_
#define SLUICE_WIN32_CONIO_H_

#ifdef __cplusplus
extern "C" {
#endif

/* Reads one key without echo and without waiting for Enter when stdin is a terminal; otherwise
 * reads one byte from stdin. Returns EOF (-1) at end of input without blocking. */
int _getch(void);
/* Like _getch, but echoes the character. */
int _getche(void);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_WIN32_CONIO_H_ */
