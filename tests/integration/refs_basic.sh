# kiln-refs on a small project: XML files naming PNG and OGG files by
# relative and root-relative paths, a JSON level, a binary model holding a
# texture path, a malformed XML file and a path that tries to leave the scan
# folder. Every file is copied; the references each job found are read back
# from the info line the builder logs (and from the database when the
# supervisor stores path dependencies).
set -e
. "$(dirname "$0")/lib.sh"

write_config <<JSON
{
  "project": "refs",
  "platforms": ["pc"],
  "scan_folders": [{"path": "Assets"}],
  "builders": [
    {"exec": "kiln-copy", "patterns": ["*.ogg", "*.png"]},
    {"exec": "kiln-refs", "patterns": ["*.xml", "*.json", "*.mdl"]}
  ],
  "hosts": 2
}
JSON
A="$P/Assets"
mkdir -p "$A/textures" "$A/sounds" "$A/units/archer/images" "$A/levels" "$A/models"
echo png >"$A/textures/grass.png"
echo png >"$A/textures/stone.png"
echo ogg >"$A/sounds/step.ogg"
echo png >"$A/units/archer/images/icon.png"
echo secret >"$T/outside.png"
cat >"$A/units/archer/archer.xml" <<'XML'
<?xml version="1.0"?>
<unit name="archer">
  <image path="images/icon.png"/>
  <sound path="/sounds/step.ogg"/>
  <sound path="../../sounds/step.ogg"/>
  <texture>textures/grass.png</texture>
  <escape path="../../../../outside.png"/>
  <escape path="../../../outside.png"/>
  <missing path="images/nope.png"/>
</unit>
XML
cat >"$A/levels/level1.json" <<'JSON'
{"name": "level one", "tiles": ["textures/stone.png", "../textures/grass.png"], "music": "sounds/step.ogg"}
JSON
printf 'MDL\0\1\2\377textures/grass.png\0\0\0\7\0../../../outside.png\0' >"$A/models/tree.mdl"
truncate -s 65M "$A/models/huge.mdl"
printf '<?xml version="1.0"?>\n<a>\n  <b path="textures/grass.png"/>\n  <c>\n</a>\n' >"$A/broken.xml"

# refs_of SOURCE: the "paths" context of the job's "references found" line,
# joined with '|'.
refs_of() {
	kiln jobs --json
	local id
	id=$(printf '%s' "$OUT" | json_get "[j['id'] for j in d if j['source'] == '$1'][0]")
	kiln job "$id" --json
	printf '%s' "$OUT" | json_get "'|'.join(l['context'].get('paths', '').replace('\n', '|') for l in d['lines'] if l['level'] == 'info' and 'references found' in l['message'])"
}

status_of() {
	sql "SELECT j.status FROM jobs j JOIN sources s ON s.id = j.source_id WHERE s.path = '$1'"
}

step "the batch copies every file; the malformed XML and the file over the scan limit are warnings"
kiln batch
expect_rc 0
expect_match "$(summary)" '^9 jobs: 7 completed, 2 with warnings, 0 with errors, 0 failed; 9 products; ' "summary"
expect_eq "$(status_of units/archer/archer.xml)" completed "archer.xml status"
expect_eq "$(status_of models/tree.mdl)" completed "tree.mdl status"
expect_eq "$(status_of broken.xml)" completed_warning "broken.xml status"
expect_eq "$(status_of models/huge.mdl)" completed_warning "huge.mdl status"
expect_eq "$(stat -c %s "$P/Cache/pc/models/huge.mdl")" $((65 << 20)) "huge.mdl copied whole"
cmp -s "$A/units/archer/archer.xml" "$P/Cache/pc/units/archer/archer.xml" || fail "archer.xml not copied"
cmp -s "$A/models/tree.mdl" "$P/Cache/pc/models/tree.mdl" || fail "tree.mdl not copied"
cmp -s "$A/broken.xml" "$P/Cache/pc/broken.xml" || fail "malformed XML not copied"
expect_eq "$(sql "SELECT asset_type FROM products WHERE path = 'models/tree.mdl'")" mdl "asset type"

step "references relative to the file, to the root, and with ../ inside the folder"
expect_eq "$(refs_of units/archer/archer.xml)" \
	"sounds/step.ogg|textures/grass.png|units/archer/images/icon.png" "archer.xml references"
expect_eq "$(refs_of levels/level1.json)" "sounds/step.ogg|textures/grass.png|textures/stone.png" \
	"level1.json references"
expect_eq "$(refs_of models/tree.mdl)" "textures/grass.png" "binary references"

step "the malformed XML warning names line and column and keeps earlier references"
kiln jobs --json
id=$(printf '%s' "$OUT" | json_get "[j['id'] for j in d if j['source'] == 'broken.xml'][0]")
kiln job "$id" --json
warn=$(printf '%s' "$OUT" | json_get "[l['message'] for l in d['lines'] if l['level'] == 'warning'][0]")
expect_match "$warn" 'malformed XML in broken.xml at line 5, column 3: mismatched tag' "warning text"
expect_eq "$(refs_of broken.xml)" "textures/grass.png" "references before the error"

step "no reference leaves the scan folder, and the big file was not scanned"
! grep -rq "outside" "$P/Cache/logs/jobs" || fail "a reference left the scan folder"
expect_match "$(grep -rh "huge.mdl" "$P/Cache/logs/jobs")" 'over the 64 MiB scan limit: copied, not scanned' "big file warning"

step "stored path dependencies, when the supervisor keeps them, match the log"
n=$(sql "SELECT count(*) FROM product_deps")
if [ "$n" -gt 0 ]; then
	expect_eq "$(sql "SELECT group_concat(dep_path, '|') FROM (SELECT d.dep_path FROM product_deps d JOIN products p ON p.id = d.product_id WHERE p.path = 'units/archer/archer.xml' ORDER BY d.dep_path)")" \
		"sounds/step.ogg|textures/grass.png|units/archer/images/icon.png" "stored dependencies"
else
	echo "   (product_deps is empty: the supervisor does not store path dependencies yet)"
fi
echo "ok"
