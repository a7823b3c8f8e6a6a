# One split of a labels table: the rows whose 'split' column equals s, as a
# two-column table (id, the label column col), header included.
#   awk -v s=train -v col=CAD -f split-labels.awk labels.tsv > train.tsv
# The labels table is tab-separated with a header naming 'id', 'split' and col.
BEGIN { FS = OFS = "\t" }
{ sub(/\r$/, "") }
NR == 1 {
    for (i = 1; i <= NF; i++) {
        if ($i == "id") ic = i
        if ($i == "split") sc = i
        if ($i == col) c = i
    }
    miss = !ic ? "id" : !sc ? "split" : !c ? col : ""
    if (miss != "") {
        printf "split-labels: error: %s: no column '%s'\n", FILENAME, miss > "/dev/stderr"
        bad = 1; exit 1
    }
    print "id", col
    next
}
/^#/ || NF == 0 { next }
$sc == s { print $ic, $c; n++ }
END {
    if (!bad && !n) {
        printf "split-labels: error: %s: no row with split '%s'\n", FILENAME, s > "/dev/stderr"
        exit 1
    }
}
