# PENDING (fails today): a damaged database must stop kiln with one clear
# message that names the file and says how to rebuild it.
#  1. Random bytes over pages 4-7 of Cache/assetdb.sqlite: kiln batch prints
#     one "ERROR [kiln] database: database disk image is malformed (in:
#     INSERT INTO sources ...)" line per source, then "0 jobs: ... 0 failed;
#     0 products" and exits 0. The scan (supervisor/eng_scan.c) and
#     eng_maybe_commit (supervisor/eng_state.c) log database failures and go
#     on; engine_batch returns success.
#  2. On the same file the read-only commands say "kiln jobs: database:
#     database disk image is malformed (database disk image is malformed)":
#     no file name, no way out (supervisor/query.c q_prepare/q_step_failed).
#  3. The other damage messages end in 'see README, "Rebuilding the
#     database"' (supervisor/db.c db_open), a section the README does not
#     have; the procedure is in docs/robustness.md.
#  4. A folder in place of the database: "unable to open database file" /
#     "disk I/O error", not "is a folder".
# Runs tests/integration/corrupt_db.sh with its strict checks on.
KILN_CORRUPT_STRICT=1 exec bash "$(dirname "$0")/../integration/corrupt_db.sh" "$@"
