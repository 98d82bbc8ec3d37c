#!/bin/bash
# survey.sh KILN_MESH [MODELS_DIR]: runs `kiln-mesh --convert` on every file
# of assimp's test models (default /usr/share/assimp/models) whose extension
# assimp 5.2 registers, and prints how many succeed, fail cleanly, crash the
# importer (caught by the isolation) or hang, per extension and in total,
# and the products of the models that build: triangle, line and point
# lists (the primitive type at offset 76 of a .kmesh) and scenes.
# The figures in builders/kiln-mesh/README.md come from this. It takes a
# minute or two, so it is run by hand, not by ctest.
set -u
BIN=${1:?usage: survey.sh path/to/kiln-mesh [models dir]}
MODELS=${2:-/usr/share/assimp/models}
OUT=$(mktemp -d /tmp/kmesh-survey.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

# assimp's own list of extensions ("*.3ds;*.obj;..."), asked through ctypes.
EXTS=$(/usr/bin/python3 - <<'PYEOF'
import ctypes, ctypes.util
lib = ctypes.CDLL(ctypes.util.find_library("assimp") or "libassimp.so.5")
class aiString(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint32), ("data", ctypes.c_char * 1024)]
s = aiString()
lib.aiGetExtensionList(ctypes.byref(s))
print(" ".join(e.lstrip("*.").lower() for e in s.data.decode().split(";") if e))
PYEOF
)

one() { # one model: prints "ext status triangles lines points scenes file"
	f=$1
	e=${f##*.}
	e=${e,,}
	d=$(mktemp -d "$OUT/m.XXXXXX")
	timeout 60 "$BIN" --import-timeout 20 --convert "$f" "$d/out" >"$d/products" 2>"$d/log"
	rc=$?
	if [ $rc -eq 0 ]; then
		st=ok
	elif grep -q "assimp crashed" "$d/log"; then
		st=crash
	elif grep -q "did not finish" "$d/log" || [ $rc -eq 124 ]; then
		st=hang
	else
		st=fail
	fi
	tri=0 lin=0 pts=0 scn=0
	while read -r _ p; do
		p=${p%% dep=*}
		case $p in
		*.kscene) scn=$((scn + 1)) ;;
		*.kmesh)
			case $(od -An -tu4 -j76 -N4 "$d/out/$p" | tr -d ' ') in
			1) lin=$((lin + 1)) ;;
			2) pts=$((pts + 1)) ;;
			*) tri=$((tri + 1)) ;;
			esac
			;;
		esac
	done <"$d/products"
	echo "$e $st $tri $lin $pts $scn $f"
	rm -rf "$d"
}
export -f one
export BIN OUT

find "$MODELS" -type f | sort | while read -r f; do
	e=${f##*.}
	e=${e,,}
	case " $EXTS " in *" $e "*) echo "$f" ;; esac
done >"$OUT/files"

xargs -a "$OUT/files" -d '\n' -P 2 -I{} bash -c 'one "$1"' _ {} >"$OUT/results"

echo "files under $MODELS: $(find "$MODELS" -type f | wc -l); with an extension assimp registers: $(wc -l <"$OUT/files")"
awk '
{ n[$1]++; s[$1 " " $2]++; tot[$2]++; all++ }
$2 == "ok" { tri += $3; lin += $4; pts += $5; scn += $6 }
END {
	printf "%-8s %5s %5s %5s %5s %5s\n", "ext", "files", "ok", "fail", "crash", "hang"
	for (e in n)
		printf "%-8s %5d %5d %5d %5d %5d\n", e, n[e], s[e " ok"], s[e " fail"], s[e " crash"], s[e " hang"] | "sort"
	close("sort")
	printf "total: %d files, %d ok (%d products: %d triangle lists, %d line lists, %d point lists, %d scenes), %d failed cleanly, %d importer crashes caught, %d hangs stopped\n",
		all, tot["ok"], tri + lin + pts + scn, tri, lin, pts, scn, tot["fail"], tot["crash"], tot["hang"]
}' "$OUT/results"
if [ -n "${SURVEY_KEEP:-}" ]; then
	cp "$OUT/results" "$SURVEY_KEEP"
fi
