# Keep the rows of a table (header included) whose first column is an id of
# the first column of another table (its header skipped).
#   awk -f select-ids.awk test.tsv predictions.tsv > test_predictions.tsv
BEGIN { FS = OFS = "\t" }
NR == FNR { if (FNR > 1) keep[$1] = 1; next }
FNR == 1 || ($1 in keep)
