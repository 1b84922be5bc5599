/* nssdb.c - reader of the public snapshot nss.db (libc only). */
#include "nssdb.h"
