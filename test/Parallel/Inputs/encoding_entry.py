# An entry script for the table-encoding tests: "id|note" per row, line
# breaks in the note written \n and \r.
def run(mini_batch):
    if type(mini_batch).__name__ == "DataFrame":
        rows = mini_batch.to_dict("records")
    else:
        rows = mini_batch
    return ["%s|%s" % (r["id"], str(r["note"]).replace("\r", "\\r")
                       .replace("\n", "\\n")) for r in rows]
