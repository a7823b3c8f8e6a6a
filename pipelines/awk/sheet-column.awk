# One text column of a sample sheet for the samples with an image of one
# modality: id and the column's value, rows with an empty value left out.
#   awk -v mod=xray -v col=report -v name=text -f sheet-column.awk samples.tsv > refs.tsv
# name: the header of the value column; header=0 leaves the header out (the
# 'id<TAB>prompt' lines of mg-decode --prompts). Values keep their own text;
# a tab or a line break cannot be in a TSV cell.
BEGIN { FS = OFS = "\t"; if (name == "") name = col; if (header == "") header = 1 }
{ sub(/\r$/, "") }
NR == 1 {
    for (i = 1; i <= NF; i++) {
        if ($i == "sample") ic = i
        if ($i == "modality") mc = i
        if ($i == col) c = i
    }
    miss = !ic ? "sample" : !mc ? "modality" : !c ? col : ""
    if (miss != "") {
        printf "sheet-column: error: %s: no column '%s'\n", FILENAME, miss > "/dev/stderr"
        bad = 1; exit 1
    }
    if (header) print "id", name
    next
}
/^#/ || NF == 0 { next }
$mc == mod && $c != "" { print $ic, $c; n++ }
END {
    if (!bad && !n) {
        printf "sheet-column: error: %s: no %s sample with a '%s'\n", FILENAME, mod, col > "/dev/stderr"
        exit 1
    }
}
