# 46-publish-crash.sh - publishing under a bad day: a read-only and a full
# trail folder with trail_required true and false, a really full disk,
# damaged publications found by doctor and mended by sync (--repair),
# invalid UTF-8 refused, and 200 random kills of iamctl edit while a
# login loop and a lookup loop must never see a mixed set.
. "$TOP/tests/integration/lib-faults.sh"
mkdir -p -m 0755 /var/lib/iam /var/log/iam
W=$T/w; mkdir -p "$W"
fault_fixture || bad "the fixture does not publish"
TRAIL=/var/log/iam/trail.jsonl
ID=/etc/iam/identity.json

set_required() {	# set_required true|false
	sed -i '/^trail_required/d' /etc/iam/iam.conf
	echo "trail_required = $1;" >> /etc/iam/iam.conf
}
# unchanged_by DESC CMD...: refused, the readers and the files as before
unchanged_by() {
	local d=$1 v0 id0 rc
	shift
	v0=$(fault_view); id0=$(sha256sum < "$ID")
	"$@" >"$W/out" 2>&1; rc=$?
	if [ $rc != 0 ] && [ "$(fault_view)" = "$v0" ] &&
	   [ "$(sha256sum < "$ID")" = "$id0" ] && [ -z "$(fault_leftovers)" ]; then
		ok "$d: refused (rc $rc), nothing changed"
	else
		bad "$d: rc $rc, or something changed"; show "$(cat "$W/out")"
	fi
}
changed_by() {	# changed_by DESC CMD...: exit 0 and live
	local d=$1 v0 rc
	shift
	v0=$(fault_view)
	"$@" >"$W/out" 2>&1; rc=$?
	if [ $rc = 0 ] && [ "$(fault_view)" != "$v0" ]; then ok "$d: done and live"
	else bad "$d: rc $rc"; show "$(cat "$W/out")"; fi
}

# ---- the trail folder read-only, then full -------------------------------------------
: >> "$TRAIL"; chmod 0600 "$TRAIL"
mount --bind /var/log/iam /var/log/iam && mount -o remount,bind,ro /var/log/iam
set_required true
lines=$(wc -l < "$TRAIL")
unchanged_by "trail read-only, trail_required: user disable" iamctl user disable alice
unchanged_by "trail read-only, trail_required: user add" iamctl user add dave --primary-group team
unchanged_by "trail read-only, trail_required: passwd" \
	sh -c "printf '%s\n' '$FX_PW_NEW' | iamctl passwd alice --stdin"
set_required false
changed_by "trail read-only, trail not required: user disable" iamctl user disable alice
umount /var/log/iam
[ "$(wc -l < "$TRAIL")" = "$lines" ] && ok "the read-only trail got nothing" || bad "trail grew"
fault_restore fixture
mount -t tmpfs -o size=16k,mode=0755 tmpfs /var/log/iam
: > "$TRAIL"; chmod 0600 "$TRAIL"
dd if=/dev/zero of=/var/log/iam/filler bs=1k count=64 2>/dev/null
set_required true
unchanged_by "trail folder full, trail_required: user add" iamctl user add dave --primary-group team
unchanged_by "trail folder full, trail_required: ssh-key deactivate" iamctl ssh-key deactivate alice k1
set_required false
changed_by "trail folder full, trail not required: user add" iamctl user add dave --primary-group team
umount /var/log/iam
set_required true
fault_restore fixture

# ---- a really full disk under /var/lib/iam -------------------------------------------
cp -a /var/lib/iam "$W/lib"
mount -t tmpfs -o size=256k,mode=0755 tmpfs /var/lib/iam
cp -a "$W/lib/." /var/lib/iam/
dd if=/dev/zero of=/var/lib/iam/filler bs=4k 2>/dev/null
unchanged_by "disk full: user add" iamctl user add dave --primary-group team
unchanged_by "disk full: passwd" sh -c "printf '%s\n' '$FX_PW_NEW' | iamctl passwd alice --stdin"
# Pages left: the generation is cut short at each point, until it fits.
done_at=
for free in 1 2 3 4 5 6 8 10 12 16 24; do
	rm -f /var/lib/iam/filler
	dd if=/dev/zero of=/var/lib/iam/filler bs=4k count=$(( $(df -k --output=avail /var/lib/iam | tail -1) / 4 - free )) 2>/dev/null
	v0=$(fault_view)
	if iamctl user disable alice >"$W/out" 2>&1; then
		[ "$(fault_view)" != "$v0" ] && [ -z "$(fault_leftovers)" ] &&
			ok "disk full but $free pages: user disable goes through whole" ||
			bad "disk full but $free pages: exit 0 but not live"
		done_at=$free
		break
	fi
	[ "$(fault_view)" = "$v0" ] && [ -z "$(fault_leftovers)" ] ||
		bad "disk full but $free pages: refused but changed"
done
[ -n "$done_at" ] && [ "$done_at" -gt 1 ] &&
	ok "with 1 to $((done_at - 1)) pages free user disable was refused, nothing changed" ||
	bad "no refusal or no success on the nearly full disk ($done_at)"
rm -f /var/lib/iam/filler
[ -z "$(fault_leftovers)" ] && ok "nothing left of the refused runs" || bad "leftovers: $(fault_leftovers)"
umount /var/lib/iam
fault_restore fixture

# ---- damaged publications: doctor says so, sync mends ---------------------------------
# pub_clean DESC: doctor finds nothing wrong with the publication
PUB_RE='/var/lib/iam/(current|gen|nss.db|keys.db|auth|generation|\.)|/etc/iam/\.|changed after the last'
doctor_says() {	# doctor_says REGEX DESC, whatever else it finds
	iamctl doctor > "$W/doctor.out" 2>&1
	LAST_OUT=$(cat "$W/doctor.out")
	if grep -Eq -- "$1" "$W/doctor.out"; then ok "$2"; else bad "$2"; show "$LAST_OUT"; fi
}
pub_clean() {
	iamctl doctor > "$W/doctor.out" 2>&1
	if grep -Eq "$PUB_RE" "$W/doctor.out"; then
		bad "$1"; show "$(grep -E "$PUB_RE" "$W/doctor.out")"
	else
		ok "$1"
	fi
}
iamctl user disable bob >/dev/null 2>&1; iamctl user enable bob >/dev/null 2>&1
pub_clean "doctor: a clean publication"
gen=$(readlink /var/lib/iam/current); prev=$(ls /var/lib/iam/gen | sort -n | head -1)
cp -p "/var/lib/iam/gen/$prev/keys.db" "/var/lib/iam/$gen/keys.db"
doctor_says "error: /var/lib/iam/$gen: keys.db: generation $prev in a folder of generation ${gen#gen/}: a torn set" \
	"doctor: a torn set is an error"
grep -q 'fix: run iamctl sync --repair' <<<"$LAST_OUT" && ok "  ... with the fix" || bad "  ... no fix"
expect 0 "sync --repair rebuilds it" iamctl sync --repair
pub_clean "doctor: clean after the repair"
[ "$(ls /var/lib/iam/gen | wc -l)" = 1 ] && ok "--repair keeps only the new generation" || bad "generations: $(ls /var/lib/iam/gen)"
echo garbage > /var/lib/iam/current/generation
doctor_says 'error: .*generation: unreadable' "doctor: a garbage generation file"
expect_out 0 'published generation' "a garbage generation file blocks no sync" iamctl sync
pub_clean "doctor: clean after the sync"
gen=$(readlink /var/lib/iam/current)
rm /var/lib/iam/current; mkdir /var/lib/iam/current
expect 1 "current a folder: alice is refused, not served from a guess" \
	sh -c "printf '%s\n' '$FX_PW_A' | pamtester iamfault alice authenticate"
expect_out 1 'current: a folder, not a link; run iamctl sync --repair' \
	"sync refuses to replace a folder and names the repair" iamctl sync
expect 0 "sync --repair replaces it" iamctl sync --repair
expect 0 "alice logs in again" sh -c "printf '%s\n' '$FX_PW_A' | pamtester iamfault alice authenticate"
: > /var/lib/iam/.current.0123456789abcdef
: > /etc/iam/.identity.json.0123456789abcdef
mkdir /var/lib/iam/gen/999999
doctor_says 'warning: /var/lib/iam/.current.0123456789abcdef: a temporary' \
	"doctor: a temporary of an interrupted publication"
grep -q 'warning: /etc/iam/.identity.json.0123456789abcdef: a temporary copy of the identity file' <<<"$LAST_OUT" &&
	ok "doctor: an identity temporary" || bad "doctor: identity temporary not reported"
grep -q 'warning: /var/lib/iam/gen/999999: a generation an interrupted publication left unfinished' <<<"$LAST_OUT" &&
	ok "doctor: an unfinished generation" || bad "doctor: unfinished generation not reported"
iamctl sync >/dev/null
[ -z "$(fault_leftovers)" ] && [ ! -e /var/lib/iam/gen/999999 ] &&
	ok "the next sync removes them all" || bad "left: $(fault_leftovers)"
expect_out 0 'published generation 1000001' "and numbering goes on above the unfinished one" iamctl sync
touch "$ID"
doctor_says "warning: $ID: changed after the last published snapshot" \
	"doctor: an identity file ahead of the generation served"
iamctl sync >/dev/null

# ---- invalid UTF-8 is never published -------------------------------------------------
fault_restore fixture
v0=$(fault_view)
jq '.users[0].gecos = "A"' "$ID" | sed 's/"gecos": "A"/"gecos": "\xc0\xaf"/' > "$W/overlong.json"
expect_out 1 'users\[0\]\.gecos: .*not valid UTF-8' "an overlong form is refused with its path" \
	iamctl validate "$W/overlong.json"
jq '.users[0].gecos = "A"' "$ID" | sed 's/"gecos": "A"/"gecos": "x\\ud800"/' > "$W/surrogate.json"
expect_out 1 'users\[0\]\.gecos: string has the escape of a lone UTF-16 surrogate' \
	"a lone surrogate escape is refused with its path" iamctl validate "$W/surrogate.json"
expect_out 1 'not valid UTF-8' "user add --gecos with an overlong form is refused" \
	iamctl user add dave --primary-group team --gecos $'\xc0\xaf'
cp "$W/overlong.json" "$ID"
expect 1 "sync of a hand edit with an overlong form is refused" iamctl sync
[ "$(fault_view)" = "$v0" ] && ok "nothing of it is served" || bad "served"
fault_restore fixture

# ---- random kills under a login and a lookup load --------------------------------------
# Each edit sets mark's gecos, password and key comment to "gen N": a
# reader sees one N everywhere, or a mixed set.
cat > "$W/ed.sh" <<'EOS'
#!/bin/sh
jq --arg g "gen $MARK_N" --arg h "$MARK_H" --arg c "gen-$MARK_N" \
	'(.users[] | select(.name == "mark")) |= (.gecos = $g | .password.hash = $h |
	  .ssh_keys[0].key = (.ssh_keys[0].key | sub(" [^ ]*$"; " " + $c)))' "$1" > "$1.new" &&
	cat "$1.new" > "$1" && rm -f "$1.new"
EOS
chmod 0755 "$W/ed.sh"
hash_of() { openssl passwd -6 "Mark-gen-$1"; }
export EDITOR=$W/ed.sh
MARK_N=0 MARK_H=$(hash_of 0) iamctl edit >/dev/null 2>&1 || bad "the first edit"
# Lookups: mark's gecos is always "gen N", N never goes back.
(
	last=0
	while [ ! -e "$W/stop" ]; do
		g=$(getent passwd mark | cut -d: -f5)
		n=${g#gen }
		if [ "$g" != "gen $n" ] || [ "$n" -lt "$last" ]; then
			echo "lookup: '$g' after gen $last" >> "$W/violations"
		fi
		last=${n:-$last}
	done
) &
LOOKUP=$!
# Logins: with the password of the generation NSS shows; when NSS shows
# the same generation before and after, the login must have passed (and
# it is never "unavailable").
(
	while [ ! -e "$W/stop" ]; do
		a=$(getent passwd mark | cut -d: -f5); a=${a#gen }
		printf '%s\n' "Mark-gen-$a" | pamtester iamfault mark authenticate \
			>"$W/login.out" 2>&1
		rc=$?
		b=$(getent passwd mark | cut -d: -f5); b=${b#gen }
		grep -q 'cannot retrieve' "$W/login.out" &&
			echo "login: unavailable at gen $a" >> "$W/violations"
		[ $rc != 0 ] && [ "$a" = "$b" ] &&
			echo "login: the password of gen $a refused while NSS served gen $a" >> "$W/violations"
		echo x >> "$W/logins"
	done
) &
LOGIN=$!
# mark needs the login policy for pamtester's account phase: not used here.
mixed=0 kills=0 i=0
served() {	# the generation each reader serves, "nss keys login genfile"
	local g k l=none f
	g=$(getent passwd mark | cut -d: -f5); g=${g#gen }
	k=$(iamctl ssh-keys mark | sed -n 's/.* gen-\([0-9]*\)$/\1/p')
	for m in $g $((g + 1)) $((g - 1)); do
		printf '%s\n' "Mark-gen-$m" | pamtester iamfault mark authenticate >/dev/null 2>&1 &&
			{ l=$m; break; }
	done
	f=$(cat /var/lib/iam/generation)
	echo "$g $k $l $([ "$(readlink /var/lib/iam/current)" = "gen/$f" ] && echo same || echo other)"
}
start=$SECONDS
while [ $i -lt 200 ]; do
	i=$((i + 1))
	export MARK_N=$i MARK_H
	MARK_H=$(hash_of $i)
	if [ $((i % 2)) = 0 ]; then
		strace -qq -o /dev/null -e inject=$FAULT_SYSCALLS:signal=KILL:when=$((RANDOM % 16 + 1)) \
			iamctl edit >/dev/null 2>&1
	else
		iamctl edit >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 60))"
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
	fi
	[ $? = 137 ] && kills=$((kills + 1))
	s=$(served)
	set -- $s
	if [ "$1" != "$2" ] || [ "$1" != "$3" ] || [ "$4" != same ]; then
		mixed=$((mixed + 1))
		echo "after edit $i: nss gen $1, keys gen $2, login gen $3, generation file $4" >> "$W/violations"
	fi
done
touch "$W/stop"; wait $LOOKUP $LOGIN
logins=$(wc -l < "$W/logins" 2>/dev/null || echo 0)
[ "$mixed" = 0 ] && ok "$i edits, $kills killed: every reader on one generation after each" ||
	bad "$mixed mixed sets"
[ ! -s "$W/violations" ] && ok "a concurrent lookup and login loop ($logins logins) saw no mix and no outage" ||
	{ bad "violations"; show "$(head -20 "$W/violations")"; }
echo "random kills: $i edits, $kills killed, $logins logins in $((SECONDS - start)) s"
iamctl sync >/dev/null
[ -z "$(fault_leftovers)" ] && ok "no leftovers after the next sync" || bad "left: $(fault_leftovers)"
left=$(ls -d /etc/iam/.iamctl-edit.* /tmp/iamctl-edit.* 2>/dev/null)
[ -z "$left" ] && ok "the next sync removed the private folders (identity copies) of killed edits" ||
	bad "copies of the identity file left: $(echo $left | head -c 300)"
[ "$(getent passwd mark | cut -d: -f5)" = "$(jq -r '.users[] | select(.name == "mark") | .gecos' "$ID")" ] &&
	ok "the readers agree with the identity file in the end" || bad "the readers disagree with the identity file"
