#!/bin/sh
#
# cycles.sh object-or-archive...
#
# Lists the cycles between object files: groups of files that reach one
# another through the functions and data they use (what nm(1) says one
# needs, U, against what another defines).  An archive counts as its
# members.  For each group it prints the files and the uses that close it,
# then exits 1; it prints "no cycles between N files" and exits 0 when
# every use goes one way.
#
#	regress/tools/cycles.sh scam-back/scam-back.o scam-back/libscamback.a

[ $# -gt 0 ] || { echo "usage: cycles.sh object-or-archive..." >&2; exit 2; }
for f; do
	[ -r "$f" ] || { echo "cycles.sh: $f: cannot read it" >&2; exit 2; }
done
nm -A -P "$@" | awk '
{
	# "lib.a[member.o]: name type ..." or "file.o: name type ..."
	f = $1
	sub(/:$/, "", f)
	if (match(f, /\[[^]]*\]$/))
		f = substr(f, RSTART + 1, RLENGTH - 2)
	sub(/.*\//, "", f)
	sub(/\.o$/, "", f)
	file[f]
}
$3 ~ /^[TDBRCVWG]$/ { def[$2] = f; next }
$3 == "U" { use[++nuse] = f " " $2 }
END {
	for (i = 1; i <= nuse; i++) {
		split(use[i], u, " ")
		if (!(u[2] in def) || def[u[2]] == u[1])
			continue
		e = u[1] SUBSEP def[u[2]]
		if (e in edge)
			edge[e] = edge[e] " " u[2]
		else
			edge[e] = u[2]
		reach[u[1], def[u[2]]] = 1
	}
	# Transitive closure: the tree has a few dozen files.
	for (k in file)
		for (i in file)
			if ((i, k) in reach)
				for (j in file)
					if ((k, j) in reach)
						reach[i, j] = 1
	ncyc = 0
	for (i in file) {
		if (i in done || !((i, i) in reach))
			continue
		n = 0
		for (j in file)
			if ((i, j) in reach && (j, i) in reach) {
				done[j]
				g[++n] = j
			}
		# Sorted, for an output that does not change from run to run.
		for (a = 1; a <= n; a++)
			for (b = a + 1; b <= n; b++)
				if (g[b] < g[a]) {
					t = g[a]; g[a] = g[b]; g[b] = t
				}
		line = "cycle:"
		for (a = 1; a <= n; a++)
			line = line " " g[a]
		out[++ncyc] = line
		for (a = 1; a <= n; a++)
			for (b = 1; b <= n; b++)
				if ((g[a], g[b]) in edge)
					out[ncyc] = out[ncyc] "\n\t" g[a] " -> " \
					    g[b] ": " edge[g[a], g[b]]
	}
	for (a = 1; a <= ncyc; a++)
		for (b = a + 1; b <= ncyc; b++)
			if (out[b] < out[a]) {
				t = out[a]; out[a] = out[b]; out[b] = t
			}
	for (a = 1; a <= ncyc; a++)
		print out[a]
	if (ncyc == 0) {
		nf = 0
		for (f in file)
			nf++
		printf "no cycles between %d files\n", nf
	}
	exit ncyc > 0
}'
