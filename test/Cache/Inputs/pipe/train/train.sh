# The "model": the data, upper-cased.
echo run >> "$3/train.count"
tr a-z A-Z < "$1/all.txt" > "$2/model.txt"
