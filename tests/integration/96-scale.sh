# 96-scale.sh - SCALE_USERS users (default 200000; `make check-scale` runs
# 1000000) end to end with the real clients: iamctl validate and sync,
# every kind of iamctl change (user add, user disable, passwd, group add,
# group add-user, policy detach and attach), a login through pamtester
# and pam_iam, id, getent passwd and group (lookups and enumeration); then
# each cap of iam.conf (identity_max_bytes, identity_max_users) refused
# with its own message, nothing changed and the last snapshots served.
# Each step's time goes to the log.
N=${SCALE_USERS:-200000}
G=$(( N / 100 > 10 ? N / 100 : 10 ))
PW='Scale-Horse-9!x'
ID=/etc/iam/identity.json
LAST=u$((N - 1))

timed() {	# timed LABEL command...: run; the time and peak memory to stderr
	local label=$1 t0 rc
	shift
	t0=$EPOCHREALTIME
	/usr/bin/time -f '%M' -o "$T/rss" "$@"
	rc=$?
	awk -v l="$label" -v a="$t0" -v b="$EPOCHREALTIME" -v m="$(cat "$T/rss")" \
		'BEGIN { printf "      time: %-28s %6.1f s %8.0f MB\n", l, b - a, m / 1024 }' >&2
	return $rc
}

mkdir -p -m 0755 /var/lib/iam
cat >> /etc/iam/iam.conf <<EOF
uid_min = 100000; uid_max = 1999999;
gid_min = 100000; gid_max = 1999999;
EOF
cp /etc/iam/iam.conf "$T/iam.conf.orig"
HASH=$(openssl passwd -6 "$PW")
timed "generate $N users" python3 - "$N" "$G" "$HASH" > "$T/identity.json" <<'EOF'
import sys
n, g, h = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
w = sys.stdout.write
w('{"account":{"id":"123456789012"},"users":[\n')
for i in range(n):
    pw = ',"password":{"hash":"%s"}' % h if i == n - 1 else ''
    w('%s{"name":"u%d","uid":%d,"primary_group":"g%d","gecos":"User %d",'
      '"groups":["g%d","g%d"],"policies":["Login"]%s}\n'
      % (',' if i else '', i, 100000 + i, i % g, i, (i + 7) % g,
         (i + 31) % g, pw))
w('],"groups":[\n')
for j in range(g):
    w('%s{"name":"g%d","gid":%d}\n' % (',' if j else '', j, 100000 + j))
w('],"policies":{"Login":{"Version":"2012-10-17","Statement":[{'
  '"Effect":"Allow","Action":"host:Login","Resource":"*"}]}}}\n')
EOF
install -m 0600 "$T/identity.json" "$ID"
echo "      $(stat -c %s "$ID") bytes, $N users, $G groups"

# ---- validate, sync, lookups ----
expect_out 0 '^OK$' "validate: $N users" timed validate iamctl validate
expect_out 0 'published generation' "sync: $N users" timed sync iamctl sync
expect_out 0 "^$LAST:\\*:$((100000 + N - 1)):" "getent passwd of the last user" \
	getent passwd "$LAST"
expect_out 0 "^u0:\\*:100000:100000:User 0:/home/u0:/bin/bash$" \
	"getent passwd of the first user by uid" getent passwd 100000
expect_out 0 "uid=$((100000 + N - 1))\\($LAST\\).*groups=.*g$(( (N - 1 + 31) % G ))" \
	"id of the last user lists its groups" id "$LAST"
locals=$(wc -l < /etc/passwd)
out=$(timed "getent passwd (all)" getent passwd | wc -l)
[ "$out" = $((N + locals)) ] && ok "getent passwd enumerates $N IAM users" ||
	bad "getent passwd enumerates $out entries, not $((N + locals))"
expect_out 0 "^g1:\\*:100001:u" "getent group of a group" \
	sh -c 'getent group g1 | cut -c 1-72'

# ---- a login ----
printf 'auth required pam_iam.so\naccount required pam_iam.so\n' > /etc/pam.d/iamscale
# Above rehash_max_users (100000 by default) a right sha512crypt password
# is not re-hashed at login, which would publish a whole generation inside
# it: both logins are plain, nothing is published.
CRED=/var/lib/iam/credentials/$((100000 + N - 1)).json
gen0=$(readlink /var/lib/iam/current)
for i in 1 2; do
	expect_out 0 'successfully authenticated' "pamtester: $LAST logs in ($i)" \
		timed "login ($i)" sh -c "printf '%s\n' '$PW' 000000 | pamtester -v iamscale $LAST authenticate acct_mgmt"
done
if [ "$N" -gt 100000 ]; then
	[ "$(readlink /var/lib/iam/current)" = "$gen0" ] &&
		! grep -qs '"hash": *"\$y\$' "$CRED" &&
		ok "over rehash_max_users: no re-hash, no generation published at login" ||
		bad "a login at $N users re-hashed or published ($gen0 -> $(readlink /var/lib/iam/current))"
	# raised, the next right password is re-hashed with yescrypt
	echo "rehash_max_users = 16777216;" >> /etc/iam/iam.conf
	expect_out 0 'successfully authenticated' "pamtester: $LAST logs in, rehash_max_users raised" \
		timed "login (re-hash)" sh -c "printf '%s\n' '$PW' 000000 | pamtester -v iamscale $LAST authenticate"
	grep -qs '"hash": *"\$y\$' "$CRED" &&
		[ "$(readlink /var/lib/iam/current)" != "$gen0" ] &&
		ok "rehash_max_users raised: re-hashed with yescrypt and published" ||
		bad "no re-hash with rehash_max_users raised"
	cp "$T/iam.conf.orig" /etc/iam/iam.conf
	expect_out 0 'successfully authenticated' "pamtester: $LAST logs in with the re-hashed password" \
		sh -c "printf '%s\n' '$PW' 000000 | pamtester -v iamscale $LAST authenticate"
fi
expect_out 1 'Authentication failure' "pamtester: a wrong password is refused" \
	sh -c "printf '%s\n' 'Wrong-Horse-9!x' 000000 | pamtester -v iamscale $LAST authenticate"

# ---- every kind of change ----
expect_out 0 'user newbie added' "user add at $N users" \
	timed "user add" iamctl user add newbie --group g3
expect_out 0 '^newbie:\*:' "the new user is served" getent passwd newbie
expect_out 0 'user u5 disabled' "user disable" timed "user disable" iamctl user disable u5
expect 0 "passwd" timed passwd sh -c "echo 'Other-Horse-8!y' | iamctl passwd u7 --stdin"
expect_out 0 'successfully authenticated' "pamtester: u7 logs in with its new password" \
	sh -c "printf '%s\n' 'Other-Horse-8!y' 000000 | pamtester -v iamscale u7 authenticate"
expect_out 0 'group newgroup added' "group add" timed "group add" iamctl group add newgroup
expect_out 0 'user u9 added to group newgroup' "group add-user" \
	timed "group add-user" iamctl group add-user newgroup u9
expect_out 0 '^newgroup:\*:[0-9]+:u9$' "the new member is served" getent group newgroup
expect_out 0 'detached' "policy detach" timed "policy detach" iamctl policy detach Login --user u11
expect_out 0 'attached to user u11' "policy attach" \
	timed "policy attach" iamctl policy attach Login --user u11
expect_out 0 '^OK$' "the rewritten file validates" iamctl validate
echo "      $(stat -c %s "$ID") bytes after the changes"

# ---- the caps, each refused by name; nothing changes ----
before=$(sha256sum < "$ID")
gen=$(readlink /var/lib/iam/current)
size=$(stat -c %s "$ID")
unchanged() {
	if [ "$(sha256sum < "$ID")" = "$before" ] &&
	   [ "$(readlink /var/lib/iam/current)" = "$gen" ]; then ok "$1: nothing changed"
	else bad "$1: something changed"; fi
}
{ cat "$T/iam.conf.orig"; echo "identity_max_users = $((N + 1));"; } > /etc/iam/iam.conf
expect_out 1 "users: $((N + 2)) entries are over the limit of $((N + 1)) \\(identity_max_users in iam.conf\\)" \
	"user add over identity_max_users is refused by name" iamctl user add extra
unchanged "identity_max_users"
{ cat "$T/iam.conf.orig"; echo "identity_max_bytes = $((size - 1));"; } > /etc/iam/iam.conf
expect_out 1 "is over the size limit of $((size - 1)) bytes \\(identity_max_bytes in iam.conf\\)" \
	"validate of a file over identity_max_bytes is refused by name" iamctl validate
expect_out 1 "identity_max_bytes in iam.conf" \
	"sync of a file over identity_max_bytes is refused by name" iamctl sync
expect_out 1 "identity_max_bytes in iam.conf" \
	"a change of a file over identity_max_bytes is refused by name" iamctl user add extra
unchanged "identity_max_bytes (read)"
{ cat "$T/iam.conf.orig"; echo "identity_max_bytes = $((size + 16));"; } > /etc/iam/iam.conf
expect_out 1 "would be [0-9]+ bytes, over the limit of $((size + 16)) \\(identity_max_bytes in iam.conf\\)" \
	"a change whose rewrite passes identity_max_bytes is refused by name" \
	iamctl user add extra --gecos "A long enough gecos to pass the cap"
unchanged "identity_max_bytes (written)"
expect_out 0 "^$LAST:" "the last snapshots are still served" getent passwd "$LAST"
cp "$T/iam.conf.orig" /etc/iam/iam.conf
