#!/bin/sh
# Runs the payload-loader fuzz targets one after another on stable Rust (no sanitizer, debug
# assertions and overflow checks on), each for RUNS executions or MAX_TIME seconds, whichever
# comes first, and prints one summary line per target.
#   payload-loader/fuzz/run.sh                 # every target, 10 million runs each
#   RUNS=200000 MAX_TIME=60 payload-loader/fuzz/run.sh plan elf   # what CI can afford
set -eu
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
MAX_TIME=${MAX_TIME:-3600}
TARGETS=${*:-"notes multiboot1 multiboot2 decoders elf plan bzimage bzimage_plan"}
mkdir -p target/logs
cargo fuzz build -s none -a
for t in $TARGETS; do
    mkdir -p "corpus/$t"
    start=$(date +%s)
    cargo fuzz run "$t" -s none -a -- -runs="$RUNS" -max_total_time="$MAX_TIME" -print_final_stats=1 \
        >"target/logs/$t.log" 2>&1 || { echo "$t: FAILED, see fuzz/target/logs/$t.log"; tail -30 "target/logs/$t.log"; exit 1; }
    end=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "target/logs/$t.log")
    echo "$t: $runs executions in $((end - start)) s, no crash"
done
