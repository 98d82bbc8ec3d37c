# kiln-mesh's .assetinfo sidecars and broken models, end to end: custom
# normals that are missing give completed_warning, tangents without UVs
# completed_error (the mesh is still written), a sidecar with an unknown key
# or bad JSON fails the job with FILE:LINE:COL, damaged models fail with a
# clear log line (a crashing or looping importer included), and a model of
# cameras alone gives its scene product, while the builder goes on serving
# the other jobs.
set -e
. "$(dirname "$0")/lib.sh"

M=/usr/share/assimp/models
[ -d "$M" ] || fail "assimp-testmodels is not installed ($M)"

write_config <<JSON
{
  "project": "mesh-options",
  "platforms": ["pc"],
  "scan_folders": [{"path": "Assets"}],
  "builders": [{"exec": "kiln-mesh", "args": ["--import-timeout", "20"]}],
  "metadata": {"assetinfo": ["obj", "fbx", "glb", "ply", "dae"]},
  "hosts": 2
}
JSON
A="$P/Assets"
mkdir -p "$A/side" "$A/broken"
# A box with neither normals nor UVs.
BOX='v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
v 1 1 1
v 0 1 1
o Box
f 1 2 3 4
f 5 8 7 6
f 1 5 6 2
f 2 6 7 3
f 3 7 8 4
f 5 1 4 8'
printf '%s\n' "$BOX" >"$A/side/plain.obj"
printf '%s\n' "$BOX" >"$A/side/custom.obj"
echo '{"normals": "custom"}' >"$A/side/custom.obj.assetinfo"
printf '%s\n' "$BOX" >"$A/side/nouvs.obj"
echo '{"tangents": true}' >"$A/side/nouvs.obj.assetinfo"
printf 'v 0 0 0\nv 1 0 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 1 1\no Tri\nf 1/1 2/2 3/3\n' >"$A/side/uvs.obj"
echo '{"tangents": true, "flip_uvs": true}' >"$A/side/uvs.obj.assetinfo"
printf '%s\n' "$BOX" >"$A/side/unknown.obj"
printf '{\n  "normals": "custom",\n  "tangent": true\n}\n' >"$A/side/unknown.obj.assetinfo"
printf '%s\n' "$BOX" >"$A/side/syntax.obj"
printf '{\n  "tangents": tru\n}\n' >"$A/side/syntax.obj.assetinfo"

head -c 3000 /dev/urandom >"$A/broken/garbage.fbx"
GLB="$M/glTF2/BoxBadNormals-glTF-Binary/BoxBadNormals.glb"
head -c $(($(stat -c %s "$GLB") / 2)) "$GLB" >"$A/broken/half.glb"
printf 'ply\nformat ascii 1.0\nelement vertex 8\nproperty float32 x\n' >"$A/broken/cut.ply"
# Cut inside the vertex list: Debian's assimp 5.2 aborts on an internal
# assertion here; a later assimp may refuse it cleanly instead.
UVPLY="$M/PLY/cube_uv.ply"
head -c $(($(stat -c %s "$UVPLY") / 2)) "$UVPLY" >"$A/broken/crash.ply"
cp "$M/Collada/cameras.dae" "$A/broken/cameras.dae"

# One query for every job: "path|status reason|products|job id".
JOBS=""
load_jobs() {
	JOBS=$(sql "SELECT s.path, j.status || ' ' || coalesce(j.reason, '-'), (SELECT count(*) FROM products p WHERE p.job_id = j.id), j.id FROM jobs j JOIN sources s ON s.id = j.source_id")
}
field_of() { printf '%s\n' "$JOBS" | awk -F'|' -v p="$1" -v f="$2" '$1 == p { print $f }'; }
status_of() { field_of "$1" 2; }
products_of() { field_of "$1" 3; }
log_of() { # the job's log lines as "level: message"
	kiln job "$(field_of "$1" 4)" --json
	printf '%s' "$OUT" | json_get '"\n".join("%s: %s" % (l["level"], l["message"]) for l in d["lines"])'
}

step "one batch: statuses follow the sidecars and the damage"
kiln batch
expect_rc 1
expect_match "$(summary)" '^11 jobs: 3 completed, 1 with warnings, 1 with errors, 6 failed; 9 products; ' "summary"
load_jobs
expect_eq "$(status_of side/plain.obj)" "completed -" "no sidecar"
expect_eq "$(status_of side/uvs.obj)" "completed -" "tangents with UVs"
expect_eq "$(status_of side/custom.obj)" "completed_warning -" "custom normals missing"
expect_eq "$(status_of side/nouvs.obj)" "completed_error -" "tangents without UVs"
expect_eq "$(status_of broken/cameras.dae)" "completed -" "cameras only"
expect_eq "$(products_of broken/cameras.dae)" 1 "the scene product of cameras.dae"
for s in side/unknown.obj side/syntax.obj broken/garbage.fbx broken/half.glb broken/cut.ply broken/crash.ply; do
	expect_eq "$(status_of $s)" "failed failed" "$s"
	expect_eq "$(products_of $s)" 0 "products of $s"
done

step "the log lines say what happened"
expect_match "$(log_of side/custom.obj)" '^warning: mesh "Box" has no normals although the options ask for the file.s own' "custom normals warning"
expect_match "$(log_of side/nouvs.obj)" '^error: mesh "Box" has no UVs, so tangents cannot be computed: it is written without tangents' "tangents error"
expect_eq "$(products_of side/nouvs.obj)" 2 "the mesh without UVs is still written (and the scene)"
expect_match "$(log_of side/unknown.obj)" '^error: /.*/Assets/side/unknown\.obj\.assetinfo:3:3: unknown key "tangent"' "unknown key"
expect_match "$(log_of side/syntax.obj)" '^error: /.*/Assets/side/syntax\.obj\.assetinfo:2:15: ' "bad JSON"
expect_match "$(log_of broken/garbage.fbx)" '^error: cannot import broken/garbage\.fbx: ' "garbage"
expect_match "$(log_of broken/half.glb)" '^error: cannot import broken/half\.glb: ' "truncated GLB"
expect_match "$(log_of broken/cut.ply)" '^error: cannot import broken/cut\.ply: the PLY header has no end_header line' "cut PLY header"
expect_match "$(log_of broken/crash.ply)" '^error: (assimp crashed while importing broken/crash\.ply \(signal 6|cannot import broken/crash\.ply: )' "importer abort"
expect_match "$(log_of broken/cameras.dae)" '^info: broken/cameras/cameras\.dae\.kscene: scene of 4 nodes, 0 mesh products, 3 cameras' "no meshes: a scene"

step "the products carry the layout the options asked for"
$PY - "$P/Cache/pc" <<'PYEOF' || fail "layout check failed"
import glob, struct, sys
def layout(pattern):
    files = glob.glob(sys.argv[1] + "/" + pattern)
    assert len(files) == 1, (pattern, files)
    b = open(files[0], "rb").read()
    return struct.unpack_from("<I", b, 8)[0]
assert layout("side/plain/box_*.kmesh") == 0x3, "position|normal (generated)"
assert layout("side/nouvs/box_*.kmesh") == 0x3, "no tangents without UVs"
assert layout("side/uvs/tri_*.kmesh") == 0xf, "position|normal|tangent|uv0"
PYEOF

step "no sanitizer report in any job log (sanitizer builds)"
if grep -rlE 'Sanitizer|runtime error:' "$P/Cache/logs/jobs" >"$T/san"; then
	fail "sanitizer reports in $(cat "$T/san")"
fi

step "after the sidecar is fixed, the failed job runs again and reads it"
printf '{\n  "normals": "custom",\n  "tangents": true\n}\n' >"$A/side/unknown.obj.assetinfo"
kiln batch
expect_rc 1
load_jobs
expect_eq "$(status_of side/unknown.obj)" "completed_error -" "fixed sidecar (tangents without UVs, custom normals missing)"
echo "ok"
