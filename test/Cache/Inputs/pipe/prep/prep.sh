# Counts the bytes of every data file into out/sizes.txt.
echo run >> "$3/prep.count"
cat "$1"/* | wc -c > "$2/sizes.txt"
cat "$1"/* > "$2/all.txt"
