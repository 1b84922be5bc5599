/*
 * iam/who.h - who is asking: an IAM user, a local name, a name IAM does
 * not know, or a question the snapshot cannot answer (libiam/snapshot/
 * who.c); every file of that one lookup is taken from one generation
 * (iam/generation.h).
 *
 * The rule (DESIGN.md "Who is an IAM user"): a name is an IAM user when
 * the published snapshot's nss.db has it and NSS resolves the name to the
 * same uid; its record then comes from auth/auth.db of the same
 * generation.  A front end that never prompts local names asks for
 * IAM_WHO_PASSWD_LOCAL: a name of /etc/passwd is then local before any
 * snapshot is read.  When the snapshot is unusable, iam_who_settle()
 * makes a uid outside uid_min-uid_max local; anything else fails closed.
 */
#ifndef IAM_WHO_H
#define IAM_WHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam/authdb.h"
#include "iam/generation.h"

enum iam_who_kind {
	IAM_WHO_LOCAL,		/* /etc/passwd (IAM_WHO_PASSWD_LOCAL), or a
				   local uid while the snapshot is unusable */
	IAM_WHO_USER,		/* nss.db and NSS agree on its uid */
	IAM_WHO_UNKNOWN,	/* neither local nor IAM */
	IAM_WHO_UNAVAILABLE,	/* the snapshot cannot tell: fail closed */
};

/* iam_who() flags. */
#define IAM_WHO_PASSWD_LOCAL	0x1	/* a name of /etc/passwd is local */
#define IAM_WHO_PRIVATE		0x2	/* root only: decide from auth.db of
					   the generation (the same users and
					   uids as its nss.db, and a lookup
					   that does not read the whole file),
					   its record read at once */

struct iam_who {
	enum iam_who_kind kind;
	uint32_t uid;			/* IAM_WHO_USER: the uid both agree on */
	int err;			/* IAM_WHO_UNAVAILABLE: negative errno */
	char why[320];			/* IAM_WHO_UNAVAILABLE: for the log */
	struct iam_auth_user *rec;	/* after iam_who_record(): the IAM
					   user's record; owned */
	char alias[128];		/* the account alias, "" none */
	bool record_read;		/* auth.db read already */
	struct iam_generation gen;	/* the generation read */
	size_t n_users;			/* users of that auth.db, once read */
};

/*
 * Decide who user is from /etc/passwd (with IAM_WHO_PASSWD_LOCAL),
 * snapshot_dir's nss.db and NSS.  Never fails: the answer is w->kind.
 * Release w with iam_who_release() in every case.
 */
void iam_who(const char *snapshot_dir, const char *user, unsigned flags,
	     struct iam_who *w);

/*
 * The record of an IAM user (and the account alias, for every name that
 * is not local) from auth/auth.db of the generation iam_who() read; when
 * snapshot_dir names another folder (a test build's iam.conf), from the
 * generation served there.  A private snapshot that lacks the user or
 * holds another uid is torn.  0 (w->rec set for IAM_WHO_USER), or a
 * negative errno with w->kind IAM_WHO_UNAVAILABLE and w->why set.
 */
int iam_who_record(struct iam_who *w, const char *snapshot_dir,
		   const char *user);

/*
 * The snapshot is unusable: a uid NSS resolves for user outside
 * uid_min-uid_max makes the name local.
 */
void iam_who_settle(struct iam_who *w, const char *user, uint32_t uid_min,
		    uint32_t uid_max);

/* iam_who() then iam_who_record(): the whole answer in one call. */
void iam_who_decide(const char *snapshot_dir, const char *user,
		    unsigned flags, struct iam_who *w);

/* Free the record, close the generation; w may be reused. */
void iam_who_release(struct iam_who *w);

/* True when NSS resolves name to uid. */
bool iam_nss_agrees(const char *name, uint32_t uid);

/* True when name is a line of /etc/passwd (read directly, never NSS). */
bool iam_passwd_has(const char *name);

#endif
