#!/usr/bin/env bash
# prioritised.sh CMD...: on a shared machine, runs a benchmark at nice -20 while every other process
# outside the test cluster (its daemons and pods) sits at nice 19; afterwards every process is back at
# nice 0. Needs root. Only priorities change: nothing is stopped, so the figures are still a shared
# machine's, just much less so.
keep='^(kube-|etcd|dockerd|containerd|registry|docker-|kubelet|coredns|pause|systemd|sshd|init)'
lower() {
  ps -eo pid=,ni=,comm= | while read -r p ni comm; do
    [[ $ni == -20 || $ni == 19 ]] && continue
    [[ $comm =~ $keep ]] && continue
    grep -qE 'kubepods|docker' "/proc/$p/cgroup" 2>/dev/null && continue
    renice -n 19 -p "$p" >/dev/null 2>&1
  done
}
renice -n -20 -p $$ >/dev/null
lower
( renice -n 0 -p $BASHPID >/dev/null; while sleep 3; do lower; done ) &
watcher=$!
"$@"
rc=$?
kill $watcher
ps -eo pid=,ni= | awk '$2 != 0 {print $1}' | while read -r p; do renice -n 0 -p "$p" >/dev/null 2>&1; done
exit $rc
