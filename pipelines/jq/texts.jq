# mg-decode generate's JSON Lines (one object per prompt: id, text, ...) as the
# two-column table mg-score report / vqa read: a header 'id<TAB>COL', then each
# prompt's id and text with tabs and line breaks folded to one space.
#   jq -nr --arg col text -f texts.jq reports.jsonl > reports.tsv
["id", $col],
(inputs | [.id, (.text | gsub("[\t\r\n]+"; " "))])
| @tsv
