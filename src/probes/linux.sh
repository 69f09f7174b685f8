# fleetpoll Linux probe, protocol v1 (shared/design.md). Streamed to the host and run
# as `sh -s`: POSIX sh that works under dash, bash and BusyBox ash with only BusyBox
# applets on PATH. It writes no files and leaves no processes behind.
#
# Tunables, assigned by the poller in lines prepended to this script:
#   FP_WINDOW      CPU sample window in seconds (default 1, may be fractional)
#   FP_TOPN        processes listed by CPU and by resident memory (default 10)
#   FP_DF_TIMEOUT  seconds allowed for each df when a network mount could hang it (default 3)
#
# The script arrives on stdin, so every command that could read stdin gets
# </dev/null or a pipe: otherwise it would swallow the rest of the script.

# Number formatting, `who` dates and df headers must not follow the host's locale.
LC_ALL=C
export LC_ALL
fp_tab=$(printf '\t')
fp_nl='
'

printf 'fleetpoll-probe\t1\n'

fp_warn() {
	printf 'warn\t%s\n' "$1"
}

# Succeeds when $1 is a plain decimal number below 1000 (digits, optional fraction).
fp_is_number() {
	case $1 in
	'' | *[!0-9.]* | *.*.* | .* | *.) return 1 ;;
	esac
	case ${1%%.*} in
	????*) return 1 ;;
	esac
	return 0
}

# The values are never echoed back: they came from elsewhere and could hold anything.
if [ -z "${FP_WINDOW-}" ]; then
	FP_WINDOW=1
elif ! fp_is_number "$FP_WINDOW"; then
	fp_warn 'FP_WINDOW is not a number below 1000; using 1'
	FP_WINDOW=1
fi
if [ -z "${FP_TOPN-}" ]; then
	FP_TOPN=10
else
	case $FP_TOPN in
	*.*) FP_TOPN=x ;;
	esac
	if ! fp_is_number "$FP_TOPN"; then
		fp_warn 'FP_TOPN is not an integer below 1000; using 10'
		FP_TOPN=10
	fi
fi
if [ -z "${FP_DF_TIMEOUT-}" ]; then
	FP_DF_TIMEOUT=3
else
	# `timeout 0` means "no timeout" to coreutils: exactly what must not happen.
	case $FP_DF_TIMEOUT in
	*[1-9]*) ;;
	*) FP_DF_TIMEOUT=x ;;
	esac
	if ! fp_is_number "$FP_DF_TIMEOUT"; then
		fp_warn 'FP_DF_TIMEOUT is not a positive number below 1000; using 3'
		FP_DF_TIMEOUT=3
	fi
fi

# The window starts now, so the two readings start FP_WINDOW apart however long the
# first one takes. Each reading is one cat of /proc/stat, every /proc/<pid>/stat and
# /proc/stat again: on a busy host the pid files take a while, and the two host
# counters let the awk below place each process in time. Processes that vanish
# meanwhile only make cat complain on the discarded stderr.
sleep "$FP_WINDOW" </dev/null >/dev/null 2>&1 &
fp_sleep=$!
trap 'kill "$fp_sleep" 2>/dev/null; exit 1' HUP INT TERM PIPE
fp_stat1=$(cat /proc/stat /proc/[0-9]*/stat /proc/stat 2>/dev/null)

# Everything below up to the second reading runs inside the window, so a slow network
# mount lengthens the window instead of adding to it.

set --
for fp_f in /proc/sys/kernel/hostname /proc/sys/kernel/osrelease /proc/uptime /proc/loadavg /proc/meminfo; do
	[ -r "$fp_f" ] && set -- "$@" "$fp_f"
done
for fp_f in /etc/os-release /usr/lib/os-release; do
	if [ -r "$fp_f" ]; then
		set -- "$@" "$fp_f"
		break
	fi
done
awk '
BEGIN {
	ctl = ""
	for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i)
	ctl = "[" ctl sprintf("%c", 127) "]"
	pretty = "Linux"
}
function clean(s) { gsub(ctl, "?", s); return s }
# os-release values are shell-quoted: strip the quotes and backslash escapes.
function unquote(v,   q, out, i, c) {
	q = substr(v, 1, 1)
	if ((q == "\"" || q == "\047") && length(v) >= 2 && substr(v, length(v), 1) == q) v = substr(v, 2, length(v) - 2)
	out = ""
	for (i = 1; i <= length(v); i++) {
		c = substr(v, i, 1)
		if (c == "\\" && q != "\047" && i < length(v)) { i++; c = substr(v, i, 1) }
		out = out c
	}
	return out
}
FILENAME == "/proc/sys/kernel/hostname" && FNR == 1 { host = $0 }
FILENAME == "/proc/sys/kernel/osrelease" && FNR == 1 { kernel = $0 }
FILENAME == "/proc/uptime" && FNR == 1 { uptime = int($1) }
FILENAME == "/proc/loadavg" && FNR == 1 { load = $1 "\t" $2 "\t" $3 }
FILENAME == "/proc/meminfo" { mem[$1] = $2 }
FILENAME ~ /os-release$/ && /^PRETTY_NAME=/ { pretty = unquote(substr($0, 13)) }
END {
	if (host != "") printf "host\t%s\n", clean(host)
	printf "os\tlinux\t%s\t%s\n", clean(kernel), clean(pretty)
	if (uptime != "") printf "uptime\t%.0f\n", uptime
	if (load ~ /^[0-9.]+\t[0-9.]+\t[0-9.]+$/) printf "load\t%s\n", load
	if ("MemTotal:" in mem) {
		total = mem["MemTotal:"] + 0
		free = mem["MemFree:"] + 0
		# MemAvailable appeared in Linux 3.14; older kernels get the classic estimate.
		if ("MemAvailable:" in mem) avail = mem["MemAvailable:"] + 0
		else avail = free + mem["Buffers:"] + mem["Cached:"]
		if (avail > total) avail = total
		if (free > total) free = total
		swap = mem["SwapTotal:"] + 0
		swapfree = mem["SwapFree:"] + 0
		if (swapfree > swap) swapfree = swap
		printf "mem\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", total, avail, free, swap, swapfree
	}
}' "$@" </dev/null

if command -v who >/dev/null 2>&1; then
	who </dev/null 2>/dev/null | awk '
BEGIN {
	ctl = ""
	for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i)
	ctl = "[" ctl sprintf("%c", 127) "]"
}
function clean(s) { gsub(ctl, "?", s); return s }
# coreutils: USER TTY DATE HH:MM [(FROM)]   (DATE is "Mon DD" or YYYY-MM-DD)
# BusyBox:   USER TTY IDLE Mon DD HH:MM:SS [FROM]   (IDLE can itself look like HH:MM)
NF >= 2 {
	for (i = 4; i <= NF; i++) if ($i ~ /^[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]$/) break
	if (i > NF) for (i = 4; i <= NF; i++) if ($i ~ /^[0-9][0-9]?:[0-9][0-9]$/) break
	from = ""
	for (j = i + 1; j <= NF; j++) from = from (from == "" ? "" : " ") $j
	if (from ~ /^\(.*\)$/) from = substr(from, 2, length(from) - 2)
	printf "session\t%s\t%s\t%s\n", clean($1), clean($2), clean(from)
}'
else
	fp_warn 'who is not available; sessions not collected'
fi

# Filesystems, in three steps: the awk keeps real filesystems from /proc/mounts as
# "L|T<TAB>type<TAB>source<TAB>mount", T for those whose df can hang (network, FUSE);
# the shell drops bind-mounted files; a second awk counts each source once.
fp_mounts=$(awk '
BEGIN {
	n = split("proc sysfs devtmpfs devpts tmpfs ramfs rootfs cgroup cgroup2 pstore bpf tracefs " \
		"debugfs securityfs mqueue hugetlbfs configfs fusectl autofs binfmt_misc rpc_pipefs nfsd nsfs " \
		"efivarfs selinuxfs smackfs apparmorfs squashfs erofs cramfs romfs iso9660 udf devfs usbfs " \
		"xenfs sockfs pipefs anon_inodefs ipathfs openpromfs zonefs fuse.lxcfs fuse.portal " \
		"fuse.gvfsd-fuse fuse.snapfuse fuse.kio-fuse fuse.fuse-overlayfs overlay aufs", a, " ")
	for (i = 1; i <= n; i++) pseudo[a[i]] = 1
	n = split("nfs nfs4 cifs smb3 smbfs ncpfs ceph glusterfs 9p afs coda lustre gpfs beegfs " \
		"orangefs pvfs2 ocfs2 gfs2 davfs vboxsf vmhgfs prl_fs", a, " ")
	for (i = 1; i <= n; i++) slow[a[i]] = 1
	ctl = ""
	for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i)
	ctl = "[" ctl sprintf("%c", 127) "]"
}
function clean(s) { gsub(ctl, "?", s); return s }
# /proc/mounts writes space, tab, newline and backslash in mount points as \ooo.
function decode(s,   out, i, o) {
	out = ""
	while ((i = index(s, "\\")) > 0) {
		o = substr(s, i + 1, 3)
		if (o ~ /^[0-7][0-7][0-7]$/) {
			out = out substr(s, 1, i - 1) sprintf("%c", substr(o, 1, 1) * 64 + substr(o, 2, 1) * 8 + substr(o, 3, 1))
			s = substr(s, i + 4)
		} else {
			out = out substr(s, 1, i)
			s = substr(s, i + 1)
		}
	}
	return out s
}
NF >= 3 {
	n++
	src[n] = $1
	mnt[n] = decode($2)
	type[n] = $3
	# A later mount on the same point hides the earlier one; df sees only the last.
	top[mnt[n]] = n
}
END {
	for (i = 1; i <= n; i++) {
		if (top[mnt[i]] != i) continue
		# Containers: the root overlay is the filesystem that fills up; other overlays are layers.
		if ((type[i] in pseudo) && !((type[i] == "overlay" || type[i] == "aufs") && mnt[i] == "/")) continue
		if (index(mnt[i], "\n")) {
			printf "W\tskipped a mount point with a newline in its name: %s\n", clean(mnt[i])
			continue
		}
		printf "%s\t%s\t%s\t%s\n", (type[i] in slow || type[i] ~ /^fuse/) ? "T" : "L", type[i], src[i], mnt[i]
	}
}' /proc/mounts </dev/null)

fp_keep=
fp_ifs=$IFS
IFS=$fp_nl
set -f
for fp_line in $fp_mounts; do
	# A bind-mounted file (a container's /etc/hosts) is not a filesystem of its own; stat
	# only local mount points, since on a hung network mount stat would hang too.
	case $fp_line in
	L*) [ -d "${fp_line#?"$fp_tab"*"$fp_tab"*"$fp_tab"}" ] || continue ;;
	esac
	fp_keep=$fp_keep$fp_line$fp_nl
done
IFS=$fp_ifs
set +f

# Bind mounts repeat a source: count the filesystem once, at its shortest mount point.
fp_mounts=$(printf '%s' "$fp_keep" | awk '
/^W\t/ { print; next }
{
	n++
	t1 = index($0, "\t")
	rest = substr($0, t1 + 1)
	t2 = index(rest, "\t")
	rest2 = substr(rest, t2 + 1)
	t3 = index(rest2, "\t")
	head[n] = substr($0, 1, t1 + t2 - 1)
	src[n] = substr(rest2, 1, t3 - 1)
	mnt[n] = substr(rest2, t3 + 1)
	if (src[n] != "none" && (!(src[n] in best) || length(mnt[n]) < length(mnt[best[src[n]]]))) best[src[n]] = n
}
END {
	for (i = 1; i <= n; i++) if (src[i] == "none" || best[src[i]] == i) print head[i] "\t" mnt[i]
}')

# Runs df on one mount under a deadline, and reports how it went in a line before df's output.
fp_bounded_df() {
	fp_out=$(timeout -s KILL "$FP_DF_TIMEOUT" df -kP -- "$1" </dev/null 2>/dev/null)
	printf '==fleetpoll:rc==\t%s\t%s\n%s\n' "$?" "$1" "$fp_out"
}

# With a mount that can hang, every df gets a deadline: BusyBox df stats each mount
# listed before its argument in /proc/mounts, so a hung NFS server stalls it even for
# a local disk. Without such mounts one plain df call covers them all.
fp_slow=no
case $fp_mounts in
T"$fp_tab"* | *"$fp_nl"T"$fp_tab"*) fp_slow=yes ;;
esac
fp_timeout=no
if [ "$fp_slow" = yes ] && command -v timeout >/dev/null 2>&1; then
	# BusyBox before 1.30 only knew `timeout -t SECS`; that dialect is not supported.
	timeout -s KILL 5 true </dev/null >/dev/null 2>&1 && fp_timeout=yes
fi

{
	printf '%s\n==fleetpoll:df==\n' "$fp_mounts"
	set --
	fp_seen_slow=no
	fp_ifs=$IFS
	IFS=$fp_nl
	set -f
	for fp_line in $fp_mounts; do
		fp_m=${fp_line#?"$fp_tab"*"$fp_tab"}
		case $fp_line in
		L*) ;;
		T*) fp_seen_slow=yes ;;
		*) continue ;;
		esac
		if [ "$fp_slow" = no ]; then
			set -- "$@" "$fp_m"
		elif [ "$fp_timeout" = yes ]; then
			# stderr: the shell reports "Killed" when timeout fires.
			fp_bounded_df "$fp_m" 2>/dev/null &
		elif [ "$fp_seen_slow" = no ]; then
			# Listed before any mount that can hang: even BusyBox df will not stat one.
			set -- "$@" "$fp_m"
		else
			printf '==fleetpoll:rc==\tnotimeout\t%s\n' "$fp_m"
		fi
	done
	IFS=$fp_ifs
	set +f
	[ $# -gt 0 ] && df -kP -- "$@" </dev/null 2>/dev/null
	wait
} | awk -v secs="$FP_DF_TIMEOUT" '
BEGIN {
	ctl = ""
	for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i)
	ctl = "[" ctl sprintf("%c", 127) "]"
}
function clean(s) { gsub(ctl, "?", s); return s }
!listed && $0 == "==fleetpoll:df==" { listed = 1; next }
!listed && /^W\t/ { print "warn\t" substr($0, 3); next }
!listed && /^[LT]\t/ {
	n++
	kind[n] = substr($0, 1, 1)
	rest = substr($0, 3)
	type[n] = substr(rest, 1, index(rest, "\t") - 1)
	mnt[n] = substr(rest, index(rest, "\t") + 1)
	next
}
!listed { next }
/^==fleetpoll:rc==\t/ {
	rest = substr($0, 18)
	rc = substr(rest, 1, index(rest, "\t") - 1)
	m = substr(rest, index(rest, "\t") + 1)
	for (i = 1; i <= n; i++) if (mnt[i] == m) status[i] = rc
	next
}
# A df line is "<source> <total> <used> <available> <capacity> <mount>"; source and mount
# may both contain spaces, so find which known mount the line ends with (the longest).
{
	b = 0
	for (i = 1; i <= n; i++) {
		l = length(mnt[i])
		if (length($0) > l + 1 && substr($0, length($0) - l) == " " mnt[i] && (b == 0 || l > length(mnt[b]))) b = i
	}
	if (b == 0) next
	k = split(substr($0, 1, length($0) - length(mnt[b]) - 1), f, " ")
	if (k < 5) next
	if (f[k - 3] !~ /^[0-9]+$/ || f[k - 2] !~ /^[0-9]+$/ || f[k - 1] !~ /^[0-9]+$/) next
	disk[b] = sprintf("disk\t%s\t%s\t%s\t%s\t%s", clean(mnt[b]), clean(type[b]), f[k - 3], f[k - 2], f[k - 1])
}
END {
	for (i = 1; i <= n; i++) {
		m = clean(mnt[i]) " (" clean(type[i]) ")"
		if (i in disk) print disk[i]
		else if (status[i] == "notimeout") print "warn\tskipped " m ": no usable timeout command to bound df"
		else if (status[i] == "124" || status[i] == "137") print "warn\tdf timed out after " secs "s on " m
		else if (i in status) print "warn\tdf failed on " m " (exit " status[i] ")"
		else print "warn\tdf reported nothing for " m
	}
}'

wait "$fp_sleep"
trap - HUP INT TERM PIPE

# Second reading, then per-process details. Everything is one stream for one awk, cut
# into sections by marker lines longer than a comm (15 bytes), so a process name with
# a newline in it can never fake a marker.
{
	printf '==fleetpoll:passwd==\n'
	cat /etc/passwd 2>/dev/null
	printf '==fleetpoll:stat1==\n%s\n==fleetpoll:stat2==\n' "$fp_stat1"
	cat /proc/stat /proc/[0-9]*/stat /proc/stat 2>/dev/null
	printf '==fleetpoll:status==\n'
	# Name in status escapes newlines (unlike comm in stat), so its lines are whole.
	# Fixed strings keep BusyBox grep fast; awk below matches the exact keys.
	grep -h -F -e Name: -e Pid: -e Uid: -e VmRSS: /proc/[0-9]*/status 2>/dev/null
} | awk -v topn="$FP_TOPN" '
BEGIN {
	ctl = ""
	for (i = 1; i < 32; i++) ctl = ctl sprintf("%c", i)
	ctl = "[" ctl sprintf("%c", 127) "]"
	PF_KTHREAD = 2097152
}
function clean(s) { gsub(ctl, "?", s); return s }
$0 == "==fleetpoll:passwd==" { sec = "passwd"; next }
$0 == "==fleetpoll:stat1==" { sec = "s1"; buf = ""; next }
$0 == "==fleetpoll:stat2==" { sec = "s2"; buf = ""; next }
$0 == "==fleetpoll:status==" { sec = "status"; next }
sec == "passwd" {
	split($0, pw, ":")
	if (!(pw[3] in username)) username[pw[3]] = pw[1]
	next
}
sec == "s1" || sec == "s2" {
	if (buf == "" && $1 == "cpu") {
		# Total excludes guest and guest_nice: the kernel already counts them in user and nice.
		t = 0
		for (i = 2; i <= 9 && i <= NF; i++) t += $i
		# The first /proc/stat of a reading ("a") comes before its pid files, the second ("b") after.
		half = ((sec "a") in total) ? "b" : "a"
		total[sec half] = t
		if (half == "a") idle[sec] = $5 + $6
		next
	}
	if (buf == "" && $1 ~ /^cpu[0-9]+$/) {
		if (sec == "s2" && !("s2b" in total)) ncpu++
		next
	}
	if (buf == "" && $0 !~ /^[0-9]+ \(/) next
	# comm may hold a newline, which splits a stat record over lines: join until complete.
	buf = buf == "" ? $0 : buf "?" $0
	if (length(buf) > 4096) { buf = ""; next }
	# comm may hold spaces and ")", so the fixed fields start after the LAST ")".
	if (!match(buf, /\)[^)]*$/)) next
	if (split(substr(buf, RSTART + 1), f, " ") < 13) next
	id = substr(buf, 1, index(buf, " (") - 1)
	buf = ""
	if (sec == "s1") {
		ticks1[id] = f[12] + f[13]
		at1[id] = ++count1
	} else {
		ticks2[id] = f[12] + f[13]
		at2[id] = ++count2
		kthread[id] = int(f[7] / PF_KTHREAD) % 2
	}
	next
}
sec == "status" {
	if ($1 == "Name:") { add(); name = substr($0, 7); pid = ""; uid = ""; rss = 0 }
	else if ($1 == "Pid:") pid = $2
	else if ($1 == "Uid:") uid = $2
	else if ($1 == "VmRSS:") rss = $2 + 0
	next
}
# Counts a process seen in both second readings. Kernel threads have no memory and no
# user of their own: they are counted apart, not listed.
function add() {
	if (pid == "" || !(pid in ticks2)) return
	if (kthread[pid]) { kthreads++; return }
	n++
	P[n] = pid
	U[n] = (uid in username) ? username[uid] : uid
	R[n] = rss
	N[n] = name
	# Absent from the first reading means started within the window: all its ticks are new.
	D[n] = (pid in ticks1 && ticks1[pid] <= ticks2[pid]) ? ticks2[pid] - ticks1[pid] : ticks2[pid]
	# Host ticks that passed between the two reads of this pid file, taking each reading
	# to go through its files at an even pace.
	T[n] = hostticks("s2", at2[pid] / (count2 + 1)) - hostticks("s1", (pid in at1) ? at1[pid] / (count1 + 1) : 0.5)
}
function hostticks(reading, progress) {
	if (!((reading "b") in total)) return total[reading "a"]
	return total[reading "a"] + (total[reading "b"] - total[reading "a"]) * progress
}
function before(by, i, j) {
	if (by == "cpu" && D[i] != D[j]) return D[i] > D[j]
	if (R[i] != R[j]) return R[i] > R[j]
	if (D[i] != D[j]) return D[i] > D[j]
	return P[i] + 0 < P[j] + 0
}
# Heap of process indexes with the one that sorts first at the root.
function sift(by, idx, i, m,   c, t) {
	while ((c = 2 * i) <= m) {
		if (c < m && before(by, idx[c + 1], idx[c])) c++
		if (!before(by, idx[c], idx[i])) return
		t = idx[i]; idx[i] = idx[c]; idx[c] = t
		i = c
	}
}
# Lists the first topn processes in the `by` order: O(n + topn log n), not a full sort.
function pick(by,   idx, i, m, k) {
	for (i = 1; i <= n; i++) idx[i] = i
	m = n
	for (i = int(m / 2); i >= 1; i--) sift(by, idx, i, m)
	for (k = 0; k < topn && m > 0; k++) {
		if (!(idx[1] in listed)) { listed[idx[1]] = 1; order[++shown] = idx[1] }
		idx[1] = idx[m]
		m--
		sift(by, idx, 1, m)
	}
}
END {
	add()
	if (ncpu < 1) ncpu = 1
	dtotal = total["s2a"] - total["s1a"]
	if (("s1a" in total) && ("s2a" in total)) {
		busy = dtotal > 0 ? 100 * (1 - (idle["s2"] - idle["s1"]) / dtotal) : 0
		if (busy < 0) busy = 0
		if (busy > 100) busy = 100
		printf "cpu\t%d\t%.1f\n", ncpu, busy
	}
	# Per process: percent of one core over the window, as top shows it.
	for (i = 1; i <= n; i++) C[i] = T[i] > 0 ? D[i] * ncpu * 100 / T[i] : 0

	pick("cpu")
	pick("mem")

	# comm is cut at 15 bytes; argv[0] usually has the whole name. Only listed processes
	# are looked up, in one shell.
	cmd = ""
	for (k = 1; k <= shown; k++) {
		i = order[k]
		if (length(N[i]) >= 15 && P[i] ~ /^[0-9]+$/) cmd = cmd " " P[i]
	}
	if (cmd != "") {
		cmd = "for p in" cmd "; do printf \"%s\\t\" $p; tr \047\\000\\n\047 \047\\n?\047 </proc/$p/cmdline 2>/dev/null | head -n 1; echo; done"
		while ((cmd | getline line) > 0) {
			t = index(line, "\t")
			if (t < 2) continue
			arg0 = substr(line, t + 1)
			sub(/.*\//, "", arg0)
			argv0[substr(line, 1, t - 1)] = arg0
		}
		close(cmd)
	}
	for (k = 1; k <= shown; k++) {
		i = order[k]
		name = N[i]
		if (length(name) >= 15 && (P[i] in argv0) && index(argv0[P[i]], name) == 1) name = substr(argv0[P[i]], 1, 255)
		printf "proc\t%s\t%s\t%.1f\t%.0f\t%s\n", P[i], clean(U[i]), C[i], R[i], clean(name)
	}

	for (i = 1; i <= n; i++) {
		u = U[i]
		if (!(u in ucount)) users[++nusers] = u
		ucount[u]++
		ucpu[u] += C[i]
		urss[u] += R[i]
	}
	for (k = 1; k <= nusers; k++) {
		u = users[k]
		printf "user\t%s\t%.1f\t%.0f\t%d\n", clean(u), ucpu[u], urss[u], ucount[u]
	}
	# Not in the suggested record set: processes counted and kernel threads left out.
	printf "tasks\t%d\t%d\n", n, kthreads
}'

printf 'end\n'
