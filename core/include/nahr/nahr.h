/* nahr/nahr.h - everything a plugin author needs: include this one header.
 *
 * Build a plugin out of tree with:
 *   cc -shared -fPIC -o myplugin.so myplugin.c $(pkg-config --cflags --libs nahr)
 */
#ifndef NAHR_NAHR_H
#define NAHR_NAHR_H

#include "common.h"
#include "doc.h"
#include "plugin.h"
#include "text.h"
#include "token.h"

#define NAHR_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif
/* The libnahr version the program runs with (may differ from the header's). */
NAHR_EXPORT const char *nahr_version(void);
#ifdef __cplusplus
}
#endif
#endif
