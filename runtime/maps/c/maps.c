/*
 * maps.c: the one translation unit of the map module (build.sh compiles only this file). It pulls in the
 * shared definitions and core.c, which includes each map type's file before the exports that dispatch to them.
 */
#include "common.h"
#include "core.c"
