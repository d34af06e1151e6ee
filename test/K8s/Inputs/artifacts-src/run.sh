. ./lib/greet.sh
greet trained > outputs/x.txt
mkdir -p outputs/sub
printf 'one\ntwo\n' > outputs/sub/y.txt
greet started > logs/run.txt
