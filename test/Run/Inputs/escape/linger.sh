# linger.sh MARKER: runs until killed; MARKER shows in the process table.
while :; do sleep 1; done
