# slot.sh DIR SLOTS RENDEZVOUS: holds a slot folder in DIR while it runs.
dir=$1 slots=$2 rendezvous=$3
i=1
while ! mkdir "$dir/slot$i" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -le "$slots" ] || { echo "no free slot of $slots" >&2; exit 9; }
done
if [ "$rendezvous" = true ]; then
  n=0
  while [ "$(ls "$dir" | wc -l)" -lt "$slots" ]; do
    n=$((n + 1))
    [ "$n" -le 600 ] || { echo "only $(ls "$dir" | wc -l) of $slots at once" >&2; exit 8; }
    sleep 0.05
  done
  exit 0  # the slot stays taken, so that no one waits for a late comer
fi
sleep 0.1
rmdir "$dir/slot$i"
