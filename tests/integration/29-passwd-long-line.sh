# 29-passwd-long-line.sh - a line of /etc/passwd longer than 4096 bytes
# (a long GECOS field) neither hangs pam_iam nor hides the names around it:
# the local name on it and the one after it stay local.
mkdir -p -m 0755 /var/lib/iam
use_identity "$TOP/etc/identity.example.json" >/dev/null || bad "publish the identity"
expect_out 0 "user mona added" "user add mona" iamctl user add mona
long=$(head -c 6000 /dev/zero | tr '\0' 'G')
echo "longgecos:x:1501:1501:$long:/tmp:/bin/sh" >> /etc/passwd
echo 'afterlong:x:1502:1502:After:/tmp:/bin/sh' >> /etc/passwd
cat > /etc/pam.d/iamlong <<'S'
auth required pam_iam.so debug
account required pam_iam.so
S
for u in afterlong longgecos mona; do
	out=$(printf 'x\n000000\n' | timeout 10 pamtester iamlong "$u" authenticate 2>&1); rc=$?
	[ $rc != 124 ] && ok "pam_iam answers for $u" || bad "pam_iam hangs for $u"
done
# A local name, long line or not, is never prompted by pam_iam.
for u in afterlong longgecos; do
	out=$(timeout 10 pamtester iamlong "$u" authenticate </dev/null 2>&1); rc=$?
	[ $rc != 124 ] && ! grep -qi "password" <<<"$out" && ok "$u is local: no IAM prompt" ||
		{ bad "$u treated as not local (rc=$rc)"; show "$out"; }
done
