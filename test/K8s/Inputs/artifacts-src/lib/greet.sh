greet() { echo "$1 by $(basename "$PWD")"; }
