/*
 * phase.h - what the account, session and password phases share: the
 * user of the private snapshot, the PAM items, the trail and the
 * messages to the user.  Authentication (auth.c) keeps its own, because
 * it must do the same work for names that are not IAM users.
 */
#ifndef PAM_IAM_PHASE_H
#define PAM_IAM_PHASE_H

#include <stdbool.h>
#include <stdint.h>
#include <security/pam_modules.h>

#include "pam_iam.h"

/* pam_set_data() name of the session phase: struct pam_iam_opened. */
#define PAM_IAM_DATA_SESSION	"pam_iam_session"

/* What pam_sm_open_session leaves for pam_sm_close_session. */
struct pam_iam_opened {
	uint32_t uid;		/* whose session */
	int64_t opened;		/* epoch seconds */
};

/* One call of a pam_sm_* function for one user. */
struct phase {
	pam_handle_t *pamh;
	struct pam_iam_opts o;
	struct iam_who who;		/* who is asking (who.c) */
	bool opts_loaded;		/* o must be released */
	const char *user;		/* PAM_USER, borrowed */
	const char *service;		/* PAM_SERVICE or NULL */
	const char *tty;		/* PAM_TTY or NULL */
	const char *rhost;		/* PAM_RHOST or NULL */
	struct iam_auth_user *rec;	/* the IAM user; owned */
	int64_t now;
	char arn[384];			/* the user's ARN */
};

/*
 * Read PAM_USER, decide who it is (who.c, before iam.conf), then load
 * the settings, read the items and look the user up in the private
 * snapshot.  Returns PAM_SUCCESS with p->rec set; PAM_USER_UNKNOWN for a
 * name that is not an IAM user (local, absent from nss.db, NSS
 * disagrees on the uid, or a local uid while the snapshot is unusable),
 * whatever state iam.conf is in; PAM_AUTHINFO_UNAVAIL when IAM is
 * unusable for a name that may be an IAM user (logged, and with usable
 * settings an "Unavailable" event named event_name); PAM_BUF_ERR,
 * PAM_INCOMPLETE, PAM_CONV_ERR.  Call pam_iam_phase_end() in every case.
 */
int pam_iam_phase_begin(struct phase *p, pam_handle_t *pamh, int flags,
			int argc, const char **argv, const char *event_name);
void pam_iam_phase_end(struct phase *p);

/* A message to the user, unless PAM_SILENT. */
void pam_iam_say(struct phase *p, int style, const char *text);

/*
 * Write an event of p's user to the trail (eventSource pam_iam).
 * error NULL means success.  Returns 0 when recorded, or when it could
 * not be and trail_required is false (logged either way); a negative
 * errno when it could not be recorded and trail_required is true.
 */
int pam_iam_trail(struct phase *p, const char *event, const char *error,
		  const struct iam_event_param *params, size_t n_params,
		  const char *decision_json);

/* The time of a TOTP check by this handle's authentication, or 0. */
int64_t pam_iam_mfa_time(struct phase *p);

/* The phases' entry points' bodies (account.c, session.c, password.c). */
int pam_iam_account(struct phase *p);
int pam_iam_session_open(struct phase *p);
int pam_iam_session_close(struct phase *p);
int pam_iam_chauthtok(struct phase *p, int flags);

#endif
