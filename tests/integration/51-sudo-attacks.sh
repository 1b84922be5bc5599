# 51-sudo-attacks.sh - the real sudo and sudoedit, with the coarse layer
# an administrator would have written before NOSETENV was documented
# (%engineers ALL=(ALL:ALL) ALL, whose ALL lets users set variables), and
# a policy that allows exactly a few commands.  What an attacker tries:
# a library of their own through LD_PRELOAD (on the command line, with
# -E, with --preserve-env=LD_PRELOAD), PYTHONPATH (also through
# --preserve-env) and BASH_ENV against allowed scripts, and an editor that matches a wildcard sudo:Run allow.
# Each must be refused with nothing run as root and the attempt in the
# trail; a harmless variable and a file the policy allows still work.
#
# sudo's PAM phases are pam_permit here: what is tested is the plugin's
# decision on what sudoers already accepted.
TRAIL=/var/log/iam/trail.jsonl
ACCT=123456789012
ARN="arn:iam:sudo::$ACCT:host/web1"
MARKER=$T/marker

mkdir -p -m 0755 "$T/bin" "$T/home/alice/py" "$T/home/bob"
chown -R 70001:70100 "$T/home/alice"
chown 70002:70100 "$T/home/bob"
cat > "$T/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void
evil(void)
{
	if (geteuid() == 0)
		close(open("$MARKER", O_WRONLY | O_CREAT, 0644));
}
EOF
if gcc -shared -fPIC -o "$T/home/alice/evil.so" "$T/evil.c"; then
	ok "built an LD_PRELOAD library that marks a run as root"
else
	bad "gcc"
fi
# The library works: loaded into a root process, it leaves the marker.
LD_PRELOAD=$T/home/alice/evil.so /bin/true
[ -e "$MARKER" ] && ok "the library marks a root process" || bad "no marker from a root process"
rm -f "$MARKER"
printf 'import os\nos.close(os.open("%s", os.O_WRONLY | os.O_CREAT, 0o644))\n' "$MARKER" \
	> "$T/home/alice/py/json.py"
printf ': > %s\n' "$MARKER" > "$T/home/alice/rc"
chown 70001 "$T/home/alice/py/json.py" "$T/home/alice/rc"
printf '#!/usr/bin/python3\nimport json\nprint("report")\n' > "$T/bin/report.py"
printf '#!/bin/bash\necho report\n' > "$T/bin/report.sh"
# An editor for sudoedit: writes the copy it is given (runs as the user).
printf '#!/bin/sh\nfor f; do echo edited > "$f"; done\n' > "$T/bin/editor"
chmod 0755 "$T/bin/report.py" "$T/bin/report.sh" "$T/bin/editor"

cat > "$T/identity.json" <<EOF
{
  "account": { "id": "$ACCT" },
  "groups": [ { "name": "engineers", "gid": 70100, "policies": ["Commands"] } ],
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "engineers",
      "policies": ["FooAndConf"] },
    { "name": "bob", "uid": 70002, "primary_group": "engineers" },
    { "name": "root2", "uid": 70003, "primary_group": "engineers",
      "policies": ["Everything"] }
  ],
  "policies": {
    "Commands": { "Version": "2012-10-17", "Statement": [
      { "Sid": "ExactCommands", "Effect": "Allow", "Action": "sudo:Run",
        "Resource": [ "$ARN/command/usr/bin/id", "$ARN/command/usr/bin/env",
                      "$ARN/command${T}/bin/report.py",
                      "$ARN/command${T}/bin/report.sh" ] },
      { "Sid": "TailLogs", "Effect": "Allow", "Action": "sudo:Run",
        "Resource": "$ARN/command/usr/bin/tail",
        "Condition": { "StringLike": { "iam:Command": "/usr/bin/tail -f /var/log/*" } } } ] },
    "FooAndConf": { "Version": "2012-10-17", "Statement": [
      { "Sid": "Foo", "Effect": "Allow", "Action": "sudo:SetEnv",
        "Resource": "$ARN/env/FOO" },
      { "Sid": "AppConf", "Effect": "Allow", "Action": "sudo:Edit",
        "Resource": [ "$ARN/file/etc/app.conf", "$ARN/file/etc/app-new.conf" ] } ] },
    "Everything": { "Version": "2012-10-17", "Statement": [
      { "Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*" } ] }
  }
}
EOF
cat > /etc/iam/iam.conf <<EOF
hostname = "web1";
EOF
chmod 0644 /etc/iam/iam.conf
mkdir -p -m 0755 /var/lib/iam
if use_identity "$T/identity.json" >"$T/sync.out" 2>&1; then
	ok "identity published"
else
	bad "iamctl sync"; show "$(cat "$T/sync.out")"
fi
cat > /etc/sudo.conf <<EOF
Plugin sudoers_policy sudoers.so
Plugin sudoers_io sudoers.so
Plugin sudoers_audit sudoers.so
Plugin sudo_iam sudo_iam.so config=/etc/iam/iam.conf unknown_user=defer
EOF
chown root:root /etc/sudo.conf
chmod 0644 /etc/sudo.conf
# The old coarse layer: sudoers' ALL implies SETENV.
cat > /etc/sudoers.d/iam <<EOF
Defaults lecture=never, noninteractive_auth
%engineers ALL=(ALL:ALL) ALL
EOF
chmod 0440 /etc/sudoers.d/iam
expect 0 "visudo accepts the coarse layer" visudo -c -q
cat > /etc/pam.d/sudo <<EOF
auth     required   pam_permit.so
account  required   pam_permit.so
session  required   pam_permit.so
EOF
mkdir -p /var/log && echo 'log line' > /var/log/app.log
printf 'original\n' > /etc/app.conf
printf 'other\n' > /etc/other.conf
chmod 0644 /etc/app.conf /etc/other.conf

as() {	# as USER COMMAND...: run as USER with the groups NSS gives
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
		env HOME=/ USER="$u" LOGNAME="$u" PATH=/usr/bin:/bin "$@"
}
trail_count() {
	local n
	n=$(grep -c '"eventName":"SudoRun"' "$TRAIL" 2>/dev/null)
	echo "${n:-0}"
}
last_event() { grep '"eventName":"SudoRun"' "$TRAIL" | tail -1; }
# attack USER DESCRIPTION MESSAGE-REGEX EVENT-REGEX command...: refused
# with the message, nothing ran as root, one more event matching.
attack() {
	local u=$1 d=$2 msg=$3 ev=$4 out rc n
	shift 4
	rm -f "$MARKER"
	n=$(trail_count)
	out=$(cd "$T" && as "$u" timeout 20 "$@" 2>&1); rc=$?
	if [ "$rc" = 1 ] && grep -Eq -- "$msg" <<<"$out" && [ ! -e "$MARKER" ] &&
	   [ "$(trail_count)" -gt "$n" ] && grep -Eq -- "$ev" <<<"$(last_event)"; then
		ok "$d"
	else
		bad "$d (rc=$rc, marker $([ -e "$MARKER" ] && echo PRESENT || echo absent))"
		show "$(last_event)"
	fi
	show "$out"
}

echo "== a plain command is decided as before"
expect_out 0 '^0$' "alice: sudo /usr/bin/id -u" as alice sudo -n /usr/bin/id -u
grep -q '"decision":"Allow"' <<<"$(last_event)" && ! grep -q '"environment"' <<<"$(last_event)" \
	&& ok "trail: Allow, no variable asked" || bad "trail: $(last_event)"

echo "== LD_PRELOAD, whatever sudoers lets through"
NEVER='denied by IAM policy \(variable LD_PRELOAD is never allowed\)'
attack alice "sudo LD_PRELOAD=... /usr/bin/id refused" "$NEVER" \
	'"refusedVariable":"LD_PRELOAD".*"decision":"RefusedVariable"' \
	sudo -n LD_PRELOAD="$T/home/alice/evil.so" /usr/bin/id
attack root2 "refused even for a user whose policy allows everything" "$NEVER" \
	'"errorCode":"AccessDenied"' \
	sudo -n LD_PRELOAD="$T/home/alice/evil.so" /usr/bin/id
# glibc strips LD_* from the setuid sudo's own environment: there is no
# LD_PRELOAD left for --preserve-env to carry, and the command runs bare.
rm -f "$MARKER"
expect_out 0 '^uid=0' "sudo --preserve-env=LD_PRELOAD: nothing to preserve, id runs bare" \
	as alice env LD_PRELOAD="$T/home/alice/evil.so" sudo -n --preserve-env=LD_PRELOAD /usr/bin/id
[ ! -e "$MARKER" ] && ok "no marker" || bad "marker left"
# -E: sudoers drops LD_PRELOAD itself; what it keeps of alice's own
# environment (HOME, ...) is hers to ask for, and she may set only FOO.
attack alice "sudo -E /usr/bin/id refused: alice's own variables are not allowed" \
	'denied by IAM policy \(no allow for variable [A-Z_]+\)' '"action":"sudo:SetEnv"' \
	env LD_PRELOAD="$T/home/alice/evil.so" sudo -n -E /usr/bin/id

echo "== interpreters of allowed scripts"
attack alice "sudo PYTHONPATH=... (allowed python script) refused" \
	'variable PYTHONPATH is never allowed' '"refusedVariable":"PYTHONPATH"' \
	sudo -n PYTHONPATH="$T/home/alice/py" "$T/bin/report.py"
attack alice "sudo BASH_ENV=... (allowed bash script) refused" \
	'variable BASH_ENV is never allowed' '"refusedVariable":"BASH_ENV"' \
	sudo -n BASH_ENV="$T/home/alice/rc" "$T/bin/report.sh"
attack alice "sudo --preserve-env=PYTHONPATH (allowed python script) refused" \
	'variable PYTHONPATH is never allowed' '"refusedVariable":"PYTHONPATH"' \
	env PYTHONPATH="$T/home/alice/py" sudo -n --preserve-env=PYTHONPATH "$T/bin/report.py"
attack alice "sudo --preserve-env=FOO,PYTHONPATH (a list) refused" \
	'variable PYTHONPATH is never allowed' '"refusedVariable":"PYTHONPATH"' \
	env FOO=1 PYTHONPATH="$T/home/alice/py" sudo -n --preserve-env=FOO,PYTHONPATH "$T/bin/report.py"
attack alice "sudo PERL5OPT=... refused" 'variable PERL5OPT is never allowed' \
	'"refusedVariable":"PERL5OPT"' sudo -n PERL5OPT=-Mstrict /usr/bin/id
attack alice "a bash function in a variable refused" 'variable FOO is never allowed' \
	'"refusedVariable":"FOO"' sudo -n 'FOO=() { :; }' /usr/bin/id
expect_out 0 '^report$' "the python script runs as root without them" as alice sudo -n "$T/bin/report.py"
[ ! -e "$MARKER" ] && ok "no marker" || bad "marker left"

echo "== a harmless variable: as the policy says"
expect_out 0 '^FOO=hello$' "alice: sudo FOO=hello env (sudo:SetEnv allowed)" \
	sh -c "cd / && setpriv --reuid=alice --regid=70100 --init-groups env PATH=/usr/bin:/bin sudo -n FOO=hello /usr/bin/env | grep '^FOO='"
grep -q '"environment":"FOO"' <<<"$(last_event)" && grep -q '"decision":"Allow"' <<<"$(last_event)" \
	&& ! grep -q hello <<<"$(last_event)" \
	&& ok "trail: the name FOO, not its value" || bad "trail: $(last_event)"
attack bob "bob: sudo FOO=hello env refused (no sudo:SetEnv)" \
	'denied by IAM policy \(no allow for variable FOO\)' \
	"\"resource\":\"$ARN/env/FOO\"" sudo -n FOO=hello /usr/bin/env
attack alice "alice: sudo BAR=1 env refused" 'no allow for variable BAR' \
	'"environment":"BAR"' sudo -n BAR=1 /usr/bin/env

echo "== sudoedit: the files are decided, never the editor"
attack alice "an editor matching the wildcard Allow on tail is not a command" \
	'denied by IAM policy \(no allow to edit /etc/anything\)' \
	'"action":"sudo:Edit".*"editor":"/usr/bin/tail"|"editor":"/usr/bin/tail".*"action":"sudo:Edit"' \
	env SUDO_EDITOR="/usr/bin/tail -f /var/log/app.log" sudoedit -n /etc/anything
[ ! -e /etc/anything ] && ok "/etc/anything was not created" || bad "/etc/anything exists"
attack alice "same editor, a file that exists: unchanged" \
	'no allow to edit /etc/other.conf' '"files":"/etc/other.conf"' \
	env SUDO_EDITOR="/usr/bin/tail -f /var/log/app.log" sudoedit -n /etc/other.conf
[ "$(cat /etc/other.conf)" = other ] && ok "/etc/other.conf unchanged" || bad "/etc/other.conf changed"
attack alice "sudo -e with that editor refused too" 'no allow to edit /etc/anything' \
	'"action":"sudo:Edit"' \
	env SUDO_EDITOR="/usr/bin/tail -f /var/log/app.log" sudo -n -e /etc/anything
[ ! -e /etc/anything ] && ok "/etc/anything still absent" || bad "/etc/anything exists"
expect 0 "alice: sudoedit /etc/app.conf (sudo:Edit allowed)" \
	as alice env SUDO_EDITOR="$T/bin/editor" sudoedit -n /etc/app.conf
[ "$(cat /etc/app.conf)" = edited ] && ok "/etc/app.conf edited" || bad "/etc/app.conf: $(cat /etc/app.conf)"
grep -q '"files":"/etc/app.conf"' <<<"$(last_event)" && grep -q '"sid":"AppConf"' <<<"$(last_event)" \
	&& ok "trail: the file and the statement that allowed it" || bad "trail: $(last_event)"
printf 'original\n' > /etc/app.conf
expect 0 "alice: sudo -e /etc/app.conf" as alice env SUDO_EDITOR="$T/bin/editor" sudo -n -e /etc/app.conf
[ "$(cat /etc/app.conf)" = edited ] && ok "/etc/app.conf edited by sudo -e" || bad "/etc/app.conf: $(cat /etc/app.conf)"
expect 0 "alice: sudoedit of a new file the policy names" \
	as alice env SUDO_EDITOR="$T/bin/editor" sudoedit -n /etc/app-new.conf
[ "$(cat /etc/app-new.conf 2>/dev/null)" = edited ] && ok "/etc/app-new.conf created" || bad "/etc/app-new.conf missing"
attack bob "bob: sudoedit /etc/app.conf refused (no sudo:Edit)" \
	'no allow to edit /etc/app.conf' '"errorCode":"AccessDenied"' \
	env SUDO_EDITOR="$T/bin/editor" sudoedit -n /etc/app.conf
attack alice "a second file without an allow refuses the whole edit" \
	'no allow to edit /etc/other.conf' '"files":"/etc/app.conf /etc/other.conf"' \
	env SUDO_EDITOR="$T/bin/editor" sudoedit -n /etc/app.conf /etc/other.conf
[ "$(cat /etc/other.conf)" = other ] && ok "/etc/other.conf unchanged" || bad "/etc/other.conf changed"

echo "== the documented coarse layer: sudoers refuses variables itself"
cat > /etc/sudoers.d/iam <<EOF
Defaults lecture=never, noninteractive_auth
%engineers ALL=(ALL:ALL) NOSETENV: ALL
EOF
expect 0 "visudo accepts NOSETENV: ALL" visudo -c -q
rm -f "$MARKER"
expect_out 1 'not allowed to set the following environment variables|sorry' \
	"NOSETENV: sudo LD_PRELOAD=... refused by sudoers" \
	as alice sudo -n LD_PRELOAD="$T/home/alice/evil.so" /usr/bin/id
[ ! -e "$MARKER" ] && ok "no marker" || bad "marker left"
expect_out 0 '^0$' "NOSETENV: a plain command still runs" as alice sudo -n /usr/bin/id -u
