/* hex.h: reading hex digits, for UUIDs, %-escapes and \u escapes. */
#ifndef KILN_HEX_H
#define KILN_HEX_H

/* The value (0 to 15) of the hex digit c, in either case, or -1 when c is
 * not one. c is a char or an unsigned char: a negative char is no digit. */
int hex_value(int c);

#endif
