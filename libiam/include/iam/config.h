/*
 * iam/config.h - settings from iam.conf (libconfig).
 *
 * Every setting has a default (iam.conf(5)), so the file may be absent.
 * Order of precedence: built-in default, then the file, then a front
 * end's own arguments (PAM module arguments, sudo plugin options).
 */
#ifndef IAM_CONFIG_H
#define IAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iam/util.h"

/* Where the package puts things; a build may say otherwise (-D). */
#ifndef IAM_SYSCONFDIR
#define IAM_SYSCONFDIR "/etc"
#endif
#ifndef IAM_SNAPSHOT_DIR
#define IAM_SNAPSHOT_DIR "/var/lib/iam"
#endif

#define IAM_DEFAULT_CONFIG IAM_SYSCONFDIR "/iam/iam.conf"

/* Paths fixed at build time, for readers that take no configuration. */
#define IAM_NSS_DB   IAM_SNAPSHOT_DIR "/nss.db"
#define IAM_KEYS_DB  IAM_SNAPSHOT_DIR "/keys.db"
#define IAM_AUTH_DIR IAM_SNAPSHOT_DIR "/auth"

enum iam_mfa_mode { IAM_MFA_OPTIONAL, IAM_MFA_REQUIRED };
enum iam_hash_method { IAM_HASH_YESCRYPT, IAM_HASH_SHA512CRYPT, IAM_HASH_BCRYPT };
enum iam_unknown_user { IAM_UNKNOWN_DEFER, IAM_UNKNOWN_DENY };

struct iam_tag {
	char *key;	/* tag key, as written */
	char *value;	/* tag value */
};

/* The fleet group: where the identity lives in etcd (iam-agent(8)). */
struct iam_fleet_config {
	char **endpoints;	/* etcd client URLs, http:// or https:// */
	size_t n_endpoints;	/* 0: this host is not in a fleet */
	char *prefix;		/* "/iam/": objects under PREFIX + account id */
	char *account;		/* "": the account id of the identity file */
	char *ca_file;		/* TLS: CA of the etcd servers; "" none */
	char *cert_file;	/* TLS client certificate; "" none */
	char *key_file;		/* its key; "" none */
	char *user;		/* etcd user; "" no etcd authentication */
	char *password_file;	/* its password (root 0600) */
	char *admin_key;	/* administrator's signing key (root 0600) */
	char *trusted_keys;	/* folder of trusted admin public keys */
	char *host_key;		/* this host's signing key (root 0600) */
	char *fleet_key;	/* the fleet's sealing key (root 0600) */
	char *state_dir;	/* last applied generation, outbox (root 0700) */
};

struct iam_config {
	char *identity_file;	/* the source; default /etc/iam/identity.json */
	char *credentials_dir;	/* runtime credentials, root 0700 */
	char *state_dir;	/* runtime state per uid, root 0700 */
	char *run_dir;		/* per login session records, root 0700 */
	char *trail_file;	/* the audit trail, root 0600 */
	char *snapshot_dir;	/* nss.db, keys.db, auth/; IAM_SNAPSHOT_DIR,
				   only a test build changes it */
	bool trail_required;	/* refuse logins the trail cannot record */
	char *hostname;		/* empty: system name up to the first dot */
	struct iam_tag *host_tags;	/* aws:ResourceTag/KEY of this host */
	size_t n_host_tags;
	uint32_t uid_min, uid_max;	/* range of IAM uids */
	uint32_t gid_min, gid_max;	/* range of IAM gids */
	enum iam_mfa_mode mfa;		/* optional or required */
	char **mfa_exempt_services;	/* PAM services never asked for MFA */
	size_t n_mfa_exempt;
	int totp_window;		/* steps accepted either side, 0-10 */
	enum iam_hash_method hash_method;	/* for new password hashes */
	bool uniform_prompts;		/* the code prompt for every name, even
					   users without a device (default) */
	enum iam_unknown_user sudo_unknown_user;	/* non-IAM users in sudo */
	int log_level;			/* syslog priority, LOG_NOTICE default */
	struct iam_fleet_config fleet;	/* the fleet = { } group */
	char *path;			/* file this came from, or NULL (defaults) */
	/* Caps on the identity file (iam.conf(5)); each refusal names its
	   setting.  Defaults IAM_ID_MAX_BYTES, _USERS, _GROUPS. */
	size_t identity_max_bytes;	/* the whole file */
	uint32_t identity_max_users;	/* entries of "users" */
	uint32_t identity_max_groups;	/* entries of "groups" */
	/* pam_iam re-hashes a password at login (which publishes a whole
	   generation) only while the identity has at most this many users;
	   0: never.  Default IAM_REHASH_MAX_USERS. */
	uint32_t rehash_max_users;
};

#define IAM_REHASH_MAX_USERS	100000

/*
 * Fill a fresh configuration with the defaults of iam.conf(5).
 * You own *ret_cfg; release it with iam_config_free().  -ENOMEM.
 */
int iam_config_defaults(struct iam_config **ret_cfg);

/*
 * Load path over the defaults.  A missing file (ENOENT) gives the
 * defaults, unless must_exist.  The file is opened with iam_open_strict()
 * (root-owned, not writable by group or others, parents likewise).
 * An unknown setting, a wrong type, an out-of-range value or a syntax
 * error is -EINVAL with "FILE:LINE: message" in err.
 * You own *ret_cfg; release it with iam_config_free().
 */
int iam_config_load(const char *path, bool must_exist,
		    struct iam_config **ret_cfg, char *err, size_t errlen);

/* Release a configuration; NULL is fine.  Returns NULL. */
struct iam_config *iam_config_free(struct iam_config *cfg);

/*
 * The HOSTNAME of policy resources: the configured hostname, else the
 * system's name up to its first dot.  Writes into buf; -ENAMETOOLONG.
 */
int iam_config_hostname(const struct iam_config *cfg, char *buf, size_t len);

/* True when PAM service is one of mfa_exempt_services (NULL: false). */
bool iam_config_mfa_exempt(const struct iam_config *cfg, const char *service);

/* Parse "yescrypt", "sha512crypt", "bcrypt".  -EINVAL otherwise. */
int iam_hash_method_parse(const char *s, enum iam_hash_method *ret);

#endif
