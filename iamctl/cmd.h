/*
 * cmd.h - what the administrator's commands of iamctl share: changes of
 * the identity file through a small JSON tree editing layer, reading the
 * merged identity, the acting administrator and terminal input.
 *
 * A change of the identity file is one "edit": edit_open() takes the
 * store's lock, reads the file (strict rules) and builds its model;
 * the command then builds a modified tree with the j_* helpers (new
 * arrays and objects that reference the old nodes, which stay in the
 * document); edit_commit() writes the tree, validates the text
 * completely, refuses when the file changed underneath, replaces it
 * atomically (root 0600), publishes, and writes an IdentityCommit event.
 * A refused change leaves every file byte for byte as it was.
 */
#ifndef IAMCTL_CMD_H
#define IAMCTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iamctl.h"
#include "iam/audit.h"
#include "iam/auth.h"

/* Implemented by simulate.c: iamctl policy simulate ... */
iamctl_cmd_fn cmd_policy_simulate;

/* Implemented by init.c: iamctl init [--account-id ID] [--alias NAME] */
iamctl_cmd_fn cmd_init;
/* Implemented by fleet.c: iamctl fleet ... (iam-agent(8)) */
iamctl_cmd_fn cmd_fleet;

struct edit {
	struct iam_config *cfg;		/* borrowed from the iamctl */
	int lockfd;			/* the store's lock, -1 when not held */
	struct iam_buf orig;		/* the file as read under the lock */
	struct iam_json_doc *doc;	/* its parsed tree */
	struct iam_identity *id;	/* its validated model (lookups) */
	struct iam_json root;		/* the tree being built */
	void **allocs;			/* everything j_* allocated */
	size_t n_allocs, cap_allocs;
	bool oom;			/* a j_* helper ran out of memory */
	bool invalid;			/* the last commit failed validation */
};

/*
 * Take the lock and read the configured identity file.  Returns EXIT_OK,
 * or the exit status after printing why (the edit is then closed).
 */
int edit_open(struct iamctl *ctl, struct edit *e);

/* The same; with !need_valid the file is only read (e->id, e->doc NULL). */
int edit_open_flags(struct iamctl *ctl, struct edit *e, bool need_valid);

/*
 * Commit e->root: validate, write, publish, trail (params: what changed,
 * in words and by key).  Prints the faults of a refused change.
 * Returns an exit status.  The edit stays open; close it after.
 */
int edit_commit(struct edit *e, const char *what,
		const struct iam_event_param *params, size_t n_params);

/*
 * The same for a whole new text (iamctl edit).  The file must still hold
 * exactly e->orig.  A text that fails validation sets e->invalid.
 */
int edit_commit_text(struct edit *e, const char *text, size_t len,
		     const char *what, const struct iam_event_param *params,
		     size_t n_params);

/*
 * The folder of path, made root 0755 when missing (iam_ensure_dir; with
 * if_missing, one that lstat finds is left as it is).  0, or -errno with
 * the reason printed.
 */
int make_parent(const char *path, bool if_missing);

/* Create the parent of credentials_dir when missing (root 0755). */
int store_prepare(const struct iam_config *cfg);

/* Release everything and unlock; safe on a closed edit. */
void edit_close(struct edit *e);

/* ---- Tree helpers: on allocation failure they set e->oom ------------ */

struct iam_json j_string(struct edit *e, const char *s);
struct iam_json j_int(struct edit *e, int64_t v);
struct iam_json j_bool(bool v);
/* obj NULL or not an object: a new object. Key copied. */
struct iam_json j_set(struct edit *e, const struct iam_json *obj,
		      const char *key, struct iam_json val);
struct iam_json j_del(struct edit *e, const struct iam_json *obj,
		      const char *key);
/* arr NULL or not an array: a new array. */
struct iam_json j_push(struct edit *e, const struct iam_json *arr,
		       struct iam_json val);
struct iam_json j_remove(struct edit *e, const struct iam_json *arr, size_t i);
struct iam_json j_replace(struct edit *e, const struct iam_json *arr, size_t i,
			  struct iam_json val);
/* Index of the string s in arr, or -1. */
ssize_t j_find_string(const struct iam_json *arr, const char *s);
/* Index of the object with "name": name in arr, or -1. */
ssize_t j_find_named(const struct iam_json *arr, const char *name);
/*
 * edit_open(), then the index in "users" of the user name, who must also
 * be in the model.  EXIT_OK with the edit open, or the exit status with
 * the reason printed ("CMD: no such user 'NAME'") and the edit closed.
 */
int edit_open_user(struct iamctl *ctl, struct edit *e, const char *cmd,
		   const char *name, size_t *ret);
/*
 * The same for the group name in "groups" ("CMD: no such group 'NAME'");
 * ret may be NULL.
 */
int edit_open_group(struct iamctl *ctl, struct edit *e, const char *cmd,
		    const char *name, size_t *ret);
/* The same for the managed policy name ("CMD: no such policy 'NAME'"). */
int edit_open_policy(struct iamctl *ctl, struct edit *e, const char *cmd,
		     const char *name);
/* Replace member key of the idx-th object of top-level array (e.g. users). */
void edit_set_in(struct edit *e, const char *array, size_t idx,
		 const char *key, struct iam_json val);
void edit_del_in(struct edit *e, const char *array, size_t idx,
		 const char *key);

/* ---- Reading, people and terminals ---------------------------------- */

/*
 * Load the configured identity file (strict) merged with the stored
 * credentials.  Prints the faults and returns an exit status on failure.
 */
int load_identity(struct iamctl *ctl, struct iam_identity **ret_id);

/* What a command needs before it reads the identity (load_for()). */
enum load_need {
	NEED_ROOT = 1,		/* root's privileges: need_root(cmd) */
	NEED_STORE = 2,		/* credentials_dir's parent: store_prepare() */
};

/*
 * A command's prologue: what need asks, then load_identity(); with name,
 * also that user's record (*ret_u), refused as "CMD: no such user 'NAME'".
 * EXIT_OK, or the exit status with the reason printed and nothing held.
 */
int load_for(struct iamctl *ctl, const char *cmd, unsigned need,
	     struct iam_identity **ret_id, const char *name,
	     const struct iam_user **ret_u);

/* Print a fault list to stderr, relative paths prefixed with file. */
void print_faults(const char *file, const struct iam_faults *f);

/* Refuse (print, EXIT_REFUSED) when not running with root's privileges. */
int need_root(const char *cmd);

/*
 * The start of a root command of no words: with json, --json taken into
 * *json; then iamctl_words(argc, argv, usage, 1, 1) and need_root(cmd).
 * -1 when the command goes on, else the exit status (reason printed).
 */
int root_command(int argc, char **argv, void (*usage)(FILE *),
		 const char *cmd, bool *json);

/*
 * The acting administrator: the kernel's login uid, else the real uid,
 * never the environment.  name receives the account name or "uid N".
 */
uid_t actor(char *name, size_t len);

/* Write one iamctl trail event; prints a warning when it failed. */
int trail(const struct iam_config *cfg, const char *event, const char *error,
	  const struct iam_event_param *params, size_t n_params);

/*
 * Read one line into buf (no newline); with echo off when stdin is a
 * terminal and !echo.  prompt goes to the terminal (or stderr).
 * Returns 0, -EIO, -E2BIG (line too long), -ENODATA (end of input).
 */
int read_line(const char *prompt, bool echo, char *buf, size_t len);

/*
 * Read fd to its end into b (NUL-terminated), at most max bytes: 0, or
 * -EFBIG when there is more, -errno, -ENOMEM.  With drain, after -EFBIG
 * or -ENOMEM the rest is still read and dropped (b keeps what came
 * before), so a writer never blocks.
 */
int read_fd(int fd, struct iam_buf *b, size_t max, bool drain);

/* Parse a uid/gid option value within [min, max]. */
int parse_id(const char *s, uint32_t min, uint32_t max, uint32_t *ret);

/*
 * Match argv[*i] against option opt ("--opt V" or "--opt=V"): 1 and
 * *ret set (and *i advanced past a separate value), 0 when argv[*i] is
 * another word, -1 when the value is missing (message printed).
 */
int opt_value(int argc, char **argv, int *i, const char *opt,
	      const char **ret);

/*
 * Print a warning (stderr, with the JSON path where.Statement[i]...) for
 * each "arn:aws:" Resource of the policy document doc, which can never
 * match on a host; path names the file.  Returns how many (validate.c).
 */
size_t warn_aws_policy(const char *path, const char *where,
		       const struct iam_json *doc);

/* ---- Free ids (hostids.c) ------------------------------------------ */

/* The host's own ids: /etc/passwd, /etc/group, /etc/subuid, /etc/subgid. */
struct host_ids {
	struct id_range *r[4];	/* passwd, group, subuid, subgid */
	size_t n[4];
};

/* Read the four files directly (never NSS).  -errno when one is unreadable. */
int host_ids_load(struct host_ids *h);
void host_ids_release(struct host_ids *h);

/*
 * Why id cannot be a uid (as_gid false) or a gid (as_gid true): in use
 * by IAM, retired, a local account or group, or inside a subordinate id
 * range.  NULL when free.  The reason is written into buf.
 */
const char *id_taken(const struct iam_identity *id, const struct host_ids *h,
		     uint32_t n, bool as_gid, char *buf, size_t len);

/*
 * The lowest id of [min, max] free as a uid (want_uid) and as a gid
 * (want_gid).  -ENOSPC when none.
 */
int id_pick(const struct iam_identity *id, const struct host_ids *h,
	    uint32_t min, uint32_t max, bool want_uid, bool want_gid,
	    uint32_t *ret);

#endif
