# PENDING (fails about one run in four at 60 KB free): a full disk must not cost the database its records.
# While the copy of a product that does not fit fills the disk to the last
# byte (until its temp file goes), a commit of the database can fail with
# "database or disk is full". kiln now stops the batch and says the disk is
# full, but SQLite has rolled the transaction back: the rows of every job
# since the last commit are gone, failures (kiln jobs --json has no row for
# big1.bin ... big4.bin, so nothing says why they failed) and completions
# alike, and the completed jobs' products did land in Cache/pc, where the
# database does not list them; the summary still says "3 completed ... 3
# products". (The next batch with space runs those jobs again and overwrites
# the files, so the cache heals.) kiln.log also says "batch stopped by a
# signal" though no signal came. With 60 KB free this happens on every run;
# with 300 KB, now and then. Expected: a failed commit is retried once the
# job's temp files are gone (or the failures are written after them), and
# products are renamed into place only after their rows are committed, or
# left out of the summary when they were not.
# Runs tests/integration/diskfull_cache.sh with 60 KB and then 300 KB left
# free.
set -e
KILN_DISKFULL_FREE_KB=60 bash "$(dirname "$0")/../integration/diskfull_cache.sh" "$@"
bash "$(dirname "$0")/../integration/diskfull_cache.sh" "$@"
