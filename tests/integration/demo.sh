# demo.sh - narrated tour (sourced by harness.sh inside the namespace).
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
say "The modules are installed (inside this private namespace only)"
run ls -l "$LIBDIR/security/pam_iam.so" "$LIBDIR/libnss_iam.so.2" /usr/libexec/sudo/sudo_iam.so /usr/sbin/iamctl
expect_out 0 '^iamctl ' "iamctl answers" iamctl --version
