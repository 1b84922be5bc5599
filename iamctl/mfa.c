/*
 * mfa.c - iamctl mfa enable|disable|list|recovery-codes: a user's TOTP
 * devices (up to IAM_MFA_MAX_DEVICES, each named, AWS's
 * arn:iam:iam::ACCOUNT:mfa/USER/NAME) and one-time recovery codes.
 *
 * Enrolment makes a 160-bit secret (RFC 4226's recommended length) from
 * getrandom, shows it as an otpauth:// URI and a QR code, and commits
 * only after one right code, so a mistyped enrolment never locks a user
 * out.  The step of that code is recorded for that device in the user's
 * state first, so it cannot be replayed at the next login.  The device
 * "default" is the credentials store's "mfa" object, the one device of
 * every store written before named devices existed.
 *
 * Recovery codes: 10 codes of 80 random bits, printed once as
 * XXXX-XXXX-XXXX-XXXX (base32), stored only as sha512crypt hashes;
 * a new set voids the old one.  Which were used is in the user's state.
 */
#include <errno.h>
#include <limits.h>
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
	fputs("usage: iamctl mfa enable USER [--device NAME] [--no-qr]\n"
	      "       iamctl mfa disable USER [--device NAME]\n"
	      "       iamctl mfa list USER [--json]\n"
	      "       iamctl mfa recovery-codes USER\n"
	      "  enable prints an otpauth:// URI (and a QR code), then reads\n"
	      "  one code from the authenticator and enrols only if it is "
	      "right;\n"
	      "  a user has at most 8 devices (the first is \"default\").\n"
	      "  recovery-codes prints 10 new one-time codes once and voids "
	      "the old.\n", f);
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
	 const char *device, struct iam_buf *uri)
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
	/* "alice (laptop)": the app lists each device of alice apart. */
	if (r == 0 && strcmp(device, IAM_MFA_DEFAULT) != 0) {
		r = url_add(uri, " (");
		r = r ? r : url_add(uri, device);
		r = r ? r : url_add(uri, ")");
	}
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

/* Record the enrolment code's step for its device before committing. */
static int
record_step(const struct iam_config *cfg, uint32_t uid, uint32_t tag,
	    uint64_t step)
{
	struct iam_state_handle *h = NULL;
	struct iam_state st;
	int r;

	r = iam_state_open(cfg->state_dir, uid, 0, &h, &st);
	if (r < 0)
		return r;
	if (step > iam_state_device_step(&st, tag)) {
		iam_state_set_device_step(&st, tag, step);
		r = iam_state_save(h, &st);
	}
	iam_state_close(h);
	return r;
}

/* The last accepted step of a device (0 when the user has no state). */
static uint64_t
last_step(const struct iam_config *cfg, uint32_t uid, uint32_t tag)
{
	struct iam_state st;

	if (iam_state_read(cfg->state_dir, uid, 0, &st) < 0)
		return 0;
	return iam_state_device_step(&st, tag);
}

static const char *const algo_names[] = { "SHA1", "SHA256", "SHA512" };

/* The device named name of u (NULL when none); "default" is u->mfa. */
static const struct iam_mfa *
find_device(const struct iam_user *u, const char *name)
{
	if (strcmp(name, IAM_MFA_DEFAULT) == 0)
		return u->mfa.secret != NULL ? &u->mfa : NULL;
	for (size_t i = 0; i < u->n_mfa_devices; i++)
		if (strcmp(u->mfa_devices[i].name, name) == 0)
			return &u->mfa_devices[i];
	return NULL;
}

static size_t
device_count(const struct iam_user *u)
{
	return (u->mfa.secret != NULL ? 1 : 0) + u->n_mfa_devices;
}

static int
recovery_left(const struct iam_config *cfg, const struct iam_user *u)
{
	struct iam_state st = { 0 };
	uint32_t tag, used;

	tag = iam_recovery_set_tag((const char *const *)u->recovery_codes,
				   u->n_recovery_codes);
	(void)iam_state_read(cfg->state_dir, u->uid, 0, &st);
	used = iam_state_recovery_used(&st, tag);
	return iam_recovery_left((const char *const *)u->recovery_codes,
				 u->n_recovery_codes, used);
}

static void
device_arn(const struct iam_identity *id, const struct iam_user *u,
	   const char *device, char *buf, size_t len)
{
	snprintf(buf, len, "arn:iam:iam::%s:mfa/%s/%s", id->account.id,
		 u->name, device);
}

enum change { ENABLE, DISABLE, RECOVERY };

/* The trail is required and could not record the change: not made. */
#define TRAIL_REFUSED	(-ENOLINK)

struct change_arg {
	struct iamctl *ctl;
	const struct iam_user *u;
	enum change what;
	const char *device;
	const struct iam_mfa *m;
	char *const *hashes;
	const char *event;
	const struct iam_event_param *params;
	size_t n_params;
	bool applied;		/* the event was written */
};

/*
 * Applied under the store's lock to the record as stored (or a new one
 * from the identity), so a change made meanwhile by another process is
 * never undone.  The event is written here, before the commit: a change
 * the required trail cannot record is not made.
 */
static int
apply_change(struct iam_creds **cr, void *arg)
{
	struct change_arg *c = arg;
	bool dflt = strcmp(c->device, IAM_MFA_DEFAULT) == 0;
	int r = 0;

	if (*cr == NULL)
		r = iam_creds_from_user(c->u, cr);
	/*
	 * What was checked before the code was asked is checked again on
	 * the record as stored: a default device enabled meanwhile by
	 * another process is never replaced, nor the limit passed.
	 */
	if (r == 0 && c->what == ENABLE && dflt && (*cr)->mfa.secret != NULL)
		r = -EEXIST;
	if (r == 0 && c->what == ENABLE &&
	    iam_creds_device_count(*cr) >= IAM_MFA_MAX_DEVICES)
		r = -ENOSPC;
	if (r == 0 && c->what == ENABLE)
		r = dflt ? iam_creds_set_mfa(*cr, c->m) :
			   iam_creds_add_device(*cr, c->m);
	else if (r == 0 && c->what == DISABLE)
		r = dflt ? iam_creds_set_mfa(*cr, NULL) :
			   iam_creds_remove_device(*cr, c->device);
	else if (r == 0)
		r = iam_creds_set_recovery(*cr, c->hashes, IAM_RECOVERY_CODES);
	if (r == 0 && trail(c->ctl->cfg, c->event, NULL, c->params,
			    c->n_params) < 0 && c->ctl->cfg->trail_required)
		r = TRAIL_REFUSED;
	c->applied = r == 0;
	return r;
}

/*
 * Apply the change to u's record under the store's lock and commit;
 * -errno, TRAIL_REFUSED.  A failed commit is a CommitFailed event.
 */
static int
commit_change(struct iamctl *ctl, const struct iam_user *u, enum change what,
	      const char *device, const struct iam_mfa *m, char *const *hashes,
	      const char *event, const struct iam_event_param *params,
	      size_t n_params, struct iam_faults *faults)
{
	struct change_arg c = { ctl, u, what, device, m, hashes, event,
				params, n_params, false };
	int r;

	r = iam_creds_update(ctl->cfg, u->uid, apply_change, &c, NULL, faults);
	if (r < 0 && c.applied)
		(void)trail(ctl->cfg, event, "CommitFailed", params, n_params);
	return r;
}

static const char *
change_error(int r)
{
	if (r == TRAIL_REFUSED)
		return "the trail is required and unavailable";
	if (r == -ENOSPC)
		return "already 8 devices";
	if (r == -EEXIST)
		return "a device of that name was enabled meanwhile";
	return strerror(-r);
}

static int
commit_mfa(struct iamctl *ctl, const struct iam_identity *id,
	   const struct iam_user *u, const char *device,
	   const struct iam_mfa *m)
{
	struct iam_faults faults = IAM_FAULTS_INIT;
	const char *event = m ? "EnableMFA" : "DisableMFA";
	char arn[512];
	int r;

	device_arn(id, u, device, arn, sizeof(arn));
	r = commit_change(ctl, u, m ? ENABLE : DISABLE, device, m, NULL, event,
			  (struct iam_event_param[]){ { "userName", u->name },
						      { "serialNumber", arn } },
			  2, &faults);
	if (r < 0) {
		print_faults(ctl->cfg->identity_file, &faults);
		iam_faults_release(&faults);
		iamctl_err("mfa: %s: nothing changed (%s)", u->name,
			   change_error(r));
		return EXIT_REFUSED;
	}
	iam_faults_release(&faults);
	if (strcmp(device, IAM_MFA_DEFAULT) == 0)
		printf("MFA device of %s %s\n", u->name,
		       m ? "enabled" : "removed");
	else
		printf("MFA device %s of %s %s\n", device, u->name,
		       m ? "enabled" : "removed");
	fflush(stdout);
	return EXIT_OK;
}

static int
mfa_enable(struct iamctl *ctl, const struct iam_identity *id,
	   const struct iam_user *u, const char *device, bool qr)
{
	unsigned char raw[SECRET_BYTES];
	char secret[40], code[CODE_MAX + 2];
	struct iam_buf uri = IAM_BUF_INIT;
	uint32_t tag = iam_mfa_device_tag(device);
	struct iam_totp t;
	struct iam_mfa m;
	uint64_t step = 0;
	int r, rc = EXIT_REFUSED;

	if (strcmp(device, IAM_MFA_DEFAULT) == 0 && u->mfa.secret != NULL) {
		iamctl_err("mfa enable: %s already has an MFA device; run "
			   "'iamctl mfa disable %s' first, or name another "
			   "with --device NAME", u->name, u->name);
		return EXIT_REFUSED;
	}
	if (find_device(u, device) != NULL) {
		iamctl_err("mfa enable: %s already has a device named %s",
			   u->name, device);
		return EXIT_REFUSED;
	}
	if (device_count(u) >= IAM_MFA_MAX_DEVICES) {
		iamctl_err("mfa enable: %s already has %d devices; disable "
			   "one first", u->name, IAM_MFA_MAX_DEVICES);
		return EXIT_REFUSED;
	}
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		iamctl_err("mfa enable: getrandom: %s", strerror(errno));
		return EXIT_REFUSED;
	}
	base32(raw, sizeof(raw), secret);
	iam_wipe(raw, sizeof(raw));
	if (make_uri(id, u->name, secret, device, &uri) < 0) {
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
			    last_step(ctl->cfg, u->uid, tag), &step);
	iam_wipe(code, sizeof(code));
	if (r < 0) {
		iamctl_err("mfa enable: the code is not right%s; nothing "
			   "changed", r == -EALREADY ? " (already used)" : "");
		trail(ctl->cfg, "EnableMFA", r == -EALREADY ? "MFAReplay" :
		      "InvalidMFA",
		      (struct iam_event_param[]){ { "userName", u->name } }, 1);
		goto out;
	}
	r = record_step(ctl->cfg, u->uid, tag, step);
	if (r < 0) {
		iamctl_err("mfa enable: %s: cannot record the code's step: %s; "
			   "nothing changed", ctl->cfg->state_dir, strerror(-r));
		goto out;
	}
	m = (struct iam_mfa){ .secret = secret, .algorithm = IAM_TOTP_SHA1,
			      .digits = 6, .period = 30,
			      .name = (char *)device, .enabled = time(NULL) };
	rc = commit_mfa(ctl, id, u, device, &m);
out:
	iam_wipe(secret, sizeof(secret));
	iam_buf_wipe(&uri);
	return rc;
}

static int
mfa_disable(struct iamctl *ctl, const struct iam_identity *id,
	    const struct iam_user *u, const char *device)
{
	/* No name: "default", or the only device there is. */
	if (device == NULL && u->mfa.secret == NULL && u->n_mfa_devices == 1)
		device = u->mfa_devices[0].name;
	if (device == NULL && u->mfa.secret == NULL && u->n_mfa_devices > 1) {
		iamctl_err("mfa disable: %s has %u devices; name one with "
			   "--device NAME ('iamctl mfa list %s')", u->name,
			   u->n_mfa_devices, u->name);
		return EXIT_REFUSED;
	}
	if (device == NULL)
		device = IAM_MFA_DEFAULT;
	if (find_device(u, device) == NULL) {
		if (device_count(u) == 0)
			printf("%s has no MFA device\n", u->name);
		else
			printf("%s has no MFA device named %s\n", u->name,
			       device);
		return EXIT_OK;
	}
	return commit_mfa(ctl, id, u, device, NULL);
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void
list_one(const struct iam_identity *id, const struct iam_user *u,
	 const char *name, const struct iam_mfa *m, bool json, bool first)
{
	char arn[512], when[32] = "-";

	device_arn(id, u, name, arn, sizeof(arn));
	if (m->enabled != 0)
		(void)iam_format_time(m->enabled, when, sizeof(when));
	if (!json) {
		printf("%-16s %-20s %-6s %u  %s\n", name, when,
		       algo_names[m->algorithm], m->digits, arn);
		return;
	}
	printf("%s{\"name\":", first ? "" : ",");
	json_str(name);
	printf(",\"serialNumber\":");
	json_str(arn);
	printf(",\"enabled\":");
	if (m->enabled != 0)
		json_str(when);
	else
		fputs("null", stdout);
	printf(",\"algorithm\":\"%s\",\"digits\":%u,\"period\":%u}",
	       algo_names[m->algorithm], m->digits, m->period);
}

static int
mfa_list(struct iamctl *ctl, const struct iam_identity *id,
	 const struct iam_user *u, bool json)
{
	int left = recovery_left(ctl->cfg, u);
	bool first = true;

	if (json) {
		printf("{\"userName\":");
		json_str(u->name);
		printf(",\"devices\":[");
	} else if (device_count(u) == 0) {
		printf("%s has no MFA device\n", u->name);
	} else {
		printf("%-16s %-20s %-6s %s  %s\n", "DEVICE", "ENABLED", "ALGO",
		       "DIGITS", "ARN");
	}
	if (u->mfa.secret != NULL) {
		list_one(id, u, IAM_MFA_DEFAULT, &u->mfa, json, first);
		first = false;
	}
	for (size_t i = 0; i < u->n_mfa_devices; i++, first = false)
		list_one(id, u, u->mfa_devices[i].name, &u->mfa_devices[i],
			 json, first);
	if (json)
		printf("],\"recoveryCodesLeft\":%d}\n", left);
	else
		printf("recovery codes left: %d\n", left);
	return EXIT_OK;
}

static int
mfa_recovery(struct iamctl *ctl, const struct iam_user *u)
{
	char codes[IAM_RECOVERY_CODES][IAM_RECOVERY_LEN + 1];
	char *hashes[IAM_RECOVERY_CODES] = { NULL };
	struct iam_faults faults = IAM_FAULTS_INIT;
	int r = 0, rc = EXIT_REFUSED;

	for (int i = 0; r == 0 && i < IAM_RECOVERY_CODES; i++) {
		r = iam_recovery_generate(codes[i]);
		r = r ? r : iam_recovery_hash(codes[i], &hashes[i]);
	}
	if (r == 0)
		r = commit_change(ctl, u, RECOVERY, IAM_MFA_DEFAULT, NULL,
				  hashes, "CreateMFARecoveryCodes",
				  (struct iam_event_param[]){
					  { "userName", u->name } }, 1,
				  &faults);
	if (r < 0) {
		print_faults(ctl->cfg->identity_file, &faults);
		iamctl_err("mfa recovery-codes: %s: nothing changed (%s)",
			   u->name, change_error(r));
		goto out;
	}
	printf("Recovery codes of %s (each works once; keep them safe, they "
	       "are not shown again;\nthe previous codes no longer work):\n\n",
	       u->name);
	for (int i = 0; i < IAM_RECOVERY_CODES; i++)
		printf("  %s\n", codes[i]);
	putchar('\n');
	fflush(stdout);
	rc = EXIT_OK;
out:
	for (int i = 0; i < IAM_RECOVERY_CODES; i++)
		iam_drop_string(hashes[i]);
	iam_wipe(codes, sizeof(codes));
	iam_faults_release(&faults);
	return rc;
}

/*
 * A user who is not root manages their own devices through the setuid
 * helper, which decides everything itself (the caller, the policy, the
 * password and code): this only hands the words over.
 */
static int
mfa_self_service(struct iamctl *ctl, int argc, char **argv)
{
	int rc = iamctl_words(argc, argv, usage, 1, IAMCTL_HELPER_MAX_ARGS);

	return rc >= 0 ? rc : iamctl_exec_role_helper(ctl, argc, argv);
}

int
cmd_mfa(struct iamctl *ctl, int argc, char **argv)
{
	struct iam_identity *id = NULL;
	const struct iam_user *u;
	const char *verb, *user, *device = NULL;
	bool qr = true, json = false;
	int rc;

	rc = iamctl_words(argc, argv, usage, 3, INT_MAX);
	if (rc >= 0)
		return rc;
	verb = argv[1];
	user = argv[2];
	if (iamctl_bad_name("mfa", user)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(verb, "enable") != 0 && strcmp(verb, "disable") != 0 &&
	    strcmp(verb, "list") != 0 && strcmp(verb, "recovery-codes") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = 3; i < argc; i++) {
		int o = opt_value(argc, argv, &i, "--device", &device);

		if (o < 0)
			return EXIT_USAGE;
		if (o > 0 && (strcmp(verb, "enable") == 0 ||
			      strcmp(verb, "disable") == 0))
			continue;
		if (strcmp(argv[i], "--no-qr") == 0 &&
		    strcmp(verb, "enable") == 0)
			qr = false;
		else if (strcmp(argv[i], "--json") == 0 &&
			 strcmp(verb, "list") == 0)
			json = true;
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (device != NULL && !iam_mfa_name_valid(device)) {
		iamctl_err("mfa: '%s' is not a device name ([A-Za-z0-9_.@+=-], "
			   "1-64)", device);
		return EXIT_USAGE;
	}
	if (geteuid() != 0 && strcmp(verb, "list") != 0)
		return mfa_self_service(ctl, argc, argv);
	rc = load_for(ctl, "mfa", NEED_ROOT | NEED_STORE, &id, user, &u);
	if (rc != EXIT_OK)
		return rc;
	if (strcmp(verb, "enable") == 0) {
		rc = mfa_enable(ctl, id, u, device ? device : IAM_MFA_DEFAULT,
				qr);
	} else if (strcmp(verb, "disable") == 0) {
		rc = mfa_disable(ctl, id, u, device);
	} else if (strcmp(verb, "list") == 0) {
		rc = mfa_list(ctl, id, u, json);
	} else {
		rc = mfa_recovery(ctl, u);
	}
	iam_identity_free(id);
	return rc;
}
