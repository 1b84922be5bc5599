/* nssdb.h - format of the public snapshot nss.db; libc only. */
#ifndef IAM_NSSDB_H
#define IAM_NSSDB_H
#endif
