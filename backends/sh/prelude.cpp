// The fixed parts of the script: option parsing and helpers (prelude), the
// scheduler (epilogue), and the function that writes the parallel harness.
#include "backends/sh/prelude.h"

#include <string>

namespace pipec::runtime::parallel {
llvm::StringRef harnessSource();
llvm::StringRef tablesSource();
llvm::StringRef shParallelSource();
llvm::StringRef splitSource();
}  // namespace pipec::runtime::parallel

namespace pipec::backends::sh {

llvm::StringRef prelude() {
  return R"pipec_sh(
# Exports stay in each process's subshell (SC2030, SC2031); the step tables
# are read through eval (SC2034); values and commands are data, quoted so that
# nothing in them expands (SC2016, SC2089, SC2090).
# shellcheck disable=SC2016,SC2030,SC2031,SC2034,SC2089,SC2090
set -u
pipec_me=${0##*/}
pipec_die() {
  printf '%s: error: %s\n' "$pipec_me" "$1" >&2
  exit "${2:-1}"
}
pipec_usage() {
  printf 'usage: sh %s [--workdir DIR] [--jobs N] [--run-id ID] [--python PATH] [--grace S]\n' "$pipec_me"
  printf '  --workdir DIR   the run goes to DIR/runs/<run-id>/ (default: .)\n'
  printf '  --jobs N        steps running at once (default: the number of cores)\n'
  printf '  --run-id ID     the run folder'"'"'s name (default: date-time-salt)\n'
  printf '  --python PATH   the interpreter of parallel steps, first on PATH as python and python3\n'
  printf '  --grace S       on Ctrl-C, seconds before SIGKILL follows SIGTERM (default: 5)\n'
}
pipec_workdir=.
pipec_jobs=
pipec_run_id=
pipec_python=
pipec_grace=5
while [ $# -gt 0 ]; do
  case $1 in
    --workdir | --jobs | --run-id | --python | --grace)
      [ $# -ge 2 ] || pipec_die "$1 needs a value" 2
      pipec_opt=$1
      pipec_val=$2
      shift 2
      ;;
    --workdir=* | --jobs=* | --run-id=* | --python=* | --grace=*)
      pipec_opt=${1%%=*}
      pipec_val=${1#*=}
      shift
      ;;
    -h | --help)
      pipec_usage
      exit 0
      ;;
    *)
      pipec_usage >&2
      pipec_die "unknown argument '$1'" 2
      ;;
  esac
  case $pipec_opt in
    --workdir) pipec_workdir=$pipec_val ;;
    --jobs) pipec_jobs=$pipec_val ;;
    --run-id) pipec_run_id=$pipec_val ;;
    --grace) pipec_grace=$pipec_val ;;
    *) pipec_python=$pipec_val ;;
  esac
done
case $pipec_jobs in
  '')
    pipec_jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || pipec_jobs=1
    case $pipec_jobs in '' | *[!0-9]* | 0) pipec_jobs=1 ;; esac
    ;;
  *[!0-9]* | 0*) pipec_die "--jobs needs a positive number, not '$pipec_jobs'" 2 ;;
esac
case $pipec_grace in
  '' | *[!0-9]*) pipec_die "--grace needs a number of seconds, not '$pipec_grace'" 2 ;;
esac
case $pipec_run_id in
  '') pipec_run_id=$(date +%Y%m%d-%H%M%S)-$(printf '%04x' $(($$ % 65536))) ;;
  */* | . | ..) pipec_die "--run-id needs a folder name, not '$pipec_run_id'" 2 ;;
esac
mkdir -p -- "$pipec_workdir/runs" ||
  pipec_die "cannot create the run directory under '$pipec_workdir'"
pipec_runs=$(cd -- "$pipec_workdir/runs" && pwd) ||
  pipec_die "cannot enter '$pipec_workdir/runs'"
pipec_r=$pipec_runs/$pipec_run_id
case $pipec_r in
  *[[:cntrl:]]*) pipec_die "the run folder '$pipec_r' holds a control character" ;;
esac
# The run folder as text inside a JSON string.
pipec_rj=$(printf '%s\n' "$pipec_r" | sed 's/\\/\\\\/g; s/"/\\"/g')
mkdir -- "$pipec_r" ||
  pipec_die "cannot create the run directory '$pipec_r'"
rm -f -- "$pipec_runs/latest"
ln -s -- "$pipec_run_id" "$pipec_runs/latest" 2>/dev/null || :
if [ -n "$pipec_python" ]; then
  command -v -- "$pipec_python" >/dev/null 2>&1 ||
    pipec_die "python interpreter '$pipec_python' not found" 2
  if ! { mkdir -- "$pipec_r/bin" &&
    ln -s -- "$pipec_python" "$pipec_r/bin/python" &&
    ln -s -- "$pipec_python" "$pipec_r/bin/python3"; }; then
    pipec_die "cannot create '$pipec_r/bin'"
  fi
  PATH=$pipec_r/bin:${PATH:-/usr/local/bin:/usr/bin:/bin}
  export PATH
else
  pipec_python=python3
fi
if command -v setsid >/dev/null 2>&1; then pipec_setsid=1; else pipec_setsid=; fi
pipec_t=$(mktemp -d "${TMPDIR:-/tmp}/pipec-sh.XXXXXX") ||
  pipec_die "cannot create a temporary folder"
trap 'rm -rf -- "$pipec_t"' EXIT
mkfifo -- "$pipec_t/done" || pipec_die "cannot create a pipe in '$pipec_t'"
exec 9<>"$pipec_t/done"
: >"$pipec_t/pids"
: >"$pipec_t/steps"

# Signals every process group (or process) listed in file $1 with $2.
pipec_killall() {
  while read -r pipec_k; do
    kill -s "$2" -- "-$pipec_k" 2>/dev/null || kill -s "$2" "$pipec_k" 2>/dev/null
  done <"$1"
}
# Replaces the subshell with a step's process, in a session of its own so
# that stopping it reaches everything it started.
pipec_exec() {
  exec 8>&- 9>&-
  if [ -n "$pipec_setsid" ]; then exec setsid "$@"; fi
  exec "$@"
}
# Waits for process $2 (named $1) and reports "NAME DECIDES STATUS".
pipec_watch() {
  printf '%s\n' "$2" >>"$pipec_t/pids"
  printf '%s\n' "$2" >>"$pipec_sp"
  wait "$2"
  printf '%s %s %s\n' "$1" "$3" "$?" >&8
}
# Sets up step $1 in its own subshell: a pipe for its processes' ends.
pipec_begin() {
  pipec_sp=$pipec_t/$1.pids
  : >"$pipec_sp"
  mkfifo -- "$pipec_t/$1.fifo" || return 1
  exec 8<>"$pipec_t/$1.fifo"
  trap 'pipec_killall "$pipec_sp" TERM; wait; exit 143' TERM
}
pipec_status() {
  if [ "$1" -gt 128 ]; then
    printf 'signal %s' "$(($1 - 128))"
  else
    printf 'exit %s' "$1"
  fi
}
# Waits until $1 deciding processes of $2 succeeded or one failed; stops
# the others. Fails naming the process in pipec_why and pipec_proc.
pipec_await() {
  pipec_left=$1
  pipec_all=$2
  pipec_why=
  while [ "$pipec_left" -gt 0 ] && [ "$pipec_all" -gt 0 ]; do
    read -r pipec_proc pipec_dec pipec_rc <&8 || break
    pipec_all=$((pipec_all - 1))
    if [ "$pipec_rc" -ne 0 ]; then
      pipec_why=$(pipec_status "$pipec_rc")
      [ "$2" -eq 1 ] || pipec_why="$pipec_proc: $pipec_why"
      break
    fi
    [ "$pipec_dec" = 0 ] || pipec_left=$((pipec_left - 1))
  done
  pipec_killall "$pipec_sp" TERM
  wait
  [ -z "$pipec_why" ]
}
# Reports step $1 (folder $pipec_d) failed.
pipec_failed() {
  printf '%s: error: step '"'"'%s'"'"' failed (%s), log: %s/logs/%s.log\n' \
    "$pipec_me" "$1" "$pipec_why" "$pipec_d" "$pipec_proc" >&2
  return 1
}
# Starts process $1 of the step in folder $pipec_d ($2: 1 when its end
# decides the step's): in the step's ml/usercode, with stdin from /dev/null
# and its output in logs/$1.log, it gets the step's environment (pipec_e),
# then its own variables (the other arguments, NAME=VALUE), and runs the
# step's command (pipec_c).
pipec_start() {
  (
    (
      cd -- "$pipec_d/ml/usercode" || exit 126
      pipec_e
      shift 2
      # Each argument is NAME=VALUE.
      # shellcheck disable=SC2163
      for pipec_v; do export "$pipec_v"; done
      pipec_c
    ) </dev/null >"$pipec_d/logs/$1.log" 2>&1 &
    pipec_watch "$1" "$!" "$2" 2>/dev/null
  ) &
}
# Links $2 to $1 unless the step's code put something there.
pipec_ln_unless() {
  [ -e "$2" ] || [ -L "$2" ] || ln -s -- "$1" "$2"
}
# Reports step $1 could not be laid out or started ($2: why).
pipec_broken() {
  printf '%s: error: step '"'"'%s'"'"' could not start: %s\n' "$pipec_me" "$1" "$2" >&2
  return 1
}
# Builds the virtual environment $1 for requirements file $2 once (log $3)
# for step $4; other steps wait for it.
pipec_venv() {
  mkdir -p -- "${1%/*}" || return 1
  # The lock is a folder. A failed mkdir with no folder there is either a
  # folder that cannot be made or one just removed by the step that held
  # it: given up on only after three such tries in a row.
  pipec_tries=0
  until mkdir -- "$1.lock" 2>/dev/null; do
    if [ -d "$1.lock" ]; then
      pipec_tries=0
      sleep 1
      continue
    fi
    pipec_tries=$((pipec_tries + 1))
    [ "$pipec_tries" -lt 3 ] ||
      pipec_broken "$4" "cannot create '$1.lock'" || return 1
  done
  if [ ! -e "$1/.pipec-ready" ]; then
    {
      "$pipec_python" -m venv --without-pip --system-site-packages "$1" &&
        { "$1/bin/python" -c 'import pip' 2>/dev/null ||
          "$1/bin/python" -m ensurepip --default-pip; } &&
        "$1/bin/python" -m pip install --disable-pip-version-check -r "$2" &&
        : >"$1/.pipec-ready"
    } >"$3" 2>&1
  fi
  rmdir -- "$1.lock"
  [ -e "$1/.pipec-ready" ] || {
    printf '%s: error: step '"'"'%s'"'"': installing requirements.txt failed, log: %s\n' \
      "$pipec_me" "$4" "$3" >&2
    return 1
  }
}
# A port free on address $1: python3 binds one when there is one; otherwise
# one derived from this script's process id and port group $2.
pipec_port() {
  "$pipec_python" -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1" 2>/dev/null || echo $((20000 + ($$ * 7 + $2 * 101) % 30000))
}
)pipec_sh";
}

llvm::StringRef epilogue() {
  return R"pipec_sh(
pipec_interrupt() {
  trap '' INT TERM HUP
  pipec_killall "$pipec_t/steps" TERM
  pipec_killall "$pipec_t/pids" TERM
  # Whatever ignores SIGTERM gets SIGKILL after the grace period.
  (
    sleep "$pipec_grace"
    pipec_killall "$pipec_t/pids" KILL
  ) &
  pipec_killer=$!
  while read -r pipec_k; do wait "$pipec_k"; done <"$pipec_t/steps"
  kill "$pipec_killer" 2>/dev/null
  printf '%s: interrupted by %s; run folder: %s\n' "$pipec_me" "$1" "$pipec_r" >&2
  exit "$2"
}
trap 'pipec_interrupt SIGINT 130' INT
trap 'pipec_interrupt SIGTERM 143' TERM
trap 'pipec_interrupt SIGHUP 129' HUP
pipec_running=0
pipec_finished=0
pipec_failures=
pipec_skipped=0
# Starts ready steps while fewer than --jobs run.
pipec_fill() {
  while [ -n "$pipec_ready" ] && [ "$pipec_running" -lt "$pipec_jobs" ]; do
    pipec_j=${pipec_ready%% *}
    case $pipec_ready in
      *' '*) pipec_ready=${pipec_ready#* } ;;
      *) pipec_ready= ;;
    esac
    (
      "pipec_s$pipec_j"
      printf '%s %s\n' "$pipec_j" "$?" >&9
    ) &
    printf '%s\n' "$!" >>"$pipec_t/steps"
    pipec_running=$((pipec_running + 1))
  done
}
# Step $1 ended with status $2: its dependants may start, or are skipped.
pipec_done() {
  pipec_finished=$((pipec_finished + 1))
  pipec_name=
  pipec_ds=
  eval "pipec_name=\$pipec_m_$1"
  if [ "$2" -eq 0 ]; then
    printf '[%s/%s] %s: ok\n' "$pipec_finished" "$pipec_total" "$pipec_name"
    eval "pipec_ds=\$pipec_d_$1"
    for pipec_j in $pipec_ds; do
      eval "pipec_n_$pipec_j=\$((pipec_n_$pipec_j - 1))"
      if eval "[ \"\$pipec_n_$pipec_j\" -eq 0 ]"; then
        pipec_ready=${pipec_ready:+$pipec_ready }$pipec_j
      fi
    done
    return
  fi
  printf '[%s/%s] %s: FAILED\n' "$pipec_finished" "$pipec_total" "$pipec_name"
  pipec_failures=${pipec_failures:+$pipec_failures, }$pipec_name
  pipec_work=$1
  while [ -n "$pipec_work" ]; do
    pipec_w=${pipec_work%% *}
    case $pipec_work in
      *' '*) pipec_work=${pipec_work#* } ;;
      *) pipec_work= ;;
    esac
    eval "pipec_ds=\$pipec_d_$pipec_w"
    for pipec_j in $pipec_ds; do
      if eval "[ \"\$pipec_n_$pipec_j\" -ge 0 ]"; then
        eval "pipec_n_$pipec_j=-1"
        pipec_skipped=$((pipec_skipped + 1))
        pipec_work=${pipec_work:+$pipec_work }$pipec_j
      fi
    done
  done
}
pipec_fill
while [ "$pipec_running" -gt 0 ]; do
  read -r pipec_i pipec_rc <&9 || continue
  pipec_running=$((pipec_running - 1))
  pipec_done "$pipec_i" "$pipec_rc"
  pipec_fill
done
wait
if [ -n "$pipec_failures" ]; then
  printf '%s: error: step(s) failed: %s; %s step(s) not run; run folder: %s\n' \
    "$pipec_me" "$pipec_failures" "$pipec_skipped" "$pipec_r" >&2
  exit 1
fi
printf 'all %s steps passed; run folder: %s\n' "$pipec_total" "$pipec_r"
)pipec_sh";
}

std::string harnessFunction() {
  const std::pair<const char*, llvm::StringRef> files[] = {
      {"pipec_harness.py", runtime::parallel::harnessSource()},
      {"pipec_tables.py", runtime::parallel::tablesSource()},
      {"pipec_sh_parallel.py", runtime::parallel::shParallelSource()},
      {"pipec_split.py", runtime::parallel::splitSource()},
  };
  // A delimiter that is no line of any file.
  std::string delim = "PIPEC_PY";
  for (bool clash = true; clash;) {
    clash = false;
    for (const auto& f : files)
      if (f.second.contains("\n" + delim + "\n") ||
          f.second.startswith(delim + "\n")) {
        delim += "_";
        clash = true;
      }
  }
  std::string out =
      "\n# Writes the parallel-step harness (the Python files pipec run "
      "writes) into $1.\npipec_harness() {\n  mkdir -p -- \"$1\" || return 1\n";
  for (const auto& [name, text] : files) {
    out += "  cat >\"$1/" + std::string(name) + "\" <<'" + delim +
           "' || return 1\n";
    out += text.str();
    if (!text.endswith("\n")) out += "\n";
    out += delim + "\n";
  }
  out += "}\n";
  return out;
}

}  // namespace pipec::backends::sh
