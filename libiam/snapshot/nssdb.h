/*
 * nssdb.h - format and reader of the public snapshot nss.db; libc only.
 *
 * nss.db (root 0644) holds what NSS answers: users (name, uid, primary
 * gid, gecos, home, shell), groups (name, gid, members) and each user's
 * supplementary gids.  It never holds a secret.  It is written by
 * iam_nssdb_build() (iam/snapshot.h) and published by rename, so a reader
 * that has mapped an older file keeps a valid mapping.
 *
 * Layout, all integers in host byte order, every section 8-byte aligned
 * and laid out in this order, one after the other, zero bytes between:
 *
 *   header            struct iam_nssdb_header
 *   users             n_users x struct iam_nssdb_urec
 *   groups            n_groups x struct iam_nssdb_grec
 *   user_name_ht      struct iam_nssdb_slot: open addressing, linear
 *   user_uid_ht         probing; a slot holds index + 1 of a user or
 *   group_name_ht       group, the full hash of its key and a check of
 *   group_gid_ht        both, all 0 when empty; the slot count is a
 *                       power of two larger than the entries
 *   gids              uint32_t supplementary gids, a run per user
 *   members           the member names of each group, NUL-terminated,
 *                       a run per group
 *   strings           NUL-terminated strings; records hold offsets here
 *
 * The initgroups index is the per-user run of gids: getgrouplist() costs
 * one hash probe plus the user's own groups, whatever the group count.
 *
 * Integrity is checked where it is read, so opening costs the same at
 * any size: the header carries the checksum of its own bytes and the
 * section layout; each user record the checksum of its fields and
 * strings, and another of its gids; each group record that of its
 * fields, name and member names; each hash slot a check of the index
 * and hash it holds, so a probe skips the slots of other keys without
 * reading their records, and a damaged slot is noticed rather than
 * hiding an entry.  Every index and offset is bounds-checked again when
 * used, and a hash slot only ever leads to a record whose key is
 * compared, so damage anywhere is either answered as corrupt (-EBADMSG)
 * by the lookup that reads it, or not read at all: never a wrong answer.
 *
 * Version 3 (version 2 before it is refused: its records had no string
 * lengths, and its hashes were others): a user record holds the lengths
 * of its four strings, which lie one after the other from its offset,
 * and a group record the length of its name, so a lookup checks a NUL at
 * each end rather than searching for it; a record's strings start at a
 * multiple of 8 and are padded with zeros to one, so they are summed 8
 * bytes at a time; a user's gids have a sum of their own, read by
 * initgroups alone; a name is hashed 8 bytes at a time.  A reader of version 3 answers UNAVAIL for an older snapshot
 * until the next publication, which the Debian postinst of iam-tools
 * makes on upgrade.
 */
#ifndef IAM_NSSDB_H
#define IAM_NSSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef IAM_SNAPSHOT_DIR
#define IAM_SNAPSHOT_DIR "/var/lib/iam"
#endif
/*
 * Where nss_iam reads: the generation served (IAM_NSS_DB_CURRENT, through
 * the link current that one rename per publication replaces), or, on a
 * host in the flat layout of earlier versions (no current), IAM_NSS_DB.
 */
#ifndef IAM_NSS_DB
#define IAM_NSS_DB IAM_SNAPSHOT_DIR "/nss.db"
#endif
#ifndef IAM_NSS_DB_CURRENT
#define IAM_NSS_DB_CURRENT IAM_SNAPSHOT_DIR "/current/nss.db"
#endif

#define IAM_NSSDB_MAGIC		"IAMNSSDB"	/* 8 bytes, no NUL */
#define IAM_NSSDB_VERSION	3
#define IAM_NSSDB_MAX_SIZE	0xfffffff8u	/* offsets are 32 bits */
#define IAM_NSSDB_MAX_STRING	4096		/* one name, gecos, home, shell */
/* Users or groups in one snapshot: slots of 2x as many still fit 32 bits. */
#define IAM_NSSDB_MAX_ENTRIES	(1u << 24)

enum iam_nssdb_section {
	IAM_NSSDB_USERS,
	IAM_NSSDB_GROUPS,
	IAM_NSSDB_USER_NAME_HT,
	IAM_NSSDB_USER_UID_HT,
	IAM_NSSDB_GROUP_NAME_HT,
	IAM_NSSDB_GROUP_GID_HT,
	IAM_NSSDB_GIDS,
	IAM_NSSDB_MEMBERS,
	IAM_NSSDB_STRINGS,
	IAM_NSSDB_NSECT
};

struct iam_nssdb_sect {
	uint32_t off;		/* from the start of the file, 8-aligned */
	uint32_t size;		/* bytes */
};

struct iam_nssdb_header {
	char magic[8];		/* IAM_NSSDB_MAGIC */
	uint32_t version;	/* IAM_NSSDB_VERSION */
	uint32_t header_size;	/* sizeof(struct iam_nssdb_header) */
	uint64_t file_size;	/* the whole file */
	uint64_t checksum;	/* iam_nssdb_checksum() of the rest of the header */
	uint64_t generation;	/* publishing generation */
	uint32_t n_users;
	uint32_t n_groups;
	uint32_t n_gids;	/* entries in the gids section */
	uint32_t n_members;	/* member names in the members section */
	struct iam_nssdb_sect sect[IAM_NSSDB_NSECT];
	uint32_t reserved[2];	/* zero */
};

/* The header's checksum covers its bytes from this offset on. */
#define IAM_NSSDB_SUMMED_FROM	32

struct iam_nssdb_urec {
	uint32_t strs;		/* string offset of the name, a multiple of 8;
				   gecos, home and shell follow it, each ended
				   by a NUL, then zeros to a multiple of 8 */
	uint32_t uid;
	uint32_t gid;		/* primary gid */
	uint32_t gids;		/* first entry in the gids section */
	uint32_t n_gids;	/* supplementary gids */
	uint16_t name_len;	/* 1 .. IAM_NSSDB_MAX_STRING, NULs excluded */
	uint16_t gecos_len;	/* 0 .. IAM_NSSDB_MAX_STRING */
	uint16_t home_len;
	uint16_t shell_len;
	uint32_t gids_sum;	/* of the gids and the index: only initgroups
				   reads them */
	uint64_t sum;		/* fields above, strings, index */
};

struct iam_nssdb_grec {
	uint32_t name;		/* string offset, a multiple of 8; the name,
				   its NUL, zeros to a multiple of 8 */
	uint32_t gid;
	uint32_t members;	/* first byte in the members section */
	uint32_t n_members;
	uint32_t members_size;	/* bytes of member names, NULs included */
	uint32_t name_len;	/* 1 .. IAM_NSSDB_MAX_STRING, NUL excluded */
	uint64_t sum;		/* fields above, name, member names, index */
};

struct iam_nssdb_slot {
	uint32_t idx;		/* index + 1 of the entry; 0 empty */
	uint32_t tag;		/* the full hash of the entry's key */
	uint32_t check;		/* iam_nssdb_slot_check(idx, tag) */
};

/* A mapped or in-memory snapshot, checked by iam_nssdb_open_mem(). */
struct iam_nssdb {
	const unsigned char *base;	/* the file; NULL when none */
	size_t size;
	uint64_t generation;
	uint32_t n_users, n_groups, n_gids, n_members;
	const struct iam_nssdb_urec *users;
	const struct iam_nssdb_grec *groups;
	const struct iam_nssdb_slot *ht[4];	/* user name, uid, group name, gid */
	uint32_t ht_slots[4];
	const uint32_t *gids;
	const char *members;
	uint32_t members_size;
	const char *strings;
	uint32_t strings_size;
	bool mapped;			/* base came from mmap */
};

/* A user as the reader hands it out; strings borrowed from the snapshot. */
struct iam_nssdb_user {
	const char *name, *gecos, *home, *shell;
	size_t name_len, gecos_len, home_len, shell_len;
	uint32_t uid, gid;
	const uint32_t *gids;	/* n_gids supplementary gids */
	uint32_t n_gids;
};

struct iam_nssdb_group {
	const char *name;
	size_t name_len;
	uint32_t gid;
	uint32_t index;		/* of the group */
	uint32_t n_members;
	const char *members;	/* n_members NUL-terminated names, checked */
	uint32_t members_size;	/* bytes, NULs included */
};

/*
 * Checksum of n bytes: four independent 64-bit multiply-xor lanes, so
 * any change confined to one aligned 8-byte word always changes the sum.
 */
uint64_t iam_nssdb_checksum(const void *p, size_t n);

/*
 * Check size bytes at p (8-aligned) as a snapshot: magic, version, the
 * header's checksum, sizes, section layout.  Records are checked when
 * read.  The bytes must outlive db.  0, or -EBADMSG when anything is
 * wrong.
 */
int iam_nssdb_open_mem(const void *p, size_t size, struct iam_nssdb *ret_db);

/*
 * Open and map path read-only (O_NOFOLLOW|O_CLOEXEC) and check it as
 * above.  The file must be a regular file owned by root and not writable
 * by group or others, and so must its folder be (-EPERM); -ENOENT when
 * missing; -EBADMSG when corrupt.  When st_out is not NULL it receives
 * the fstat() of the file that was mapped.  Release with
 * iam_nssdb_close().
 */
struct stat;
int iam_nssdb_open(const char *path, struct iam_nssdb *ret_db,
		   struct stat *st_out);

/* Unmap a snapshot opened with iam_nssdb_open(); reset db.  NULL is fine. */
void iam_nssdb_close(struct iam_nssdb *db);

/*
 * Lookups.  0 and *ret filled; -ENOENT no such entry; -EBADMSG the
 * snapshot is damaged where the lookup led.  *_at() walk entries by
 * index, 0 .. count - 1, for enumeration.
 */
int iam_nssdb_user_by_name(const struct iam_nssdb *db, const char *name,
			   struct iam_nssdb_user *ret);
int iam_nssdb_user_by_uid(const struct iam_nssdb *db, uint32_t uid,
			  struct iam_nssdb_user *ret);
/*
 * Either of the two above (name NULL: by uid); when gids is 0 the user's
 * gids are neither read nor checked, ret->gids NULL and ret->n_gids 0:
 * what getpwnam() and getpwuid() need.
 */
int iam_nssdb_user(const struct iam_nssdb *db, const char *name, uint32_t uid,
		   int gids, struct iam_nssdb_user *ret);
int iam_nssdb_user_at(const struct iam_nssdb *db, uint32_t i,
		      struct iam_nssdb_user *ret);
int iam_nssdb_group_by_name(const struct iam_nssdb *db, const char *name,
			    struct iam_nssdb_group *ret);
int iam_nssdb_group_by_gid(const struct iam_nssdb *db, uint32_t gid,
			   struct iam_nssdb_group *ret);
int iam_nssdb_group_at(const struct iam_nssdb *db, uint32_t i,
		       struct iam_nssdb_group *ret);

/*
 * Name of the i-th member of g (i < g->n_members), walking from the
 * first.  0, -EBADMSG.  To list them all, walk g->members with
 * iam_nssdb_next_member().
 */
int iam_nssdb_group_member(const struct iam_nssdb *db,
			   const struct iam_nssdb_group *g, uint32_t i,
			   const char **ret_name, size_t *ret_len);

/*
 * The next member name of g at *pos (a byte offset into g->members,
 * 0 first): 0 and *pos advanced, -ENOENT past the last, -EBADMSG.
 */
int iam_nssdb_next_member(const struct iam_nssdb_group *g, uint32_t *pos,
			  const char **ret_name, size_t *ret_len);

/*
 * Write every checksum of the snapshot of size bytes at p (8-aligned):
 * records, slots, then the header.  The builder's last step; tests use it
 * to reseal a deliberate edit.  Records whose offsets lie outside their
 * sections keep their sum.  0, or -EBADMSG when the header's sections do
 * not fit.
 */
int iam_nssdb_seal(void *p, size_t size);

/*
 * The check of a hash slot holding idx and tag: 0 for an empty slot;
 * changing one of the three words always breaks it.
 */
uint32_t iam_nssdb_slot_check(uint32_t idx, uint32_t tag);

/*
 * The sums of the records, for a builder that writes them as it goes:
 * user record u at index i (its gids_sum set) with the run of its four
 * strings (run_len bytes, NULs included, then zeros to a multiple of 8
 * readable); group record g with its name (NUL, zeros to a multiple of
 * 8) and its g->members_size bytes of member names; the gids of user i.
 */
uint64_t iam_nssdb_user_sum(const struct iam_nssdb_urec *u, uint32_t i,
			    const void *run, size_t run_len);
uint64_t iam_nssdb_group_sum(const struct iam_nssdb_grec *g, uint32_t i,
			     const char *name, const char *members);
uint32_t iam_nssdb_gids_sum(const uint32_t *gids, uint32_t n, uint32_t i);

/* Hashes of the indexes, shared by the builder and the reader. */
uint32_t iam_nssdb_hash_name(const char *s, size_t len);
uint32_t iam_nssdb_hash_id(uint32_t id);

#endif
