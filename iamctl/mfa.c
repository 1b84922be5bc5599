/*
 * mfa.c - iamctl mfa enable USER [--no-qr] | mfa disable USER.
 *
 * Enrolment makes a 160-bit secret (RFC 4226's recommended length) from
 * getrandom, shows it as an otpauth:// URI and a QR code, and commits
 * only after one right code, so a mistyped enrolment never locks a user
 * out.  The step of that code is recorded in the user's state first, so
 * it cannot be replayed at the next login.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <qrencode.h>

#include "cmd.h"

#define SECRET_BYTES	20	/* 160 bits */
#define CODE_MAX	16

static void
usage(FILE *f)
{
	fputs("usage: iamctl mfa enable USER [--no-qr]\n"
	      "       iamctl mfa disable USER\n"
	      "  enable prints an otpauth:// URI (and a QR code), then reads\n"
	      "  one code from the authenticator and enrols only if it is "
	      "right.\n", f);
}

/* RFC 4648 base32 without padding; out needs 8 * ceil(n / 5) + 1 bytes. */
static void
base32(const unsigned char *in, size_t n, char *out)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned int buf = 0, bits = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[k++] = alpha[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[k++] = alpha[(buf << (5 - bits)) & 31];
	out[k] = '\0';
	buf = 0;
}

/* Percent-encode everything but RFC 3986's unreserved characters. */
static int
url_add(struct iam_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (; r == 0 && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			r = iam_buf_add(b, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			r = iam_buf_add(b, e, 3);
		}
	}
	return r;
}

static int
make_uri(const struct iam_identity *id, const char *user, const char *secret,
	 struct iam_buf *uri)
{
	const char *issuer = id->account.alias ? id->account.alias :
			     id->account.id;
	int r;

	r = iam_buf_adds(uri, "otpauth://totp/");
	if (r == 0)
		r = url_add(uri, issuer);
	if (r == 0)
		r = iam_buf_adds(uri, ":");
	if (r == 0)
		r = url_add(uri, user);
	if (r == 0)
		r = iam_buf_addf(uri, "?secret=%s&issuer=", secret);
	if (r == 0)
		r = url_add(uri, issuer);
	if (r == 0)
		r = iam_buf_adds(uri, "&algorithm=SHA1&digits=6&period=30");
	return r;
}

/*
 * Draw the code with Unicode half blocks, two modules a character, light
 * modules as blocks (for the usual dark terminal), inside a quiet zone.
 */
static int
draw_qr(const char *text)
{
	static const char *const glyph[4] = { " ", "\u2584", "\u2580",
					      "\u2588" };
	const int quiet = 2;
	QRcode *q;
	int w;

	q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (q == NULL)
		return -errno;
	w = q->width;
	for (int y = -quiet; y < w + quiet; y += 2) {
		for (int x = -quiet; x < w + quiet; x++) {
			bool top, bottom;

			top = y < 0 || y >= w || x < 0 || x >= w ||
			      !(q->data[y * w + x] & 1);
			bottom = y + 1 < 0 || y + 1 >= w || x < 0 || x >= w ||
				 !(q->data[(y + 1) * w + x] & 1);
			fputs(glyph[(top ? 2 : 0) | (bottom ? 1 : 0)], stdout);
		}
		putchar('\n');
	}
	/* The QR code holds the secret. */
	iam_wipe(q->data, (size_t)w * (size_t)w);
	QRcode_free(q);
	return 0;
}

/* Record the enrolment code's step before anything is committed. */
static int
record_step(const struct iam_config *cfg, uint32_t uid, uint64_t step)
{
	struct iam_state_handle *h = NULL;
	struct iam_state st;
	int r;

	r = iam_state_open(cfg->state_dir, uid, 0, &h, &st);
	if (r < 0)
		return r;
	if (step > st.last_step) {
		st.last_step = step;
		r = iam_state_save(h, &st);
	}
	iam_state_close(h);
	return r;
}

/* The user's last accepted step (0 when the user has no state yet). */
static uint64_t
last_step(const struct iam_config *cfg, uint32_t uid)
{
	struct iam_state st;

	if (iam_state_read(cfg->state_dir, uid, 0, &st) < 0)
		return 0;
	return st.last_step;
}

static int
commit_mfa(struct iamctl *ctl, const struct iam_user *u,
	   const struct iam_mfa *m)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	struct iam_creds *creds = NULL;
	const char *event = m ? "EnableMFA" : "DisableMFA";
	int r;

	r = iam_creds_load(ctl->cfg, u->uid, &creds, &faults);
	if (r == -ENOENT)
		r = iam_creds_from_user(u, &creds);
	if (r == 0)
		r = iam_creds_set_mfa(creds, m);
	/* The event first: a change the required trail cannot record is not made. */
	if (r == 0 && trail(ctl->cfg, event, NULL,
			    (struct iam_event_param[]){ { "userName", u->name } },
			    1) < 0 && ctl->cfg->trail_required) {
		iam_creds_free(creds);
		iamctl_err("mfa: %s: nothing changed (the trail is required "
			   "and unavailable)", u->name);
		return EXIT_REFUSED;
	}
	if (r == 0)
		r = iam_creds_commit(ctl->cfg, u->uid, creds, NULL, &faults);
	iam_creds_free(creds);
	if (r < 0) {
		print_faults(ctl->cfg->identity_file, &faults);
		iam_faults_release(&faults);
		iamctl_err("mfa: %s: nothing changed (%s)", u->name,
			   strerror(-r));
		(void)trail(ctl->cfg, event, "CommitFailed",
			    (struct iam_event_param[]){ { "userName", u->name } },
			    1);
		return EXIT_REFUSED;
	}
	iam_faults_release(&faults);
	printf("MFA device of %s %s\n", u->name, m ? "enabled" : "removed");
	fflush(stdout);
	return EXIT_OK;
}

static int
mfa_enable(struct iamctl *ctl, const struct iam_identity *id,
	   const struct iam_user *u, bool qr)
{
	unsigned char raw[SECRET_BYTES];
	char secret[40], code[CODE_MAX + 2];
	struct iam_buf uri = IAM_BUF_INIT;
	struct iam_totp t;
	struct iam_mfa m;
	uint64_t step = 0;
	int r, rc = EXIT_REFUSED;

	if (u->mfa.secret != NULL) {
		iamctl_err("mfa enable: %s already has an MFA device; run "
			   "'iamctl mfa disable %s' first", u->name, u->name);
		return EXIT_REFUSED;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		iamctl_err("mfa enable: getrandom: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	base32(raw, sizeof(raw), secret);
	iam_wipe(raw, sizeof(raw));
	if (make_uri(id, u->name, secret, &uri) < 0) {
		iamctl_err("mfa enable: out of memory");
		goto out;
	}
	printf("Add this device to an authenticator app:\n\n%s\n\n", uri.buf);
	if (qr && draw_qr(uri.buf) < 0)
		iamctl_err("mfa enable: cannot draw the QR code; use the URI");
	fflush(stdout);
	r = read_line("Verification code: ", false, code, sizeof(code));
	if (r < 0) {
		iamctl_err("mfa enable: no code read; nothing changed");
		rc = EXIT_USAGE;
		goto out;
	}
	t = (struct iam_totp){ secret, IAM_TOTP_SHA1, 6, 30 };
	r = iam_totp_verify(&t, code, time(NULL), ctl->cfg->totp_window,
			    last_step(ctl->cfg, u->uid), &step);
	iam_wipe(code, sizeof(code));
	if (r < 0) {
		iamctl_err("mfa enable: the code is not right%s; nothing "
			   "changed", r == -EALREADY ? " (already used)" : "");
		trail(ctl->cfg, "EnableMFA", r == -EALREADY ? "MFAReplay" :
		      "InvalidMFA",
		      (struct iam_event_param[]){ { "userName", u->name } }, 1);
		goto out;
	}
	r = record_step(ctl->cfg, u->uid, step);
	if (r < 0) {
		iamctl_err("mfa enable: %s: cannot record the code's step: %s; "
			   "nothing changed", ctl->cfg->state_dir, strerror(-r));
		goto out;
	}
	m = (struct iam_mfa){ secret, IAM_TOTP_SHA1, 6, 30 };
	rc = commit_mfa(ctl, u, &m);
out:
	iam_wipe(secret, sizeof(secret));
	iam_buf_wipe(&uri);
	return rc;
}

int
cmd_mfa(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_identity *id = NULL;
	const struct iam_user *u;
	bool enable, qr = true;
	int rc;

	if (iamctl_wants_help(argc, argv)) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc == 4 && strcmp(argv[3], "--no-qr") == 0)
		qr = false;
	else if (argc != 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	enable = strcmp(argv[1], "enable") == 0;
	if ((!enable && strcmp(argv[1], "disable") != 0) ||
	    (!enable && !qr) || iamctl_bad_name("mfa", argv[2])) {
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = need_root("mfa");
	if (rc == EXIT_OK && iamctl_config(ctl) == NULL)
		rc = EXIT_USAGE;
	if (rc == EXIT_OK && store_prepare(ctl->cfg) < 0)
		rc = EXIT_REFUSED;
	if (rc == EXIT_OK)
		rc = load_identity(ctl, &id);
	if (rc != EXIT_OK)
		return rc;
	u = iam_identity_user(id, argv[2]);
	if (u == NULL) {
		iamctl_err("mfa: no such user '%s'", argv[2]);
		rc = EXIT_REFUSED;
	} else if (enable) {
		rc = mfa_enable(ctl, id, u, qr);
	} else if (u->mfa.secret == NULL) {
		printf("%s has no MFA device\n", u->name);
	} else {
		rc = commit_mfa(ctl, u, NULL);
	}
	iam_identity_free(id);
	return rc;
}
