#!/bin/bash
# bench-nss.sh BUILD_DIR [USERS...] - nss_iam against glibc's nss_files,
# side by side in one run, in a private mount namespace (nothing on this
# machine changes).
#
# For each USERS count (default 1000 10000 100000): USERS users, each in
# 3 to 5 of 1,000 groups, published as nss.db and written as the same
# lines in /etc/passwd and /etc/group.  Measures getpwnam hit and miss,
# getpwuid, getgrnam, getgrouplist (initgroups_dyn), a full getpwent pass
# (per entry) by calling each module's entry points directly, the first
# lookup of a process (opening and mapping the snapshot), getgrnam and
# getgrent per member, and a whole `id NAME` process through glibc with
# nsswitch.conf set to "files" (big files) or "files iam" (system files +
# nss.db).  Then getgrnam of one group of 10 to 100,000 members, per
# member, and getpwnam through glibc beside nscd's client side where nscd
# is installed.  Times are ns per call (per entry, per member); Ir come
# from callgrind, counted inside the call loop only.
set -euo pipefail
B=${1:?usage: bench-nss.sh BUILD_DIR [USERS...]}
shift
SIZES=${*:-1000 10000 100000}
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
	echo "bench-nss: SKIPPED (needs root and mount namespaces)"
	exit 0
fi
if [ "${BENCH_NSS_INNER:-}" != 1 ]; then
	exec env BENCH_NSS_INNER=1 unshare --mount --propagation private "$0" "$B" $SIZES
fi
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || exit 1

MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIBDIR=$(readlink -f "/usr/lib/$MULTIARCH")
FILES_SO=$LIBDIR/libnss_files.so.2
IAM_SO=$B/libnss_iam.so.2
T=$(mktemp -d /tmp/bench-nss.XXXXXX)
trap 'umount -l "$T" 2>/dev/null; rm -rf "$T" 2>/dev/null; true' EXIT
chmod 755 "$T"
mount -t tmpfs -o mode=755 tmpfs "$T"
mkdir -p "$T/lib" "$T/ovl"
for d in etc var; do
	mkdir -p "$T/ovl/$d/up" "$T/ovl/$d/work"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$T/ovl/$d/up,workdir=$T/ovl/$d/work" "/$d"
done
install -m 0755 "$IAM_SO" "$T/lib/libnss_iam.so.2"
mount -t overlay overlay -o "lowerdir=$T/lib:$LIBDIR" "$LIBDIR"
mount -t tmpfs -o mode=755 tmpfs /run	# hides a host nscd
mkdir -p -m 0755 /var/lib/iam
cp /etc/passwd "$T/passwd.sys"; cp /etc/group "$T/group.sys"
have_vg=1; command -v valgrind >/dev/null || have_vg=0

# ir OP ITERS SO PREFIX KEY -> instructions per call (per entry for enum)
ir() {
	local op=$1 it=$2 so=$3 pfx=$4 key=$5 out tot per
	[ $have_vg = 1 ] || { echo "-"; return; }
	out=$T/cg.out
	valgrind --tool=callgrind --toggle-collect=run_ops --callgrind-out-file="$out" \
		"$B/bench_nss" "$so" "$pfx" "$op" "$it" "$key" >"$T/cg.stdout" 2>/dev/null
	tot=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
	per=$it
	case $op in enum|grent|grnam)	# per entry, per member
		per=$((it * $(awk '{print ($4 > 0 ? $4 : 1)}' "$T/cg.stdout")));;
	esac
	awk -v t="$tot" -v n="$per" 'BEGIN{printf "%.0f", t/n}'
}
ns() {	# ns OP ITERS SO PREFIX KEY
	"$B/bench_nss" "$3" "$4" "$1" "$2" "$5" | awk '{print $2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 > 0 && a != "-") printf "%.1f", a/b; else printf "-" }'; }

files_mode() {
	cat "$T/passwd.sys" "$T/pw.$1" > /etc/passwd
	cat "$T/group.sys" "$T/gr.$1" > /etc/group
	sed -i -E 's/^(passwd|group):.*/\1: files/' /etc/nsswitch.conf
}
iam_mode() {
	cp "$T/passwd.sys" /etc/passwd; cp "$T/group.sys" /etc/group
	sed -i -E 's/^(passwd|group):.*/\1: files iam/' /etc/nsswitch.conf
}

declare -A R
if [ "${BENCH_NSS_GLIBC_ONLY:-}" = 1 ]; then	# just getpwnam through glibc
	n=${SIZES##* }
	"$B/mknssdb" -g "$n" -o /var/lib/iam/nss.db -n "$n" -G 1000 \
		-p "$T/pw.$n" -r "$T/gr.$n"
	mid=$(printf 'iu%06d' $((n / 2)))
	SIZES=
fi
[ -z "$SIZES" ] || printf '%-7s %-10s | %12s %12s %8s | %12s %12s %8s\n' users call \
	"files ns" "iam ns" "ns x" "files Ir" "iam Ir" "Ir x"
for n in $SIZES; do
	"$B/mknssdb" -g "$n" -o /var/lib/iam/nss.db -n "$n" -G 1000 \
		-p "$T/pw.$n" -r "$T/gr.$n"
	mid=$(printf 'iu%06d' $((n / 2)))
	uid=$((200000 + n / 2))
	files_mode "$n"
	fit=$((2000000 / n)); [ $fit -ge 5 ] || fit=5
	fcg=$((200000 / n)); [ $fcg -ge 2 ] || fcg=2
	for spec in "first-getpwnam first-pwnam $mid" "getpwnam-hit pwnam $mid" \
		    "getpwnam-miss pwnam nosuchuser" \
		    "getpwuid pwuid $uid" "getgrnam/mem grnam ig0500" \
		    "getgrouplist grouplist $mid" "getpwent enum -" \
		    "getgrent/mem grent -"; do
		set -- $spec
		label=$1 op=$2 key=$3
		case $op in
		enum|grent) fi_=3; ii=20; fc=1; ic=2;;
		first-*) fi_=1; ii=1; fc=1; ic=1;;
		*) fi_=$fit; ii=200000; fc=$fcg; ic=2000;;
		esac
		fns=$(ns "$op" "$fi_" "$FILES_SO" files "$key")
		ins=$(ns "$op" "$ii" "$IAM_SO" iam "$key")
		fir=$(ir "$op" "$fc" "$FILES_SO" files "$key")
		iir=$(ir "$op" "$ic" "$IAM_SO" iam "$key")
		R[$n.$label]=$iir
		printf '%-7s %-13s | %12s %12s %8s | %12s %12s %8s\n' "$n" "$label" \
			"$fns" "$ins" "$(ratio "$fns" "$ins")" "$fir" "$iir" "$(ratio "$fir" "$iir")"
	done
	# a whole `id NAME` process through glibc
	runs=200
	files_mode "$n"
	id "$mid" >/dev/null
	s=$EPOCHREALTIME; for ((i = 0; i < runs; i++)); do id "$mid" >/dev/null; done
	fid=$(awk -v a="$s" -v b="$EPOCHREALTIME" -v r=$runs 'BEGIN{printf "%.0f", (b-a)*1e6/r}')
	fidir=-
	[ $have_vg = 0 ] || { valgrind --tool=callgrind --callgrind-out-file="$T/id.out" id "$mid" >/dev/null 2>&1
		fidir=$(awk '/^(summary|totals):/ {print $2; exit}' "$T/id.out"); }
	iam_mode
	want=$(grep "^$mid:" "$T/pw.$n" | cut -d: -f3)
	got=$(id -u "$mid")
	[ "$want" = "$got" ] || { echo "bench-nss: id through nss_iam gave '$got', wanted '$want'" >&2; exit 1; }
	id "$mid" >/dev/null
	s=$EPOCHREALTIME; for ((i = 0; i < runs; i++)); do id "$mid" >/dev/null; done
	iid=$(awk -v a="$s" -v b="$EPOCHREALTIME" -v r=$runs 'BEGIN{printf "%.0f", (b-a)*1e6/r}')
	iidir=-
	[ $have_vg = 0 ] || { valgrind --tool=callgrind --callgrind-out-file="$T/id.out" id "$mid" >/dev/null 2>&1
		iidir=$(awk '/^(summary|totals):/ {print $2; exit}' "$T/id.out"); }
	printf '%-7s %-13s | %10sus %10sus %8s | %12s %12s %8s\n' "$n" "id-process" \
		"$fid" "$iid" "$(ratio "$fid" "$iid")" "$fidir" "$iidir" "$(ratio "$fidir" "$iidir")"
	mem=$("$B/bench_nss" "$IAM_SO" iam mem 1 "$mid")
	echo "$n       nss_iam private memory added (KiB): $mem"
done
# getpwnam through glibc ("files iam": the system's few lines first), and
# the same call answered by nscd's client side (its shared cache mapped
# into the process), nscd started inside this namespace: its socket in
# this /run, its cache in this /var.  NSCD=path names an nscd binary when
# none is installed (e.g. unpacked by `apt-get download nscd; dpkg -x`).
iam_mode
glir=$(ir libc-pwnam 2000 "$IAM_SO" iam "$mid")
echo "glibc getpwnam_r($mid), nsswitch 'files iam': $glir Ir per call (glibc reopens /etc/passwd)"
sed -i -E 's/^(passwd|group):.*/\1: iam/' /etc/nsswitch.conf
glir=$(ir libc-pwnam 2000 "$IAM_SO" iam "$mid")
echo "glibc getpwnam_r($mid), nsswitch 'iam': $glir Ir per call (glibc's dispatch and nss_iam)"
NSCD=${NSCD:-$(command -v nscd || true)}
if [ -n "$NSCD" ] && [ -x "$NSCD" ] && [ $have_vg = 1 ]; then
	cp "$NSCD" "$T/nscd"
	printf '%s\n' "paranoia no" "enable-cache passwd yes" \
		"positive-time-to-live passwd 3600" "persistent passwd no" \
		"shared passwd yes" "check-files passwd no" \
		"enable-cache group no" "enable-cache hosts no" \
		"enable-cache services no" "enable-cache netgroup no" > /etc/nscd.conf
	mkdir -p /run/nscd /var/cache/nscd
	"$T/nscd" -f /etc/nscd.conf
	for ((i = 0; i < 50; i++)); do [ -S /run/nscd/socket ] && break; sleep 0.1; done
	nir=$(ir libc-pwnam 2000 "$IAM_SO" iam "$mid")
	[ -s /run/nscd/nscd.pid ] && kill "$(cat /run/nscd/nscd.pid)" 2>/dev/null
	rm -f /run/nscd/socket
	echo "glibc getpwnam_r($mid) answered by nscd's client side: $nir Ir per call;" \
		"nss_iam costs $(awk -v a="$glir" -v b="$nir" 'BEGIN{printf "%.2f", a/b}')x that (aim <= 2)"
else
	echo "  nscd: not measured (neither installed nor NSCD=path given, or no valgrind)"
fi
[ "${BENCH_NSS_GLIBC_ONLY:-}" != 1 ] || exit 0

# One group of M members, per member: nss_files parses the line, nss_iam
# copies the names checked with the record.
echo
printf '%-9s %-13s | %12s %12s %8s | %12s %12s %8s\n' members call \
	"files ns" "iam ns" "ns x" "files Ir" "iam Ir" "Ir x"
for mcount in 10 1000 100000; do
	awk -v m="$mcount" 'BEGIN {
		print "group:big:400000" > "/dev/stderr"
		for (i = 0; i < m; i++) {
			printf "user:bm%06d:%d:400000::/:/bin/sh:big\n", i, 500000 + i
			printf "bm%06d:x:%d:400000::/:/bin/sh\n", i, 500000 + i > "/dev/fd/3"
			l = l (i ? "," : "") sprintf("bm%06d", i)
		}
		print "big:x:400000:" l > "/dev/fd/4"
	}' 2>"$T/big.grp" >"$T/big.users" 3>"$T/big.pw" 4>"$T/big.gr"
	cat "$T/big.grp" "$T/big.users" > "$T/big.spec"
	"$B/mknssdb" -g 1 -o /var/lib/iam/nss.db -s "$T/big.spec"
	cat "$T/passwd.sys" "$T/big.pw" > /etc/passwd
	cat "$T/group.sys" "$T/big.gr" > /etc/group
	it=$((2000000 / mcount)); [ $it -ge 5 ] || it=5
	for spec in "getgrnam/mem grnam big" "getgrent/mem grent -"; do
		set -- $spec
		fns=$(ns "$2" "$it" "$FILES_SO" files "$3")
		ins=$(ns "$2" "$it" "$IAM_SO" iam "$3")
		fir=$(ir "$2" 2 "$FILES_SO" files "$3")
		iir=$(ir "$2" 2 "$IAM_SO" iam "$3")
		printf '%-9s %-13s | %12s %12s %8s | %12s %12s %8s\n' "$mcount" "$1" \
			"$fns" "$ins" "$(ratio "$fns" "$ins")" "$fir" "$iir" "$(ratio "$fir" "$iir")"
	done
done

echo
echo "flatness of nss_iam (Ir at the largest over the smallest size, aim < 2):"
first=${SIZES%% *}; last=${SIZES##* }
for label in first-getpwnam getpwnam-hit getpwnam-miss getpwuid getgrouplist; do
	printf '  %-13s %s\n' "$label" "$(ratio "${R[$last.$label]}" "${R[$first.$label]}")"
done
