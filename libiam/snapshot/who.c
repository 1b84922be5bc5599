/*
 * who.c - who is asking: the one place that decides, for every front end
 * (pam_iam, sudo_iam, iam-role-helper), whether a name is an IAM user, a
 * local name, a name IAM does not know, or cannot be told; and that
 * hands back the IAM user's record from the same generation of the
 * snapshot (iam/who.h).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iam.h"
#include "iam/who.h"
#include "nssdb.h"

#define ETC_PASSWD	"/etc/passwd"
#define PWBUF_MAX	(1u << 20)

/*
 * Past the line of f that starts at pos (fgetpwent_r(3) hands back ERANGE
 * with the stream put back at the start of a line too long for its
 * buffer; retrying as is would read the same line for ever).
 */
static bool
skip_line(FILE *f, long pos)
{
	int c;

	if (pos < 0 || fseek(f, pos, SEEK_SET) < 0)
		return false;
	while ((c = getc(f)) != EOF && c != '\n')
		;
	return c != EOF;
}

bool
iam_passwd_has(const char *name)
{
	struct passwd pw, *pwp = NULL;
	size_t size = 4096;
	char *buf = NULL;
	bool found = false;
	FILE *f;

	f = fopen(ETC_PASSWD, "re");
	if (f == NULL)
		return false;
	for (;;) {
		long pos = ftell(f);
		int r;

		if (buf == NULL && (buf = malloc(size)) == NULL)
			break;
		r = fgetpwent_r(f, &pw, buf, size, &pwp);
		if (r == ERANGE) {
			/* A longer buffer, up to PWBUF_MAX; past that skipped. */
			explicit_bzero(buf, size);
			free(buf);
			buf = NULL;
			if (size < PWBUF_MAX)
				size *= 2;
			else if (!skip_line(f, pos))
				break;
			else
				size = 4096;
			if (size > 4096 && (pos < 0 || fseek(f, pos, SEEK_SET) < 0))
				break;
			continue;
		}
		if (r != 0 || pwp == NULL)
			break;
		if (strcmp(pwp->pw_name, name) == 0) {
			found = true;
			break;
		}
	}
	if (buf != NULL) {
		explicit_bzero(buf, size);
		free(buf);
	}
	fclose(f);
	return found;
}

/* NSS's uid for name; -ENOENT none. */
static int
nss_uid(const char *name, uint32_t *ret_uid)
{
	struct passwd pw, *pwp = NULL;
	size_t size = 4096;
	char *buf = NULL;
	int r = 0;

	do {
		char *p = realloc(buf, size);

		if (p == NULL) {
			free(buf);
			return -ENOMEM;
		}
		buf = p;
		r = getpwnam_r(name, &pw, buf, size, &pwp);
		size *= 2;
	} while (r == ERANGE && size <= PWBUF_MAX);
	r = pwp != NULL ? 0 : -ENOENT;
	if (r == 0)
		*ret_uid = (uint32_t)pwp->pw_uid;
	free(buf);
	return r;
}

bool
iam_nss_agrees(const char *name, uint32_t uid)
{
	uint32_t u;

	return nss_uid(name, &u) == 0 && u == uid;
}

static void
set_unavailable(struct iam_who *w, int r, const char *where, const char *why)
{
	w->kind = IAM_WHO_UNAVAILABLE;
	w->err = r;
	if (where != NULL)
		(void)iam_snprintf(w->why, sizeof(w->why), "%s: %s", where,
				   why);
	else
		(void)iam_snprintf(w->why, sizeof(w->why), "%s", why);
}

/* What r says of a snapshot file, for the log. */
static const char *
file_trouble(int r)
{
	return r == -EBADMSG ? "corrupt" :
		r == -EPERM ? "insecure owner or mode" : strerror(-r);
}

/*
 * Read user's record (and the alias) from auth/auth.db of w->gen: 0 (rec
 * NULL when the name is not there), or a negative errno with w->kind
 * IAM_WHO_UNAVAILABLE.
 */
static int
read_auth_record(struct iam_who *w, const char *user)
{
	char dir[4096], err[512] = "";
	struct iam_authdb *db = NULL;
	const char *alias;
	int r;

	r = iam_generation_path(&w->gen, "auth", dir, sizeof(dir));
	if (r == 0)
		r = iam_authdb_open(dir, &db, err, sizeof(err));
	if (r < 0) {
		set_unavailable(w, r, NULL, err[0] ? err : strerror(-r));
		return r;
	}
	alias = iam_authdb_account_alias(db);
	if (alias == NULL || iam_snprintf(w->alias, sizeof(w->alias), "%s",
					  alias) < 0)
		w->alias[0] = '\0';
	w->n_users = iam_authdb_count(db);
	r = iam_authdb_lookup(db, user, &w->rec);
	db = iam_authdb_close(db);
	w->record_read = true;
	if (r == 0 || r == -ENOENT)
		return 0;
	set_unavailable(w, r, NULL, r == -EBADMSG ? "the private snapshot is "
			"corrupt" : strerror(-r));
	return r;
}

/* IAM_WHO_PRIVATE: the name's uid from auth.db, then NSS must agree. */
static void
who_from_private(struct iam_who *w, const char *user)
{
	uint32_t uid;

	if (read_auth_record(w, user) < 0)
		return;
	if (w->rec == NULL) {
		w->kind = IAM_WHO_UNKNOWN;
		return;
	}
	w->uid = w->rec->uid;
	if (nss_uid(user, &uid) < 0 || uid != w->uid) {
		w->rec = iam_auth_user_free(w->rec);
		w->kind = IAM_WHO_UNKNOWN;
		return;
	}
	w->kind = IAM_WHO_USER;
}

void
iam_who(const char *snapshot_dir, const char *user, unsigned flags,
	struct iam_who *w)
{
	struct iam_nssdb db;
	struct iam_nssdb_user u;
	char path[4096];
	uint32_t uid;
	int r;

	memset(w, 0, sizeof(*w));
	w->gen.fd = -1;
	if ((flags & IAM_WHO_PASSWD_LOCAL) && iam_passwd_has(user)) {
		w->kind = IAM_WHO_LOCAL;
		return;
	}
	r = iam_generation_open(snapshot_dir, &w->gen);
	if (r < 0) {
		set_unavailable(w, r, snapshot_dir, file_trouble(r));
		return;
	}
	if (flags & IAM_WHO_PRIVATE) {
		who_from_private(w, user);
		return;
	}
	r = iam_generation_path(&w->gen, "nss.db", path, sizeof(path));
	memset(&db, 0, sizeof(db));
	if (r == 0)
		r = iam_nssdb_open(path, &db, NULL);
	if (r == 0) {
		r = iam_nssdb_user_by_name(&db, user, &u);
		if (r == 0)
			w->uid = u.uid;
		iam_nssdb_close(&db);
		if (r == -ENOENT) {
			/* Not in the snapshot: a name IAM does not know. */
			w->kind = IAM_WHO_UNKNOWN;
			return;
		}
	}
	if (r < 0) {
		set_unavailable(w, r, path, file_trouble(r));
		return;
	}
	/* NSS must resolve the name to the same uid, else it is not ours. */
	if (nss_uid(user, &uid) < 0 || uid != w->uid) {
		w->kind = IAM_WHO_UNKNOWN;
		return;
	}
	w->kind = IAM_WHO_USER;
}

int
iam_who_record(struct iam_who *w, const char *snapshot_dir, const char *user)
{
	int r;

	if (w->kind == IAM_WHO_LOCAL)
		return 0;
	if (w->kind == IAM_WHO_UNAVAILABLE)
		return w->err;
	if (w->record_read)
		return 0;
	/* A test build's iam.conf may name another snapshot folder. */
	if (w->gen.fd < 0 || strcmp(w->gen.base, snapshot_dir) != 0) {
		iam_generation_close(&w->gen);
		r = iam_generation_open(snapshot_dir, &w->gen);
		if (r < 0) {
			set_unavailable(w, r, snapshot_dir, file_trouble(r));
			return r;
		}
	}
	/* Every name that is not local does the same lookup. */
	r = read_auth_record(w, user);
	if (r < 0)
		return r;
	if (w->kind != IAM_WHO_USER) {
		/* Not ours, whatever the private snapshot holds. */
		w->rec = iam_auth_user_free(w->rec);
		return 0;
	}
	if (w->rec == NULL || w->rec->uid != w->uid) {
		w->rec = iam_auth_user_free(w->rec);
		set_unavailable(w, -EBADMSG, NULL, "the private snapshot "
				"disagrees with nss.db");
		return w->err;
	}
	return 0;
}

void
iam_who_settle(struct iam_who *w, const char *user, uint32_t uid_min,
	       uint32_t uid_max)
{
	uint32_t uid;

	if (w->kind != IAM_WHO_UNAVAILABLE)
		return;
	if (nss_uid(user, &uid) == 0 && (uid < uid_min || uid > uid_max))
		w->kind = IAM_WHO_LOCAL;
}

void
iam_who_decide(const char *snapshot_dir, const char *user, unsigned flags,
	       struct iam_who *w)
{
	iam_who(snapshot_dir, user, flags, w);
	(void)iam_who_record(w, snapshot_dir, user);
}

void
iam_who_release(struct iam_who *w)
{
	w->rec = iam_auth_user_free(w->rec);
	iam_generation_close(&w->gen);
}
