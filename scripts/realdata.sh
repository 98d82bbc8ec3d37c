#!/usr/bin/env bash
# realdata.sh [DIR]: kiln's run on a real game's data.
#
# Installs MegaGlest's data (Debian package megaglest-data: about 4,600
# files, 400 MB of XML unit and faction definitions, G3D binary meshes, BMP,
# PNG, TGA and JPEG textures, WAV and OGG sounds, language files and maps),
# builds a kiln project whose only scan folder is the installed, read-only
# /usr/share/games/megaglest, runs `kiln batch` on it, and prints what it did:
# files, sources, jobs, failures by reason, batch time, products, and the path
# dependencies kiln-refs found.
#
# The project and its cache go into DIR (default: a new temp folder, kept
# afterwards so that `kiln -p DIR jobs` and friends can look at it). A DIR
# that already holds a run is processed again incrementally.
#
# Environment: KILN_BUILD names an existing build folder to use instead of
# building into build/; PLATFORMS (default "pc") the platforms, space
# separated; HOSTS the builder-host count (default: one per CPU).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PKG=megaglest-data
DATA=/usr/share/games/megaglest

# ---- the package (idempotent) ----
if ! dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'install ok installed'; then
	echo "== installing $PKG (about 240 MB to download, 400 MB installed)"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y --no-install-recommends "$PKG" >/dev/null ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "$PKG" >/dev/null; }
fi
[ -d "$DATA" ] || { echo "realdata: $DATA is missing after installing $PKG" >&2; exit 2; }

# ---- kiln ----
build=${KILN_BUILD:-$here/build}
if [ -z "${KILN_BUILD:-}" ]; then
	bash "$here/scripts/build.sh" "$build" >/dev/null
fi
bin="$build/bin"
kiln="$bin/kiln"
[ -x "$kiln" ] || { echo "realdata: no kiln in $bin" >&2; exit 2; }

work=${1:-$(mktemp -d /tmp/kiln-realdata.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Builders for images and meshes: the shipped kiln-texture and kiln-mesh
# when this build has them; otherwise their patterns go to kiln-copy (a
# builder may be listed only once).
# >>> SWITCH: once kiln-texture and kiln-mesh are always built, drop the
# >>> fallbacks below and list them directly.
copy_pats='"*.wav", "*.ogg", "*.txt", "*.ico", "*.css", "*.fp", "*.vp", "*.vert", "*.frag"'
image_pats='"*.png", "*.jpg", "*.jpeg", "*.tga", "*.bmp"'
mesh_pats='"*.obj", "*.fbx", "*.dae", "*.gltf", "*.glb", "*.3ds", "*.ply"'
extra=""
image_builder=kiln-copy mesh_builder=kiln-copy
if [ -x "$bin/kiln-texture" ]; then
	image_builder=kiln-texture
	extra="$extra    {\"exec\": \"kiln-texture\", \"patterns\": [$image_pats]},
"
else
	copy_pats="$copy_pats, $image_pats"
fi
if [ -x "$bin/kiln-mesh" ]; then
	mesh_builder=kiln-mesh
	extra="$extra    {\"exec\": \"kiln-mesh\", \"patterns\": [$mesh_pats]},
"
else
	copy_pats="$copy_pats, $mesh_pats"
fi

platforms=$(printf '"%s",' ${PLATFORMS:-pc})
cat >"$work/kiln.json" <<JSON
{
  "project": "megaglest",
  "platforms": [${platforms%,}],
  "cache": "Cache",
  "scan_folders": [{"path": "$DATA", "recursive": true}],
  "builders": [
    {"exec": "kiln-copy", "patterns": [$copy_pats]},
$extra    {"exec": "kiln-refs", "patterns": ["*.xml", "*.svg", "*.html", "*.lng", "*.mgg", "*.g3d", "*.mgm", "*.gbm"]}
  ],
  "hosts": ${HOSTS:-0}
}
JSON

echo "== kiln batch on $DATA"
echo "   project: $work   images: $image_builder   meshes: $mesh_builder   refs: kiln-refs"
set +e
start=$(date +%s.%N)
"$kiln" -p "$work" batch >"$work/batch.out" 2>"$work/batch.err"
rc=$?
end=$(date +%s.%N)
set -e
tail -n 1 "$work/batch.out"
[ $rc -eq 0 ] || echo "   (kiln batch exited $rc; stderr: $(tail -n 3 "$work/batch.err" | tr '\n' ' '))"

[ -f "$work/Cache/assetdb.sqlite" ] || { cat "$work/batch.err" >&2; exit $rc; }
python3 - "$work" "$DATA" "$start" "$end" <<'PYEOF'
import json, os, sqlite3, sys
work, data, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
db = sqlite3.connect("file:%s/Cache/assetdb.sqlite?mode=ro" % work, uri=True)
q = lambda sql: db.execute(sql).fetchall()
files = sum(len(fs) for _, _, fs in os.walk(data))
print("files on disk:      %d" % files)
print("sources:            %d" % q("SELECT count(*) FROM sources")[0][0])
print("jobs:               %d" % q("SELECT count(*) FROM jobs")[0][0])
for status, n in q("SELECT status, count(*) FROM jobs GROUP BY status ORDER BY status"):
    print("  %-18s %d" % (status, n))
fails = q("SELECT reason, count(*) FROM jobs WHERE status = 'failed' GROUP BY reason ORDER BY 2 DESC")
print("failures by reason: %s" % (", ".join("%s %d" % f for f in fails) or "none"))
print("batch wall time:    %.1f s" % (end - start))
print("products:           %d (%.1f MB)" % tuple(q("SELECT count(*), coalesce(sum(size), 0) / 1e6 FROM products")[0]))
for name, n, ms in q("SELECT b.name, count(j.id), coalesce(sum(j.duration_ms), 0) FROM builders b"
                     " LEFT JOIN jobs j ON j.builder_id = b.id GROUP BY b.id ORDER BY b.name"):
    if n:
        print("  %-16s %5d jobs, %7.1f s of job time, %.1f ms a job" % (name, n, ms / 1000, ms / n))

stored = q("SELECT count(*) FROM product_deps WHERE dep_kind = 'source_path'")[0][0]
# The builder logs one info line per job with the references it found, so the
# figure is there whether or not the supervisor stores them yet.
logged, with_refs, jobs_seen, lookups, top, fmts = 0, 0, 0, 0, {}, {}
# Each job's latest log only, so that a DIR processed again counts once.
for (path,) in q("SELECT j.log FROM jobs j JOIN builders b ON b.id = j.builder_id"
                 " WHERE b.name = 'kiln-refs' AND j.log IS NOT NULL"):
    if not os.path.isabs(path):
        path = os.path.join(work, path)
    if not os.path.exists(path):
        path = os.path.join(work, "Cache/logs/jobs", os.path.basename(path))
    if not os.path.exists(path):
        continue
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                continue
            ctx = o.get("context") or {}
            if o.get("level") != "info" or "references" not in ctx or "references found" not in o.get("message", ""):
                continue
            n = int(ctx["references"])
            jobs_seen += 1
            logged += n
            lookups += int(ctx.get("lookups", 0))
            with_refs += n > 0
            fmts[ctx.get("format", "?")] = fmts.get(ctx.get("format", "?"), 0) + n
            for p in ctx.get("paths", "").split("\n"):
                if p and not p.startswith("("):
                    top[p] = top.get(p, 0) + 1
print("path dependencies:  %d in the database (product_deps), %d logged by kiln-refs" % (stored, logged))
if jobs_seen:
    print("  kiln-refs jobs:   %d, %d of them with references; %d look-ups on disk" % (jobs_seen, with_refs, lookups))
    print("  by format:        %s" % ", ".join("%s %d" % kv for kv in sorted(fmts.items())))
    print("  most referenced:  %s" % ", ".join("%s (%d)" % kv for kv in sorted(top.items(), key=lambda kv: -kv[1])[:3]))
warn = q("SELECT count(*) FROM jobs WHERE status IN ('completed_warning', 'completed_error')")[0][0]
print("jobs with warnings or errors: %d (kiln -p %s jobs --status completed_warning,completed_error)" % (warn, work))
PYEOF

echo "== a second batch with nothing changed"
set +e
start2=$(date +%s.%N)
"$kiln" -p "$work" batch >"$work/batch2.out" 2>&1
end2=$(date +%s.%N)
set -e
echo "$(tail -n 1 "$work/batch2.out")   (wall $(python3 -c "print('%.2f' % ($end2 - $start2))") s)"
echo "project and cache: $work"
exit $rc
