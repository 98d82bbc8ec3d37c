# kiln-mesh on real models from assimp's test set (OBJ, glTF, GLB, DAE,
# FBX, PLY, STL, 3DS, BLEND): every job completes, one product per mesh (the
# OBJ's groups counted independently) and one scene product per model, every
# mesh product parses as a valid .kmesh and every scene as a .kscene that
# lists its model's meshes, a second batch runs nothing, and after the cache
# is deleted the rebuild gives the same sub_ids and paths.
set -e
. "$(dirname "$0")/lib.sh"

M=/usr/share/assimp/models
[ -d "$M" ] || fail "assimp-testmodels is not installed ($M)"

write_config <<JSON
{
  "project": "meshes",
  "platforms": ["pc", "linux"],
  "scan_folders": [{"path": "Assets"}],
  "builders": [{"exec": "kiln-mesh"}],
  "metadata": {"assetinfo": ["obj", "gltf", "glb", "dae", "fbx", "ply", "stl", "3ds", "blend"]},
  "hosts": 2
}
JSON
A="$P/Assets"
mkdir -p "$A/obj" "$A/gltf" "$A/glb" "$A/dae" "$A/fbx" "$A/ply" "$A/stl" "$A/3ds" "$A/blend"
cp "$M/OBJ/spider.obj" "$M/OBJ/spider.mtl" "$M/OBJ/"*.jpg "$A/obj/"
cp "$M/glTF2/BoxTextured-glTF/"* "$A/gltf/"
cp "$M/glTF2/BoxBadNormals-glTF-Binary/BoxBadNormals.glb" "$A/glb/"
cp "$M/Collada/duck.dae" "$M/Collada/duckCM.tga" "$A/dae/"
cp "$M/FBX/box.fbx" "$A/fbx/"
cp "$M/PLY/cube.ply" "$A/ply/"
cp "$M/STL/Spider_binary.stl" "$A/stl/"
cp "$M/3DS/fels.3ds" "$A/3ds/"
cp "$M/BLEND/box.blend" "$A/blend/"

# The OBJ's meshes, counted without assimp: one per group.
SPIDER_MESHES=$(grep -c '^g ' "$A/obj/spider.obj")
# Every other model here holds one mesh; each of the 9 models has a scene.
MESHES=$((SPIDER_MESHES + 8))
PER_PLATFORM=$((MESHES + 9))

products_list() { # source|sub_id|path|platform, sorted
	kiln products --json
	expect_rc 0
	printf '%s' "$OUT" | json_get '"\n".join(sorted("%s|%08x|%s|%s" % (p["source"], p["sub_id"], p["path"], p["platform"]) for p in d))'
}

step "first batch: one job per model and platform, all completed"
kiln batch
expect_rc 0
expect_match "$(summary)" "^18 jobs: 18 completed, 0 with warnings, 0 with errors, 0 failed; $((2 * PER_PLATFORM)) products; " "summary"
expect_eq "$SPIDER_MESHES" 19 "groups in spider.obj"
expect_eq "$(sql "SELECT count(*) FROM products p JOIN jobs j ON p.job_id = j.id JOIN sources s ON s.id = j.source_id WHERE s.path = 'obj/spider.obj' AND j.platform = 'pc' AND p.asset_type = 'mesh'")" "$SPIDER_MESHES" "spider.obj mesh products"
expect_eq "$(sql "SELECT count(*) FROM products WHERE asset_type = 'scene' AND platform = 'pc' AND sub_id = 0")" 9 "scene products, sub_id 0"
expect_eq "$(sql "SELECT DISTINCT job_key FROM jobs")" mesh "job key"
FIRST=$(products_list)
expect_eq "$(printf '%s\n' "$FIRST" | wc -l | tr -d ' ')" $((2 * PER_PLATFORM)) "product rows"
expect_match "$FIRST" '^dae/duck.dae\|[0-9a-f]{8}\|dae/duck/lod3spshape-lib_[0-9a-f]{8}\.kmesh\|linux$' "product path form"
expect_match "$FIRST" '^dae/duck.dae\|00000000\|dae/duck/duck.dae.kscene\|linux$' "scene path form"
kiln products --json
expect_eq "$(printf '%s' "$OUT" | json_get 'sorted(set(p["asset_type"] for p in d))')" "['mesh', 'scene']" "asset types"

step "every mesh product is a well-formed .kmesh whose header matches its row, every scene lists its meshes"
printf '%s\n' "$FIRST" >"$T/list"
$PY - "$P/Cache" "$T/list" <<'PYEOF' || fail "product check failed"
import json, struct, sys, math
cache, listing = sys.argv[1], sys.argv[2]
n = 0
scenes, meshes = {}, {}
for line in open(listing):
    source, sub, path, platform = line.rstrip("\n").split("|")
    if path.endswith(".kscene"):
        assert sub == "00000000", path
        scenes[(source, platform)] = json.load(open("%s/%s/%s" % (cache, platform, path)))
        continue
    meshes.setdefault((source, platform), {})[int(sub, 16)] = path
    b = open("%s/%s/%s" % (cache, platform, path), "rb").read()
    assert b[:4] == b"KMSH", path
    ver, hsize, layout, stride, vc, ic, isz, mat = struct.unpack_from("<HHIIIIII", b, 4)
    bmin = struct.unpack_from("<3f", b, 32); bmax = struct.unpack_from("<3f", b, 44)
    voff, ioff, sub_id, res = struct.unpack_from("<QQII", b, 56)
    assert (ver, hsize, voff, res) == (1, 80, 80, 0), path
    assert layout & 1 and layout & ~0x1f == 0, path
    sizes = {1: 12, 2: 12, 4: 16, 8: 8, 16: 4}
    assert stride == sum(s for bit, s in sizes.items() if layout & bit), path
    assert isz == (2 if vc <= 65536 else 4), path
    assert vc > 0 and ic > 0 and ic % 3 == 0, path
    assert ioff >= voff + vc * stride and len(b) == ioff + ic * isz, path
    assert "%08x" % sub_id == sub, (path, sub_id, sub)
    fmt = "<%d%s" % (ic, "H" if isz == 2 else "I")
    idx = struct.unpack_from(fmt, b, ioff)
    assert max(idx) < vc, path
    # every index is used and the box holds every position, with equality on each side
    assert len(set(idx)) == vc, path
    for axis in range(3):
        xs = [struct.unpack_from("<f", b, voff + v * stride + 4 * axis)[0] for v in range(vc)]
        assert all(math.isfinite(x) for x in xs), path
        assert min(xs) == bmin[axis] and max(xs) == bmax[axis], (path, axis)
    n += 1
# Each scene lists exactly its model's mesh products, and its nodes place
# only those, each at least once; parents come before their children.
assert sorted(scenes) == sorted(meshes), (sorted(scenes), sorted(meshes))
for key, sc in scenes.items():
    assert sc["kscene"] == 1 and sc["source"] == key[0], key
    listed = {m["sub_id"]: m["file"] for m in sc["meshes"]}
    assert listed == meshes[key], key
    assert all(m["primitive"] == "triangles" for m in sc["meshes"]), key
    placed = set()
    for i, nd in enumerate(sc["nodes"]):
        assert len(nd["matrix"]) == 16, key
        assert (nd["parent"] is None) == (i == 0) and (i == 0 or nd["parent"] < i), key
        placed.update(nd["meshes"])
    assert placed == set(listed), key
print("checked", n, "meshes and", len(scenes), "scenes")
PYEOF

step "no sanitizer report in any job log (sanitizer builds)"
if grep -rlE 'Sanitizer|runtime error:' "$P/Cache/logs/jobs" >"$T/san"; then
	fail "sanitizer reports in $(cat "$T/san")"
fi

step "a second batch runs nothing"
kiln batch
expect_rc 0
expect_match "$(summary)" '^0 jobs: 0 completed, 0 with warnings, 0 with errors, 0 failed; 0 products; ' "no-op summary"

step "editing an OBJ's material library rebuilds that model only"
echo "# edited" >>"$A/obj/spider.mtl"
kiln batch
expect_rc 0
expect_match "$(summary)" '^2 jobs: 2 completed, ' "after the .mtl edit"
expect_eq "$(sql "SELECT DISTINCT s.path FROM jobs j JOIN sources s ON s.id = j.source_id ORDER BY j.completed_at DESC LIMIT 1")" obj/spider.obj "rebuilt source"

step "editing a glTF's buffer file rebuilds that model only"
printf '\0\0\0\0' >>"$A/gltf/BoxTextured0.bin"
kiln batch
expect_rc 0
expect_match "$(summary)" '^2 jobs: 2 completed, ' "after the .bin edit"

step "a new sidecar rebuilds its model, which reads it"
echo '{"optimize": false}' >"$A/dae/duck.dae.assetinfo"
kiln batch
expect_rc 0
expect_match "$(summary)" '^2 jobs: 2 completed, ' "after the sidecar appeared"
kiln job "$(sql "SELECT j.id FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = 'dae/duck.dae' AND j.platform = 'pc'")" --json
expect_match "$(printf '%s' "$OUT" | json_get '"\n".join(l["message"] for l in d["lines"])')" 'options from /.*/dae/duck\.dae\.assetinfo' "sidecar read"
rm "$A/dae/duck.dae.assetinfo"
kiln batch
expect_rc 0
expect_match "$(summary)" '^2 jobs: 2 completed, ' "after the sidecar went"

step "a rebuild from an empty cache gives the same sub_ids and paths"
rm -rf "$P/Cache"
kiln batch
expect_rc 0
expect_match "$(summary)" "^18 jobs: 18 completed, 0 with warnings, 0 with errors, 0 failed; $((2 * PER_PLATFORM)) products; " "rebuild summary"
SECOND=$(products_list)
expect_eq "$SECOND" "$FIRST" "products after the rebuild"
echo "ok"
