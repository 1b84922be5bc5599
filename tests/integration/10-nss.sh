# 10-nss.sh - the real clients (getent, id, ls, python) resolve IAM users
# and groups through nss_iam from the published nss.db; a non-root user
# can too; a process started before a publish sees the new snapshot; a
# missing, insecure or corrupt snapshot makes IAM names vanish (UNAVAIL)
# while local accounts keep working.
#
# The snapshot comes from `iamctl sync` when it can publish this identity,
# otherwise from the test generator build/mknssdb (same builder,
# iam_nssdb_build), so the module is tested either way.
DB=/var/lib/iam/current/nss.db	# the generation served; nss.db links to it
MKNSSDB=${MKNSSDB:-$TOP/build/mknssdb}
mkdir -p -m 0755 /var/lib/iam

cat > "$T/identity.json" <<'EOF'
{
  "account": { "id": "123456789012" },
  "users": [
    { "name": "alice", "uid": 70001, "primary_group": "developers",
      "gecos": "Alice Liddell", "home": "/home/alice", "shell": "/bin/bash",
      "groups": ["developers", "admins", "ops"] },
    { "name": "bob", "uid": 70002, "primary_group": "developers",
      "home": "/home/bob", "shell": "/bin/sh", "groups": ["developers"] }
  ],
  "groups": [
    { "name": "developers", "gid": 70101 },
    { "name": "admins", "gid": 70102 },
    { "name": "ops", "gid": 70103 }
  ]
}
EOF
cat > "$T/spec1" <<'EOF'
group:developers:70101
group:admins:70102
group:ops:70103
user:alice:70001:70101:Alice Liddell:/home/alice:/bin/bash:developers,admins,ops
user:bob:70002:70101::/home/bob:/bin/sh:developers
EOF
# the second publish: carol added, bob's shell changed
sed -e 's|/home/bob:/bin/sh|/home/bob:/bin/bash|' "$T/spec1" > "$T/spec2"
echo 'user:carol:70003:70103:Carol:/home/carol:/bin/bash:ops' >> "$T/spec2"

publisher=none
if install -m 0600 -o root -g root "$T/identity.json" /etc/iam/identity.json &&
   iamctl sync >"$T/sync.out" 2>&1 && [ -s "$DB" ]; then
	publisher=iamctl
	ok "iamctl sync published $DB"
elif [ -x "$MKNSSDB" ]; then
	publisher=mknssdb
	"$MKNSSDB" -g 1 -o "$DB" -s "$T/spec1" && ok "mknssdb published $DB (iamctl sync: $(head -c 200 "$T/sync.out" | tr '\n' ' '))" \
		|| bad "mknssdb could not publish"
else
	bad "no publisher: iamctl sync failed and $MKNSSDB is not built (make nss-tools)"
fi
publish2() {
	if [ $publisher = iamctl ]; then
		python3 - "$T/identity.json" > "$T/identity2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["users"][1]["shell"] = "/bin/bash"
d["users"].append({"name": "carol", "uid": 70003, "primary_group": "ops",
                   "gecos": "Carol", "home": "/home/carol", "shell": "/bin/bash",
                   "groups": ["ops"]})
json.dump(d, sys.stdout)
PY
		install -m 0600 -o root -g root "$T/identity2.json" /etc/iam/identity.json
		iamctl sync
	else
		"$MKNSSDB" -g 2 -o "$DB" -s "$T/spec2"
	fi
}

expect_out 0 '^-rw-r--r-- .*root root' "nss.db is root 0644" ls -l "$DB"
expect_out 0 '^alice:\*:70001:70101:Alice Liddell:/home/alice:/bin/bash$' \
	"getent passwd alice" getent passwd alice
expect_out 0 '^bob:\*:70002:70101::/home/bob:/bin/sh$' "getent passwd 70002 (by uid)" getent passwd 70002
expect_out 0 '^admins:\*:70102:alice$' "getent group admins" getent group admins
expect_out 0 '^developers:\*:70101:alice,bob$' "getent group 70101 (by gid)" getent group 70101
expect_out 0 '^alice +70101 70102 70103$|^alice +70102 70103$' "getent initgroups alice" getent initgroups alice
expect_out 0 'uid=70001\(alice\) gid=70101\(developers\) groups=70101\(developers\),70102\(admins\),70103\(ops\)' \
	"id alice lists every supplementary group" id alice
expect_out 0 '^alice:' "getent passwd enumerates IAM users" sh -c 'getent passwd | grep "^alice:"'
expect_out 0 '^root:' "local users still resolve" getent passwd root
n=$(getent passwd | grep -c '^alice:'); [ "$n" = 1 ] && ok "alice listed once" || bad "alice listed $n times"
n=$(getent group | grep -Ec '^(developers|admins|ops):'); [ "$n" = 3 ] && ok "each IAM group listed once" || bad "IAM groups listed $n times"
expect 2 "unknown name: not found" getent passwd mallory
expect 2 "unknown uid: not found" getent passwd 79999
expect_out 0 'uid=70001\(alice\)' "lookup as a non-root user" setpriv --reuid=65534 --regid=65534 --clear-groups id alice
expect_out 0 '^bob:' "getent as a non-root user" setpriv --reuid=65534 --regid=65534 --clear-groups getent passwd bob
f=$(mktemp -p "$T"); chown alice:admins "$f"
expect_out 0 ' alice +admins ' "ls -l shows IAM owner names" ls -l "$f"
expect_out 0 '^70001 ops \[' "python pwd/grp/getgrouplist" python3 -c \
	'import pwd,grp,os; print(pwd.getpwnam("alice").pw_uid, grp.getgrgid(70103).gr_name, sorted(os.getgrouplist("alice",70101)))'
expect_out 0 'libnss_iam' "glibc loads libnss_iam.so.2" sh -c \
	"LD_DEBUG=libs getent passwd alice 2>&1 | grep -E 'calling init: .*libnss_iam\.so\.2'"

# A process started before the publish sees the new snapshot: python keeps
# one process, asks, waits for the publish, asks again.
mkfifo "$T/go" "$T/done"
python3 - "$T/go" "$T/done" > "$T/longrun.out" 2>&1 <<'PY' &
import pwd, sys, time
def ask():
    try:
        p = pwd.getpwnam("carol"); c = "carol=%d" % p.pw_uid
    except KeyError:
        c = "carol=none"
    return "%s bob=%s" % (c, pwd.getpwnam("bob").pw_shell)
print("before", ask(), flush=True)
open(sys.argv[2], "w").write("asked\n")
open(sys.argv[1]).read()
time.sleep(1.2)
print("after", ask(), flush=True)
PY
pid=$!
cat "$T/done" >/dev/null
publish2 >/dev/null 2>&1 && ok "second publish" || bad "second publish"
echo go > "$T/go"
wait $pid
out=$(cat "$T/longrun.out")
if grep -q '^before carol=none bob=/bin/sh$' <<<"$out" && grep -q '^after carol=70003 bob=/bin/bash$' <<<"$out"; then
	ok "a process started before the publish sees the new snapshot"
else
	bad "long-running process did not see the publish"
fi
show "$out"
expect_out 0 '^carol:\*:70003:' "a new process sees carol" getent passwd carol

# Unusable snapshots: IAM names vanish (the module says UNAVAIL, files
# answers for local users), nothing crashes.
cp "$DB" "$T/good.db"
chmod 0666 "$DB"
expect 2 "snapshot writable by others: alice unknown" getent passwd alice
expect_out 0 '^root:' "... local root still resolves" getent passwd root
chmod 0644 "$DB"; chown 65534 "$DB"
expect 2 "snapshot not owned by root: alice unknown" getent passwd alice
chown 0 "$DB"
expect 0 "restored snapshot answers again" getent passwd alice
: > "$T/empty"; install -m 0644 "$T/empty" "$DB"
expect 2 "empty snapshot: alice unknown" getent passwd alice
size=$(stat -c %s "$T/good.db")
for cut in $(seq 0 4096 "$size") $((size - 1)); do
	head -c "$cut" "$T/good.db" > "$T/cut"; install -m 0644 "$T/cut" "$DB"
	out=$(getent passwd alice 2>&1); rc=$?
	[ $rc = 2 ] || { bad "truncated at $cut: rc=$rc $out"; continue; }
done
ok "truncated snapshots: alice unknown, no crash"
flips=0 wrong=0
for off in $(seq 0 7 $((size - 1))); do
	cp "$T/good.db" "$T/flip"
	printf "$(printf '\\%03o' $(( ( $(od -An -tu1 -j "$off" -N1 "$T/good.db") ^ 0xff ) )))" |
		dd of="$T/flip" bs=1 seek="$off" conv=notrunc status=none
	install -m 0644 "$T/flip" "$DB"
	out=$(getent passwd alice 2>&1); rc=$?
	flips=$((flips + 1))
	[ $rc = 2 ] || wrong=$((wrong + 1))
done
[ $wrong = 0 ] && ok "$flips flipped bytes: never an answer, never a crash" || bad "$wrong of $flips flipped snapshots answered"
rm -f "$DB"
expect 2 "missing snapshot: alice unknown" getent passwd alice
expect_out 0 'uid=0\(root\)' "... local root still resolves (id)" id root
install -m 0644 "$T/good.db" "$DB"
expect_out 0 'uid=70001\(alice\)' "good snapshot again" id alice
