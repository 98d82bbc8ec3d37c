# (fixed; was pending): on a database with damaged pages (random bytes over
# pages 4-7 of Cache/assetdb.sqlite) the read-only commands say "kiln jobs:
# database: database disk image is malformed (database disk image is
# malformed)": no file name and no way out. The error comes from a query
# step, not from db_open, so it goes through q_prepare/q_step_failed in
# supervisor/query/database.c, which print sqlite3_errmsg only; db_describe_error
# (supervisor/db/db.c) would give the file and the rebuild procedure. (kiln
# batch on the same file now stops with the file's name and the procedure.)
# Runs tests/integration/corrupt_db.sh with its strict checks on.
KILN_CORRUPT_STRICT=1 exec bash "$(dirname "$0")/../integration/corrupt_db.sh" "$@"
