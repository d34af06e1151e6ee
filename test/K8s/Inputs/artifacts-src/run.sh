. ./lib/greet.sh
greet trained > outputs/x.txt
mkdir -p outputs/sub
cp blob.bin outputs/sub/blob.bin
printf 'one\ntwo\n' > outputs/sub/y.txt
greet started > logs/run.txt
