# fleetpoll Linux probe, protocol v1 (shared/design.md). Streamed to the host and run
# as `sh -s`: POSIX sh that works under dash, bash and BusyBox ash with only BusyBox
# applets on PATH. It writes no files and leaves no processes behind.
#
# Tunables, assigned by the poller in lines prepended to this script:
#   FP_WINDOW      CPU sample window in seconds (default 1, may be fractional)
#   FP_TOPN        processes listed by CPU and by resident memory (default 10)
#   FP_DF_TIMEOUT  seconds allowed for each df when a network mount could hang it (default 3)
#   FP_PUSH        1: the host pushes this output itself (docs/push.md); add the `time` record
#
# The script arrives on stdin, so every command that could read stdin gets
# </dev/null or a pipe: otherwise it would swallow the rest of the script.

# Number formatting, `who` dates and df headers must not follow the host's locale.
LC_ALL=C
export LC_ALL

printf 'fleetpoll-probe\t1\n'
# A pushed sample says when it was taken, so the poller can refuse replays and clock-skewed samples.
if [ "${FP_PUSH:-0}" = 1 ]; then
	printf 'time\t%s\n' "$(date +%s)"
fi

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

if command -v who >/dev/null 2>&1; then
	fp_who=yes
else
	fp_who=no
	fp_warn 'who is not available; sessions not collected'
fi

# Everything between the header and `end` comes from one awk: it prints the host's facts,
# and works out CPU, processes, users, sessions and disks from one stream on its stdin,
# cut into parts by marker lines, and from df, which it starts itself. The pid files go
# through grep, not awk's getline: mawk and the one-true-awk abort on a read error, and a
# process that ends between open and read causes one (ESRCH). The markers are longer
# than a comm (15 bytes) and no pid file line can equal one, so no process name can fake
# a marker. (A who line reading "==fleetpoll:status==" would end the sessions early:
# only a writer of utmp could make one.)
{
	# The window starts now, so the two readings start FP_WINDOW apart however long the
	# first one takes. Each reading is /proc/stat, every /proc/<pid>/stat and /proc/stat
	# again: on a busy host the pid files take a while, and the two host counters let the
	# awk place each process in time.
	sleep "$FP_WINDOW" </dev/null >/dev/null 2>&1 &
	fp_sleep=$!
	trap 'kill "$fp_sleep" 2>/dev/null; exit 1' HUP INT TERM PIPE
	# The pid files are named from a listing of /proc: a glob of /proc/[0-9]*/stat would
	# also look up every file it names (about 5 us each in procfs), and a fork costs
	# less. Names relative to /proc keep grep's output short.
	cd /proc || exit 1
	set -- [0-9]*
	fp_files=$(printf '%s/stat\n' "$@")
	printf '==fleetpoll:stat1==\n'
	grep -F -h '' stat $fp_files stat </dev/null 2>/dev/null
	# Sessions are read inside the window, so a slow who lengthens the window instead of
	# adding to it.
	printf '==fleetpoll:who==\n'
	# who reads utmp (glibc: /var/run/utmp; musl with utmps: /run/utmps/utmp) or, in newer
	# coreutils, the sessions of systemd-logind: with none of them (containers, Alpine)
	# it has nothing to say, and is not started.
	for fp_f in /var/run/utmp /run/utmp /run/utmps/utmp /run/systemd/sessions/*; do
		if [ -e "$fp_f" ]; then
			[ "$fp_who" = yes ] && who </dev/null 2>/dev/null
			break
		fi
	done
	wait "$fp_sleep"
	trap - HUP INT TERM PIPE
	# The real uid (the first field) and resident memory of each process, before the
	# second reading, so that the awk has them when it meets the process there; the
	# second reading lists the same processes. Name is the first line whatever it holds,
	# so grep stops at VmRSS, about half of each file. (Fixed strings: with a regular
	# expression BusyBox grep is much slower. The stat files' resident memory is not
	# VmRSS: newer kernels sum the counters exactly only for status.) Both lists come
	# from one fork, cut apart at the "=" between them.
	set -- [0-9]*
	fp_files=$(printf '%s/status\n' "$@"; printf =; printf '%s/stat\n' "$@")
	IFS==
	set -- $fp_files
	unset IFS
	printf '==fleetpoll:status==\n'
	grep -H -m 3 -F -e Name: -e Uid: -e VmRSS: $1 </dev/null 2>/dev/null
	printf '==fleetpoll:stat2==\n'
	# exec: nothing follows in this subshell, and BusyBox ash would fork for it.
	exec grep -F -h '' stat $2 stat </dev/null 2>/dev/null
} | awk -v topn="$FP_TOPN" -v secs="$FP_DF_TIMEOUT" '
BEGIN {
	PF_KTHREAD = 2097152
	# What a rewritten stat line holds for comm: longer than any real one (15 bytes).
	STUB = "(fleetpoll-rewritten)"
	topn += 0
	marker["==fleetpoll:stat1=="] = 1
	marker["==fleetpoll:stat2=="] = 2
	marker["==fleetpoll:status=="] = 3
	marker["==fleetpoll:who=="] = 4

	# How many fields this awk splits a stat line with a one-word comm into: its own.
	# If that cannot be known, no stat line is used at all. A plain stat line has
	# exactly that many (want is -1 while a line cut by a newline in comm is pending).
	f = "/proc/self/stat"
	statfields = 1000000
	if ((getline < f) > 0 && NF >= 20 && $2 ~ /^\(.*\)$/) statfields = NF
	close(f)
	want = statfields

	f = "/proc/sys/kernel/hostname"
	if ((getline line < f) > 0) host = line
	close(f)
	f = "/proc/sys/kernel/osrelease"
	if ((getline line < f) > 0) kernel = line
	close(f)
	f = "/proc/uptime"
	if ((getline < f) > 0) uptime = int($1)
	close(f)
	f = "/proc/loadavg"
	if ((getline < f) > 0) load = $1 "\t" $2 "\t" $3
	close(f)
	f = "/proc/meminfo"
	while ((getline < f) > 0) mem[$1] = $2
	close(f)
	pretty = "Linux"
	# The first of the two that can be read is the one.
	for (k = 1; k <= 2; k++) {
		f = k == 1 ? "/etc/os-release" : "/usr/lib/os-release"
		while ((r = (getline line < f)) > 0) if (line ~ /^PRETTY_NAME=/) pretty = unquote(substr(line, 13))
		close(f)
		if (r == 0) break
	}

	if (host != "") printf "host\t%s\n", clean(host)
	printf "os\tlinux\t%s\t%s\n", clean(kernel), clean(pretty)
	if (uptime != "") printf "uptime\t%.0f\n", uptime
	if (load ~ /^[0-9.]+\t[0-9.]+\t[0-9.]+$/) printf "load\t%s\n", load
	if ("MemTotal:" in mem) {
		memtotal = mem["MemTotal:"] + 0
		free = mem["MemFree:"] + 0
		# MemAvailable appeared in Linux 3.14; older kernels get the classic estimate.
		if ("MemAvailable:" in mem) avail = mem["MemAvailable:"] + 0
		else avail = free + mem["Buffers:"] + mem["Cached:"]
		if (avail > memtotal) avail = memtotal
		if (free > memtotal) free = memtotal
		swap = mem["SwapTotal:"] + 0
		swapfree = mem["SwapFree:"] + 0
		if (swapfree > swap) swapfree = swap
		printf "mem\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\n", memtotal, avail, free, swap, swapfree
	}

	disks()

	f = "/etc/passwd"
	while ((getline line < f) > 0) {
		split(line, pw, ":")
		if (!(pw[3] in username)) username[pw[3]] = pw[1]
	}
	close(f)
	# What it takes to enter the lists once they are full: most processes are turned
	# away by comparing two numbers, and only those let in are kept in arrays.
	cpud = cpur = memd = memr = lo = -1
	cpup = memp = 0
	cpubest["n"] = membest["n"] = 0
	# No uid yet (a string, so that the first uid, even "0", compares unequal).
	runu = "none"
}
# The rules run in the order of how many lines each gets: every line costs each rule
# tried before it, and BusyBox awk interprets slowly (about 1,000 instructions for each
# test or assignment, 8,000 to split a stat line into its fields). Almost all pid file
# lines take the first three rules as they are.
# Status lines, "<pid>/status:<Key>:<TAB>value": Name (not used), Uid (real uid
# first) and VmRSS (none for kernel threads and zombies), kept under "<pid>/status:<Key>:".
# (Testing for Name would cost more than keeping it under a key that is never looked up.)
sec == 3 {
	if (NF > 1) st[$1] = $2
	else if ($0 in marker) section(marker[$0])
	next
}
# The second reading: each process as it is counted, listed and added to its user.
# Kernel threads have no memory and no user of their own: they are counted apart, not
# listed. A process whose status could not be read is left out.
sec == 2 {
	if (NF != want) if (!statline()) next
	if ((u = st[$1 "/status:Uid:"]) == "") next
	# The kernel gives a kernel thread no VmRSS, so only those without one are tested.
	if ((rss = st[$1 "/status:VmRSS:"] + 0) == 0 && $9 >= PF_KTHREAD && int($9 / PF_KTHREAD) % 2) {
		kthreads++
		next
	}
	# Absent from the first reading means started within the window: all its ticks are
	# new. (Fewer ticks than then: the pid was reused.)
	if ((d = $14 + $15 - ticks1[$1]) < 0) d = $14 + $15
	# Its share of the window needs where it was in both readings, known once the second
	# ends: kept for the few processes that used any CPU.
	if (d > 0) {
		busy++
		BD[busy] = d
		BK[busy] = NR
		BJ[busy] = ticks1[$1] != ""
		BU[busy] = u
	}

	# What before() would say against the root of each full heap, without a call: a
	# host of alike processes has many ties, and most of them lose on the pid. Most
	# processes, idle ones with less memory than both roots, fail the first two
	# comparisons and are done (lo is the smaller memory of the two roots).
	if (d > cpud || rss >= lo) {
		incpu = d >= cpud && (d > cpud || rss > cpur || (rss == cpur && $1 < cpup))
		inmem = rss >= memr && (rss > memr || d > memd || (d == memd && $1 < memp))
		if (incpu || inmem) {
			P[++n] = $1
			U[n] = u
			# The name as /proc/<pid>/status gives it (from statline for a rewritten line).
			N[n] = escape($2 == STUB ? comm : substr($2, 2, length($2) - 2))
			D[n] = d
			R[n] = rss
			K[n] = NR
			J[n] = ticks1[$1] != ""
			if (incpu) {
				keep("cpu", n, cpubest)
				if (cpubest["n"] >= topn) {
					cpud = D[cpubest[1]]
					cpur = R[cpubest[1]]
					cpup = P[cpubest[1]] + 0
				}
			}
			if (inmem) {
				keep("mem", n, membest)
				if (membest["n"] >= topn) {
					memr = R[membest[1]]
					memd = D[membest[1]]
					memp = P[membest[1]] + 0
				}
			}
			lo = cpur < memr ? cpur : memr
		}
	}

	# Users are added up by uid, a run of processes of one uid at a time: neighbouring
	# pids often share one, and a variable costs less than an array element.
	if (u != runu) {
		flush()
		runu = u
	}
	runn++
	runr += rss
	next
}
# The first reading: the CPU ticks of each process (a number: a process absent from it
# reads as "" there).
sec == 1 {
	if (NF != want) if (!statline()) next
	ticks1[$1] = $14 + $15
	next
}
# The sessions end where the status lines begin.
sec == 4 {
	if ($0 == "==fleetpoll:status==") section(3)
	else session()
	next
}
$0 in marker {
	section(marker[$0])
	next
}
# Control characters become "?". (A regular expression given as a string is compiled on
# every call by BusyBox awk; a literal once.)
function clean(s) { gsub(/[\001-\037\177]/, "?", s); return s }
function section(m) {
	# Where each part starts and ends, in line numbers.
	last[sec] = NR - 1
	first[m] = NR
	sec = m
	buf = ""
	want = statfields
}
# Percent of one core that a process used over the window, as top shows it, from its
# ticks d, the line number k of its stat line in the second reading and whether it was in
# the first (j). Host ticks between the two reads of its stat file, taking each reading to
# go through its lines at an even pace, and a process to be as far into the first as into
# the second: both list the same processes in the same order, but for those that started
# or ended in between. (Where it was in the first, or a count of processes, would cost
# BusyBox awk an assignment a process.) One absent from the first started within the window.
function share(d, k, j,   t, r) {
	r = (k - first[2]) / (last[2] - first[2] + 1)
	t = s2a + s2span * r
	if (j) t -= s1a + s1span * r
	else t -= s1a + s1span * 0.5
	return t > 0 ? d * ncpu * 100 / t : 0
}
# Adds the current run of processes of one uid to the per-uid totals.
function flush() {
	if (runn == 0) return
	if (!(runu in ucount)) uids[++nuids] = runu
	ucount[runu] += runn
	urss[runu] += runr
	runn = runr = 0
}
# A line of the process readings that is not a plain stat line: a marker, a /proc/stat
# line, or a stat line whose comm holds blanks, ")" or newlines. The kernel prints the
# same number of fields after comm whatever it holds: such a line, once whole, is
# rewritten as its fields after a one-word comm (kept in comm). Returns 1 for a stat line
# ready to use.
function statline(   c1, c, i, rest, p, q) {
	c1 = substr($0, 1, 1)
	if (c1 == "=" && ($0 in marker)) {
		section(marker[$0])
		return 0
	}
	if (buf == "" && c1 >= "0" && c1 <= "9") {
		if (NF < statfields) {
			# A newline in comm splits the line: join the parts.
			buf = $0
			want = -1
			return 0
		}
	} else if (buf != "") {
		$0 = buf "\n" $0
		buf = ""
		want = statfields
		if (NF < statfields) {
			if (length($0) < 4096) {
				buf = $0
				want = -1
			}
			return 0
		}
	} else {
		if (substr($0, 1, 4) == "cpu ") {
			# Total excludes guest and guest_nice: the kernel already counts them in user and nice.
			t = 0
			for (i = 2; i <= 9 && i <= NF; i++) t += $i
			# The first /proc/stat of a reading ("a") comes before its pid files, the second ("b") after.
			if ((sec "a") in total) total[sec "b"] = t
			else {
				total[sec "a"] = t
				idle[sec] = $5 + $6
			}
		} else if (sec == 1 && substr($0, 1, 3) == "cpu" && !("1b" in total)) ncpu++
		return 0
	}
	if (NF == statfields) {
		comm = substr($2, 2, length($2) - 2)
		return 1
	}
	# comm is at most 15 bytes: its ")" is the last ") " within the first 17 after "(",
	# since the fields after it hold no ")".
	rest = substr($0, index($0, "(") + 1)
	p = 0
	while ((q = index(substr(rest, p + 1), ") ")) > 0 && p + q <= 16) p += q
	if (p == 0) return 0
	comm = substr(rest, 1, p - 1)
	c = NF - statfields
	rest = $1 " " STUB
	for (i = 3 + c; i <= NF; i++) rest = rest " " $i
	$0 = rest
	return NF == statfields
}
# A name as the kernel writes it in /proc/<pid>/status: backslash and newline escaped.
function escape(s,   out, i, ch) {
	if (!index(s, "\\") && !index(s, "\n")) return s
	out = ""
	for (i = 1; i <= length(s); i++) {
		ch = substr(s, i, 1)
		if (ch == "\\") out = out "\\\\"
		else if (ch == "\n") out = out "\\n"
		else out = out ch
	}
	return out
}
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
# A line of who, in its coreutils or BusyBox format:
# coreutils: USER TTY DATE HH:MM [(FROM)]   (DATE is "Mon DD" or YYYY-MM-DD)
# BusyBox:   USER TTY IDLE Mon DD HH:MM:SS [FROM]   (IDLE can itself look like HH:MM)
function session(   i, j, from) {
	if (NF < 2) return
	for (i = 4; i <= NF; i++) if ($i ~ /^[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]$/) break
	if (i > NF) for (i = 4; i <= NF; i++) if ($i ~ /^[0-9][0-9]?:[0-9][0-9]$/) break
	from = ""
	for (j = i + 1; j <= NF; j++) from = from (from == "" ? "" : " ") $j
	if (from ~ /^\(.*\)$/) from = substr(from, 2, length(from) - 2)
	printf "session\t%s\t%s\t%s\n", clean($1), clean($2), clean(from)
}
# Filesystems: keeps the real ones from /proc/mounts (mnt, mtype, msrc; mntnum gives the
# entry of each mount point, which has one: only the last mount on a point is kept) and
# makes the shell that runs df on them (dfcmd[]), whose output dfline() reads at the end. A
# bind-mounted file (the /etc/hosts of a container) is not a filesystem of its own: that
# shell stats only local mount points, since on a hung network mount stat would hang too,
# and says which are not directories. With a mount that can hang (network, FUSE), every
# df gets a deadline: BusyBox df stats each mount listed before its argument in
# /proc/mounts, so a hung NFS server stalls it even for a local disk. That shell starts
# now, so that its deadlines run out inside the window. Without such mounts one plain df
# call covers them all, taking a few ms: it runs at the end, from the shell that looks up
# the long process names too (one shell fewer).
function disks(   n, i, a, pseudo, slow, src, mp, ty, top, word, args, anyslow, f, line) {
	n = split("proc sysfs devtmpfs devpts tmpfs ramfs rootfs cgroup cgroup2 pstore bpf tracefs " \
		"debugfs securityfs mqueue hugetlbfs configfs fusectl autofs binfmt_misc rpc_pipefs nfsd nsfs " \
		"efivarfs selinuxfs smackfs apparmorfs squashfs erofs cramfs romfs iso9660 udf devfs usbfs " \
		"xenfs sockfs pipefs anon_inodefs ipathfs openpromfs zonefs fuse.lxcfs fuse.portal " \
		"fuse.gvfsd-fuse fuse.snapfuse fuse.kio-fuse fuse.fuse-overlayfs overlay aufs", a, " ")
	for (i = 1; i <= n; i++) pseudo[a[i]] = 1
	n = split("nfs nfs4 cifs smb3 smbfs ncpfs ceph glusterfs 9p afs coda lustre gpfs beegfs " \
		"orangefs pvfs2 ocfs2 gfs2 davfs vboxsf vmhgfs prl_fs", a, " ")
	for (i = 1; i <= n; i++) slow[a[i]] = 1
	n = 0
	f = "/proc/mounts"
	while ((getline line < f) > 0) {
		if (split(line, a, " ") < 3) continue
		n++
		src[n] = a[1]
		mp[n] = decode(a[2])
		ty[n] = a[3]
		# A later mount on the same point hides the earlier one; df sees only the last.
		top[mp[n]] = n
	}
	close(f)
	anyslow = "no"
	# Where dfline() looks for a mount point in a df line: after a space followed by "/",
	# since mount points are absolute paths (after any space should one not be).
	dfsep = " /"
	for (i = 1; i <= n; i++) {
		if (top[mp[i]] != i) continue
		# Containers: the root overlay is the filesystem that fills up; other overlays are layers.
		if ((ty[i] in pseudo) && !((ty[i] == "overlay" || ty[i] == "aufs") && mp[i] == "/")) continue
		if (index(mp[i], "\n")) {
			printf "warn\tskipped a mount point with a newline in its name: %s\n", clean(mp[i])
			continue
		}
		nm++
		mtype[nm] = ty[i]
		msrc[nm] = src[i]
		mnt[nm] = mp[i]
		mntnum[mp[i]] = nm
		if (substr(mp[i], 1, 1) != "/") dfsep = " "
		if ((ty[i] in slow) || ty[i] ~ /^fuse/) {
			anyslow = "yes"
			word[nm] = shq("T" mp[i])
		} else word[nm] = shq((anyslow == "yes" ? "l" : "L") mp[i])
	}
	if (nm == 0) return
	# dfsh, run by /bin/sh: $1 the deadline, $2 whether a mount can hang, then the mount
	# points, each after L (local), l (local, listed after one that can hang) or T (can
	# hang); what follows it (dftail) runs df on those left in "$@", set once from references
	# to them ("${7#?}": `set -- "$@" "$m"` for each would copy the list each time, which
	# costs seconds with a thousand mounts). Without a usable timeout, the mounts listed
	# before the first that can hang still get df (even BusyBox df stats no hung mount for
	# them); the rest are skipped. (BusyBox before 1.30 only knew
	# `timeout -t SECS`; that dialect is not supported.) The kernel takes at most 128 kB in
	# one argument, so a host with thousands of mount points gets one shell for each 64 kB
	# of them.
	dfsh = "w=$1 s=$2\n" \
		"shift 2\n" \
		"t=no\n" \
		"[ $s = yes ] && command -v timeout >/dev/null && timeout -s KILL 5 true >/dev/null && t=yes\n" \
		"i=0 l=\n" \
		"for a\n" \
		"do\n" \
		"i=$((i + 1))\n" \
		"m=${a#?}\n" \
		"case $a in\n" \
		"[Ll]*) if [ ! -d \"$m\" ]; then printf \"==fleetpoll:rc==\\tnodir\\t%s\\n\" \"$m\"; continue; fi ;;\n" \
		"esac\n" \
		"if [ $t = yes ]; then\n" \
		"{ o=$(timeout -s KILL \"$w\" df -kP -- \"$m\"); printf \"==fleetpoll:rc==\\t%s\\t%s\\n%s\\n\" $? \"$m\" \"$o\"; } &\n" \
		"else\n" \
		"case $a in\n" \
		"L*) l=\"$l \\\"\\${$i#?}\\\"\" ;;\n" \
		"*) printf \"==fleetpoll:rc==\\tnotimeout\\t%s\\n\" \"$m\" ;;\n" \
		"esac\n" \
		"fi\n" \
		"done\n" \
		"eval \"set -- $l\"\n"
	dftail = "if [ $t = yes ]; then wait; elif [ $# -gt 0 ]; then exec df -kP -- \"$@\"; fi\n"
	args = ""
	for (i = 1; i <= nm; i++) {
		args = args " " word[i]
		if (i < nm && length(args) < 65536) continue
		dfcmd[++ndf] = "exec </dev/null 2>/dev/null\nset -- " shq(secs) " " anyslow args "\n"
		args = ""
	}
	if (anyslow == "no") return
	# It prints an empty line first, so that starting it waits for no df.
	for (i = 1; i <= ndf; i++) {
		dfcmd[i] = dfcmd[i] "echo\n" dfsh dftail
		dfcmd[i] | getline line
	}
	dfstarted = 1
}
# A word for /bin/sh: in single quotes, each single quote ended, escaped and reopened.
function shq(s,   q, out, i) {
	q = "\047"
	out = ""
	while ((i = index(s, q)) > 0) {
		out = out substr(s, 1, i - 1) q "\\" q q
		s = substr(s, i + 1)
	}
	return q out s q
}
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
# A line of the argv[0] grep, "/proc/<pid>/cmdline:<cmdline>": argv[0] ends at the first
# NUL of cmdline, newlines in it shown as "?". BusyBox awk strings end at a NUL themselves
# (and nul is empty there), so its first line is argv[0] up to a newline.
function argv0line(line,   t, p, j) {
	t = index(line, "/cmdline:")
	if (t < 7) return
	p = substr(line, 7, t - 7)
	if (p in done) return
	line = substr(line, t + 9)
	if (length(nul) == 1 && (j = index(line, nul)) > 0) {
		done[p] = 1
		line = substr(line, 1, j - 1)
	} else if (length(nul) != 1) done[p] = 1
	# (BusyBox awk makes argv0[p] before it tests `p in argv0` in one expression.)
	if (p in argv0) line = argv0[p] "?" line
	argv0[p] = line
}
# A line from the df shell: how a bounded df ended or a mount point was left out, or a
# line of df output.
function dfline(line,   rest, b, i, p, k, f, rc, m) {
	if (substr(line, 1, 17) == "==fleetpoll:rc==\t") {
		rest = substr(line, 18)
		rc = substr(rest, 1, index(rest, "\t") - 1)
		m = substr(rest, index(rest, "\t") + 1)
		if (m in mntnum) {
			i = mntnum[m]
			if (rc == "nodir") nodir[i] = 1
			else mstatus[i] = rc
		}
		return
	}
	# A df line is "<source> <total> <used> <available> <capacity> <mount>"; source and mount
	# may both contain spaces, so find which known mount the line ends with (the longest).
	# Each text after a separator (dfsep) is looked up among the mount points, from the left
	# so that the first one found is the longest: a host with thousands of mounts (kubelet,
	# docker) must not cost one comparison per mount for each line.
	rest = line
	p = 0
	while ((i = index(rest, dfsep)) > 0) {
		p += i
		rest = substr(rest, i + 1)
		if (p > 1 && (rest in mntnum)) break
	}
	if (i == 0) return
	b = mntnum[rest]
	k = split(substr(line, 1, p - 1), f, " ")
	if (k < 5) return
	if (f[k - 3] !~ /^[0-9]+$/ || f[k - 2] !~ /^[0-9]+$/ || f[k - 1] !~ /^[0-9]+$/) return
	mdisk[b] = sprintf("disk\t%s\t%s\t%s\t%s\t%s", clean(mnt[b]), clean(mtype[b]), f[k - 3], f[k - 2], f[k - 1])
}
function before(by, i, j) {
	if (by == "cpu" && D[i] != D[j]) return D[i] > D[j]
	if (R[i] != R[j]) return R[i] > R[j]
	if (D[i] != D[j]) return D[i] > D[j]
	return P[i] + 0 < P[j] + 0
}
# Keeps process i in best if it is among the first topn in the `by` order: best is a heap
# of process indexes with the one that sorts last at its root (the one to turn away
# next); best["n"] is how many it holds. O(log topn) for each process let in.
function keep(by, i, best,   m, c, p) {
	m = best["n"]
	if (m < topn) {
		c = ++best["n"]
		while (c > 1 && before(by, best[p = int(c / 2)], i)) {
			best[c] = best[p]
			c = p
		}
		best[c] = i
		return
	}
	if (!before(by, i, best[1])) return
	sink(by, i, best, m)
}
# Puts i at the root of the heap best[1..m] and moves it down to its place.
function sink(by, i, best, m,   c, p) {
	c = 1
	while ((p = 2 * c) <= m) {
		if (p < m && before(by, best[p], best[p + 1])) p++
		if (!before(by, i, best[p])) break
		best[c] = best[p]
		c = p
	}
	best[c] = i
}
# Appends the processes of the heap best to order[], first in the `by` order first,
# skipping those listed already.
function list(by, best,   m, k, sorted) {
	for (m = best["n"]; m >= 1; m--) {
		sorted[m] = best[1]
		sink(by, best[m], best, m - 1)
	}
	for (k = 1; k <= best["n"]; k++) {
		if (sorted[k] in listed) continue
		listed[sorted[k]] = 1
		order[++shown] = sorted[k]
	}
}
END {
	# (Before df is read: getline from a command counts its lines in NR.)
	last[sec] = NR
	list("cpu", cpubest)
	list("mem", membest)
	# comm is cut at 15 bytes; argv[0] usually has the whole name. Only listed processes
	# are looked up, by one grep (argv0line() reads its lines).
	cmd = ""
	for (k = 1; k <= shown; k++) {
		i = order[k]
		if (length(N[i]) >= 15 && P[i] ~ /^[0-9]+$/) cmd = cmd " /proc/" P[i] "/cmdline"
	}
	if (cmd != "") cmd = "grep -H -a \"\"" cmd
	nul = sprintf("%c", 0)
	# A df shell not started yet (no mount can hang) runs now; the last one greps the
	# names too, after a marker line. (A df line holds blanks, the marker none: only a
	# mount source holding a newline, which takes root to make, could print one.)
	if (!dfstarted) {
		for (k = 1; k <= ndf; k++) {
			if (k < ndf || cmd == "") dfcmd[k] = dfcmd[k] dfsh dftail
			else {
				dfcmd[k] = dfcmd[k] dfsh "[ $# -gt 0 ] && df -kP -- \"$@\"\necho ==fleetpoll:cmdline==\nexec " cmd "\n"
				cmd = ""
			}
		}
	}
	for (k = 1; k <= ndf; k++) {
		inargv = 0
		while ((dfcmd[k] | getline line) > 0) {
			if (inargv) argv0line(line)
			else if (line == "==fleetpoll:cmdline==") inargv = 1
			else dfline(line)
		}
		close(dfcmd[k])
	}
	if (cmd != "") {
		cmd = "exec " cmd " </dev/null 2>/dev/null"
		while ((cmd | getline line) > 0) argv0line(line)
		close(cmd)
	}
	# Bind mounts repeat a source: count the filesystem once, at its shortest mount point.
	for (i = 1; i <= nm; i++) {
		if ((i in nodir) || msrc[i] == "none") continue
		if (!(msrc[i] in bestmnt) || length(mnt[i]) < length(mnt[bestmnt[msrc[i]]])) bestmnt[msrc[i]] = i
	}
	for (i = 1; i <= nm; i++) {
		if (i in nodir) continue
		if (msrc[i] != "none" && bestmnt[msrc[i]] != i) continue
		m = clean(mnt[i]) " (" clean(mtype[i]) ")"
		# "in" first: reading mstatus[i] would create it, and every mount df was silent on
		# would read as a failure with no exit status.
		if (i in mdisk) print mdisk[i]
		else if (!(i in mstatus)) print "warn\tdf reported nothing for " m
		else if (mstatus[i] == "notimeout") print "warn\tskipped " m ": no usable timeout command to bound df"
		else if (mstatus[i] == "124" || mstatus[i] == "137") print "warn\tdf timed out after " secs "s on " m
		else print "warn\tdf failed on " m " (exit " mstatus[i] ")"
	}

	flush()
	if (ncpu < 1) ncpu = 1
	s1a = total["1a"]
	s1span = ("1b" in total) ? total["1b"] - s1a : 0
	s2a = total["2a"]
	s2span = ("2b" in total) ? total["2b"] - s2a : 0
	for (k = 1; k <= busy; k++) ucpu[BU[k]] += share(BD[k], BK[k], BJ[k])
	dtotal = total["2a"] - total["1a"]
	if (("1a" in total) && ("2a" in total)) {
		hostbusy = dtotal > 0 ? 100 * (1 - (idle["2"] - idle["1"]) / dtotal) : 0
		if (hostbusy < 0) hostbusy = 0
		if (hostbusy > 100) hostbusy = 100
		printf "cpu\t%d\t%.1f\n", ncpu, hostbusy
	}

	for (k = 1; k <= shown; k++) {
		i = order[k]
		name = N[i]
		if (length(name) >= 15 && (P[i] in argv0)) {
			arg0 = argv0[P[i]]
			sub(/.*\//, "", arg0)
			if (index(arg0, name) == 1) name = substr(arg0, 1, 255)
		}
		u = (U[i] in username) ? username[U[i]] : U[i]
		printf "proc\t%s\t%s\t%.1f\t%.0f\t%s\n", P[i], clean(u), share(D[i], K[i], J[i]), R[i], clean(name)
	}

	# Per user, in the order of their first process; two uids of one name count as one user.
	for (k = 1; k <= nuids; k++) {
		v = uids[k]
		u = (v in username) ? username[v] : v
		if (!(u in tcount)) names[++nnames] = u
		tcount[u] += ucount[v]
		counted += ucount[v]
		tcpu[u] += ucpu[v]
		trss[u] += urss[v]
	}
	for (k = 1; k <= nnames; k++) {
		u = names[k]
		printf "user\t%s\t%.1f\t%.0f\t%d\n", clean(u), tcpu[u], trss[u], tcount[u]
	}
	# Not in the suggested record set: processes counted and kernel threads left out.
	printf "tasks\t%d\t%d\n", counted, kthreads
}'


printf 'end\n'
