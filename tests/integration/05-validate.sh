# 05-validate.sh - iamctl validate [FILE]: the example validates, bad files
# are refused with every fault on its own line and the JSON path of each,
# and the configured identity file is held to the strict file rules.
EXAMPLE=/usr/share/doc/iam/examples/identity.example.json
[ -f "$EXAMPLE" ] || EXAMPLE=$TOP/etc/identity.example.json
W=$T/validate
mkdir -p "$W"

expect_out 0 '^OK$' "the example validates" iamctl validate "$EXAMPLE"
expect_out 0 '^OK$' "the example validates from standard input" \
	sh -c "iamctl validate - < '$EXAMPLE'"

# One fault: a uid written as a string.
sed 's/"uid": 70002/"uid": "70002"/' "$EXAMPLE" > "$W/string-uid.json"
expect_out 1 'users\[1\]\.uid: must be a number, not a string "70002"' \
	"a string uid is refused with its path" iamctl validate "$W/string-uid.json"

# Several faults in one file: each reported, one per line.
sed -e 's/"uid": 70001/"uid": 70001.5/' \
    -e 's/"name": "bob"/"name": "Bob"/' \
    -e 's/"shell": "\/bin\/sh"/"shell": "bin\/sh"/' \
    -e 's/"DevHostAccess", "DevSudo"/"DevHostAccess", "NoSuchPolicy"/' \
    "$EXAMPLE" > "$W/several.json"
out=$(iamctl validate "$W/several.json" 2>&1); rc=$?
n=0
for want in 'users\[0\]\.uid: 70001\.5 is not a whole number' \
	    'users\[1\]\.name: "Bob" is not a valid name' \
	    'users\[2\]\.shell: "bin/sh" is not an absolute path' \
	    'groups\[0\]\.policies\[1\]: no policy named "NoSuchPolicy"'; do
	grep -Eq -- "$want" <<<"$out" && n=$((n + 1))
done
lines=$(grep -c "^$W/several.json: " <<<"$out")
if [ "$rc" = 1 ] && [ "$n" = 4 ] && [ "$lines" -ge 4 ]; then
	ok "four faults in one file, each on its own line"
else
	bad "four faults in one file (rc=$rc, matched $n, lines $lines)"
fi
show "$out"

# Truncated and invalid JSON are faults of the file (exit 1), not errors.
head -c 300 "$EXAMPLE" > "$W/truncated.json"
expect_out 1 'premature end of input' "truncated JSON is refused" \
	iamctl validate "$W/truncated.json"
printf '{"account":{"id":"123456789012"},"users":[{"name":"a\\u0000b"}]}' \
	> "$W/nul.json"
expect_out 1 'users\[0\]\.name: string contains a NUL character' \
	"a NUL inside a string is refused" iamctl validate "$W/nul.json"

# Collisions with this host's own accounts, read from /etc/passwd.
sed 's/"name": "carol"/"name": "root"/' "$EXAMPLE" > "$W/root.json"
expect_out 1 'users\[2\]\.name: "root" is a local account in /etc/passwd' \
	"an IAM user named root is refused" iamctl validate "$W/root.json"
useradd -M -N -u 70002 -s /usr/sbin/nologin localbob 2>/dev/null ||
	echo "localbob:x:70002:100::/nonexistent:/usr/sbin/nologin" >> /etc/passwd
expect_out 1 'users\[1\]\.uid: 70002 is the uid of local account "localbob" in /etc/passwd' \
	"a uid of a local account is refused" iamctl validate "$EXAMPLE"
sed -i '/^localbob:/d' /etc/passwd /etc/shadow /etc/subuid /etc/subgid 2>/dev/null
echo "subowner:70000:100" >> /etc/subuid
expect_out 1 'users\[0\]\.uid: 70001 lies in the subordinate id range 70000-70099' \
	"a uid in /etc/subuid is refused" iamctl validate "$EXAMPLE"
sed -i '/^subowner:/d' /etc/subuid

# The file cannot be read at all: a usage error (exit 2).
expect_out 2 'No such file or directory' "a missing file is exit 2" \
	iamctl validate "$W/nonexistent.json"
expect_out 2 'Is a directory' "a folder is exit 2" iamctl validate "$W"

# Without FILE: the configured identity_file, strict owner and mode.
rm -f /etc/iam/identity.json
expect 2 "no configured identity file is exit 2" iamctl validate
install -m 0600 -o root -g root "$EXAMPLE" /etc/iam/identity.json
expect_out 0 '^OK$' "the configured identity file validates" iamctl validate
chmod 0644 /etc/iam/identity.json
expect_out 1 'readable by group or others' \
	"a world-readable identity file is refused" iamctl validate
chmod 0620 /etc/iam/identity.json
expect_out 1 'writable by group' \
	"a group-writable identity file is refused" iamctl validate
rm -f /etc/iam/identity.json
install -m 0600 "$EXAMPLE" "$W/real.json"
ln -s "$W/real.json" /etc/iam/identity.json
expect_out 1 'symbolic link' "a symlinked identity file is refused" iamctl validate
rm -f /etc/iam/identity.json

# Usage.
expect 2 "two files are a usage error" iamctl validate a b
expect_out 0 'usage: iamctl validate' "validate --help" iamctl validate --help

# A secret is never left in memory given back: the file's text is wiped a
# 1 MiB window at a time as it is parsed, and yajl's own buffers (a token
# cut by a window's end, a string with escapes) are wiped before they are
# freed.  A free() that finds the marker in a block says so.
cat > "$W/scan.c" <<'SCAN'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>
void free(void *p)
{
	static void (*real_free)(void *);
	if (real_free == NULL)
		real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	if (p != NULL && memmem(p, malloc_usable_size(p), "QQMARKQQ", 8))
		(void)write(2, "FREED-WITH-MARKER\n", 18);
	real_free(p);
}
SCAN
if cc -shared -fPIC -o "$W/scan.so" "$W/scan.c" -ldl 2>/dev/null; then
	head='{"account":{"id":"123456789012"},"groups":[{"name":"devs","gid":70101}],"users":[{"name":"ann","uid":70001,"primary_group":"devs","tags":{"K":"'
	# the value starts 5 bytes before the first window's end
	{ printf '%s' "${head:0:1}"
	  head -c $((1048576 - 5 - ${#head})) /dev/zero | tr '\0' ' '
	  printf '%s' "${head:1}"
	  printf '%s' 'QQMARKQQ\u0041tail"}}]}'; } > "$W/edge.json"
	out=$(LD_PRELOAD="$W/scan.so" iamctl validate "$W/edge.json" 2>&1)
	if [ "$out" = OK ]; then
		ok "a value cut by a window's end is wiped from every freed block"
	else
		bad "a value cut by a window's end is wiped from every freed block"
	fi
	show "$out"
	# the scanner finds what is there: a fault message quoting a name
	# (not a secret) is freed as it is
	sed 's/"name": "carol"/"name": "QQMARKQQ"/' "$EXAMPLE" > "$W/marked.json"
	expect_out 1 FREED-WITH-MARKER "the scanner sees a marker in a freed block" \
		env LD_PRELOAD="$W/scan.so" iamctl validate "$W/marked.json"
else
	bad "no C compiler for the scanner of freed blocks"
fi
