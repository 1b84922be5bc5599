# 91-fleet-tls.sh - the fleet over TLS with client certificates and etcd's
# own authentication: a one-member etcd on a free port that wants a client
# certificate signed by its CA, with auth enabled, an administrator user
# that may write the account's prefix and a host user that may read it and
# write only its status.  Push and pull work; a client without a
# certificate, a wrong password and a host writing identity objects are
# refused.
for c in etcd etcdctl openssl curl; do
	command -v $c >/dev/null || { bad "$c is missing"; finish; }
done
export ETCDCTL_API=3
ACCT=123456789012
PC=$(free_port) PP=$(free_port)
K=$T/pki
mkdir -p -m 0700 "$K"
# a CA, the server's certificate (127.0.0.1) and two client certificates
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=iam-test-ca -keyout "$K/ca.key" -out "$K/ca.pem" 2>/dev/null
# etcd's JSON gateway refuses, once authentication is on, a client
# certificate with a CommonName (it would not be used as the user): the
# fleet's client certificates carry none (iam-agent(8)).
cert() {	# cert NAME SAN [SUBJECT]
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "${3:-/CN=$1}" -keyout "$K/$1.key" -out "$K/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" > "$K/$1.ext"
	openssl x509 -req -in "$K/$1.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" \
		-CAcreateserial -days 2 -extfile "$K/$1.ext" -out "$K/$1.pem" 2>/dev/null
}
cert server IP:127.0.0.1
cert etcdctl DNS:etcdctl
cert admin DNS:admin /O=iam-admins
cert web1 DNS:web1 /O=iam-hosts
chmod 0600 "$K"/*.key
etcd --name tls0 --data-dir "$T/etcd" \
	--listen-client-urls "https://127.0.0.1:$PC" --advertise-client-urls "https://127.0.0.1:$PC" \
	--listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
	--initial-cluster "tls0=http://127.0.0.1:$PP" \
	--cert-file "$K/server.pem" --key-file "$K/server.key" \
	--client-cert-auth --trusted-ca-file "$K/ca.pem" >"$T/etcd.log" 2>&1 &
EPID=$!
cleanup_test() { kill "$EPID" 2>/dev/null; wait 2>/dev/null; }
E() { etcdctl --endpoints="https://127.0.0.1:$PC" --cacert "$K/ca.pem" \
	--cert "$K/etcdctl.pem" --key "$K/etcdctl.key" "$@"; }
for _ in $(seq 100); do E endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
expect 0 "etcd over TLS with client certificates is up" E endpoint health

# etcd users and roles: the administrator writes the prefix, hosts read it
# and write their status only
{
	E user add root:rootpw && E user grant-role root root &&
	E role add iam-admin && E role grant-permission iam-admin readwrite --prefix "/iam/$ACCT/" &&
	E role add iam-host && E role grant-permission iam-host read --prefix "/iam/$ACCT/" &&
	E role grant-permission iam-host readwrite --prefix "/iam/$ACCT/status/" &&
	E user add adm:admpw && E user grant-role adm iam-admin &&
	E user add host-web1:webpw && E user grant-role host-web1 iam-host &&
	E auth enable
} >/dev/null 2>&1
expect_out 1 "user name is empty|permission denied|invalid auth" "etcd authentication is on (no user: refused)" E get /iam/x
expect 0 "the host user may read the prefix" E --user host-web1:webpw get "/iam/$ACCT/manifest"

conf() {	# conf DIR HOST USER PASSWORD CERT
	local d=$1
	mkdir -p -m 0755 "$d" "$d/etc" "$d/var"; mkdir -p -m 0700 "$d/log"
	printf '%s\n' "$4" > "$d/etc/etcd.pass"; chmod 0600 "$d/etc/etcd.pass"
	cp "$K/ca.pem" "$d/etc/etcd-ca.pem"
	cp "$K/$5.pem" "$d/etc/etcd.pem"; cp "$K/$5.key" "$d/etc/etcd.key"
	cat > "$d/etc/iam.conf" <<EOF
identity_file = "$d/etc/identity.json"; credentials_dir = "$d/var/credentials";
state_dir = "$d/var/state"; run_dir = "$d/run"; trail_file = "$d/log/trail.jsonl";
snapshot_dir = "$d/var"; hostname = "$2";
fleet = { endpoints = [ "https://127.0.0.1:$PC" ]; account = "$ACCT";
  ca_file = "$d/etc/etcd-ca.pem"; cert_file = "$d/etc/etcd.pem"; key_file = "$d/etc/etcd.key";
  user = "$3"; password_file = "$d/etc/etcd.pass";
  admin_key = "$d/etc/admin.key"; trusted_keys = "$d/etc/trusted-keys";
  host_key = "$d/etc/host.key"; fleet_key = "$d/etc/fleet.key"; state_dir = "$d/var/fleet"; };
EOF
	chmod 0644 "$d/etc/iam.conf"
}
conf "$T/admin" admin adm admpw admin
conf "$T/web1" web1 host-web1 webpw web1
cat > "$T/admin/etc/identity.json" <<EOF
{"account":{"id":"$ACCT"},"users":[{"name":"alice","uid":70001,"primary_group":"dev","gecos":"Alice TLS"}],
 "groups":[{"name":"dev","gid":70001}]}
EOF
chmod 0600 "$T/admin/etc/identity.json"
ADM="iamctl --config $T/admin/etc/iam.conf"
WEB="iamctl --config $T/web1/etc/iam.conf"
expect 0 "fleet init" $ADM fleet init
mkdir -p -m 0700 "$T/enroll"
expect 0 "enroll-host over TLS with etcd auth" $ADM fleet enroll-host web1 --out "$T/enroll/web1"
cp "$T/enroll/web1/host.key" "$T/enroll/web1/fleet.key" "$T/web1/etc/"
cp -r "$T/enroll/web1/trusted-keys" "$T/web1/etc/"
expect_out 0 "generation 1" "push over TLS as the etcd user adm" $ADM fleet push
expect_out 0 "applied generation 1" "web1 pulls over TLS as host-web1" $WEB fleet pull --once
snapdb() { if [ -e "$1/current/nss.db" ]; then echo "$1/current/nss.db"; else echo "$1/nss.db"; fi; }
expect 0 "web1 published alice" grep -q 'Alice TLS' "$(snapdb "$T/web1/var")"
expect_out 0 "web1 +1" "status/web1 written with the host's role" $ADM fleet status

# refusals
cp "$T/admin/etc/identity.json" "$T/web1/etc/identity.json"
cp -r "$T/admin/etc/trusted-keys" "$T/web1/etc/"; cp "$T/admin/etc/admin.key" "$T/web1/etc/"
sed -i 's/Alice TLS/Alice by web1/' "$T/web1/etc/identity.json"
expect_out 1 "permission denied" "the host's etcd role cannot write identity objects" $WEB fleet push
printf 'wrong\n' > "$T/web1/etc/etcd.pass"
expect_out 1 "refused user|authentication failed" "a wrong etcd password is refused" $WEB fleet pull --once
printf 'webpw\n' > "$T/web1/etc/etcd.pass"
sed -i "s|cert_file = \"[^\"]*\"; key_file = \"[^\"]*\";|cert_file = \"\"; key_file = \"\";|" "$T/web1/etc/iam.conf"
expect_out 1 "no etcd member answered" "a client without a certificate is refused" $WEB fleet pull --once
expect 0 "web1 keeps serving generation 1" grep -q 'Alice TLS' "$(snapdb "$T/web1/var")"
finish
