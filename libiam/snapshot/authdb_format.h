/*
 * authdb_format.h - the offsets, flags and limits of auth/auth.db (its
 * layout is described in iam/authdb.h), shared by its builder
 * (authdb_write.c) and its reader (authdb.c).  Private: not installed.
 */
#ifndef IAM_AUTHDB_FORMAT_H
#define IAM_AUTHDB_FORMAT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fnv.h"

#define HDR_SIZE	128
#define MAX_FILE	0xfffffff8u	/* offsets are 32 bits */
#define MAX_LIST	100000u		/* any per-record count */
#define NO_INDEX	0xffffffffu

/* Header field offsets. */
#define H_MAGIC		0
#define H_VERSION	8
#define H_HDRSIZE	12
#define H_GENERATION	16
#define H_FILESIZE	24
#define H_CHECKSUM	32
#define H_NUSERS	40
#define H_NBUCKETS	44
#define H_BUCKETS	48
#define H_GLOBALS	52
#define H_GLOBALS_LEN	56
#define H_POLTAB	60
#define H_NPOL		64

/* Record flags. */
#define R_DISABLED	0x1
#define R_MUST_CHANGE	0x2
#define R_PASSWORD	0x4
#define R_MFA		0x8

/* Fixed part of a record, after its 8-byte checksum. */
#define R_LEN		8
#define R_UID		12
#define R_GID		16
#define R_FLAGS		20
#define R_CREATED	24
#define R_CHANGED	32
#define R_ALGO		40
#define R_DIGITS	44
#define R_PERIOD	48
#define R_NHIST		52
#define R_NGROUPS	56
#define R_NTAGS		60
#define R_NREFS		64
#define R_NINLINE	68
#define R_FIXED		72

/* Password policy flags in the globals. */
#define P_UPPER		0x01
#define P_LOWER		0x02
#define P_NUMBERS	0x04
#define P_SYMBOLS	0x08
#define P_HARD		0x10
#define P_CHANGE	0x20

/*
 * The version 1 files summed every part with FNV-1a, byte after byte;
 * version 2 with iam_sum64(), 8 bytes a step.  The reader takes both.
 */
#define AUTHDB_VERSION_FNV	1

/* The checksum of a part (or of the header) of a file of that version. */
static inline uint64_t
authdb_sum(uint32_t version, const void *p, size_t n)
{
	return version == AUTHDB_VERSION_FNV ? iam_fnv1a(p, n) : iam_sum64(p, n);
}

/* The bucket hash of a user name. */
static inline uint32_t
authdb_name_hash(const char *name)
{
	uint64_t h = iam_fnv1a(name, strlen(name));

	return (uint32_t)(h ^ (h >> 32));
}

struct iam_identity;

/*
 * iam_authdb_build() straight into fd, an empty file open for writing,
 * through a window of some 64 KiB (wiped): the same bytes, without the
 * file in memory.  0, or iam_authdb_build()'s errors, or -errno of a
 * write with *ret_io set; the file is then incomplete.
 */
__attribute__((visibility("hidden")))
int iam_authdb_write(const struct iam_identity *id, uint64_t generation,
		     int fd, bool *ret_io);

#endif
