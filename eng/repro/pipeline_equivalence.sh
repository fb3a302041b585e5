#!/usr/bin/env bash
# Old vs new evaluation pipeline on the same seeded, step-bounded models and the same SynthGeo data
# (issue 16: the staged pipeline must give the old pipeline's results). See README, "Same results from the
# redesigned pipeline".
#
#   eng/repro/pipeline_equivalence.sh DATA_DIR [OLD_COMMIT]
#
# 1. Builds the CLI of OLD_COMMIT (default 257bd27, the last commit before the staged pipeline) in a worktree
#    (OLD_TREE, default DATA_DIR/old-tree) and the CLI of this checkout, both in Release.
# 2. Generates SynthGeo as the README's table does (500,000 gallery rows, the 2,997 IM2GPS3K test locations).
# 3. Trains, seeded and step-bounded: the small model with the new CLI (its training seeds the initialisation;
#    257bd27's does not) on the first TRAIN_ROWS gallery rows, one epoch of BATCH (100 steps of 32 by default,
#    seed 1, training neighbors through a cluster index, other series only); the similarity model with the OLD
#    CLI (the new one writes an option, locationInput, that 257bd27 cannot read; the new CLI reads the old file),
#    3 epochs, seed 1; the reward head with the new CLI (1 epoch of 256 rows, its default seed 1).
# 4. Runs `geotoken eval` with every strategy of the README's table with both CLIs on the first QUERIES test rows
#    (each side on its own copy of the query folder, so each computes its own neighbor files) and compares the
#    outputs exactly with eng/repro/compare_eval.py (exit status 1 on any difference).
# libtorch runs single-threaded (OMP_NUM_THREADS=1) for every step: the same kernels on both sides, and much
# faster than two threads on a machine busy with other work.
set -euo pipefail
DATA=${1:?usage: pipeline_equivalence.sh DATA_DIR [OLD_COMMIT]}
OLD_COMMIT=${2:-257bd27}
TRAIN_ROWS=${TRAIN_ROWS:-3200}
BATCH=${BATCH:-32}
QUERIES=${QUERIES:-300}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
OLD_TREE=${OLD_TREE:-$DATA/old-tree}
export OMP_NUM_THREADS=1

[ -d "$OLD_TREE" ] || git -C "$ROOT" worktree add --detach "$OLD_TREE" "$OLD_COMMIT"
dotnet build "$OLD_TREE/src/GeoToken.Cli" -c Release -v q -nologo
dotnet build "$ROOT/src/GeoToken.Cli" -c Release -v q -nologo
OLD="dotnet $OLD_TREE/src/GeoToken.Cli/bin/Release/net10.0/GeoToken.Cli.dll"
NEW="dotnet $ROOT/src/GeoToken.Cli/bin/Release/net10.0/GeoToken.Cli.dll"
t() { local s; s=$(date +%s); "$@"; echo "TIME $(( $(date +%s) - s )) s: $*" >&2; }

# The first N rows of a dataset folder (features and meta.csv), its hashes recorded.
head_rows() {
  /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import numpy as np, os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst, exist_ok=True)
for f in ('image', 'loc', 'text', 'latlon'):
    np.save(f'{dst}/{f}.npy', np.ascontiguousarray(np.load(f'{src}/{f}.npy', mmap_mode='r')[:n]))
with open(f'{src}/meta.csv') as r, open(f'{dst}/meta.csv', 'w') as w:
    for i, line in enumerate(r):
        if i > n: break
        w.write(line)
PY
  $NEW dataset rehash "$2"
}

cd "$DATA"
[ -d S/train ] || t $OLD synth --out S --train 500000 --test 2997 --modalities 3
[ -d T ] || head_rows S/train T "$TRAIN_ROWS"
Q=q$QUERIES
[ -d "S/$Q" ] || head_rows S/test "S/$Q" "$QUERIES"
mkdir -p M
[ -f T.gtci ] || t $NEW index --gallery T --out T.gtci --clusters 25
[ -f M/small.gtm ] || t $NEW train --train T --out M/small.gtm --preset small --epochs 1 --batch "$BATCH" --seed 1 --index T.gtci --json M/train.json
[ -f M/sim.gts ] || t $OLD similarity --train T --out M/sim.gts --epochs 3 --seed 1
[ -f M/reward.gtr ] || t $NEW reward --model M/small.gtm --train T --out M/reward.gtr --rows 256 --index T.gtci

run() {
  local which=$1 cli=$2
  mkdir -p "S/$Q-$which" "E/$Q/$which"
  ln -f S/$Q/*.npy "S/$Q/meta.csv" "S/$Q/dataset.json" "S/$Q-$which/"
  t $cli eval --model M/small.gtm --gallery S/train --query "S/$Q-$which" --json "E/$Q/$which/eval.json" \
    --predictions "E/$Q/$which/test.csv" --calibration "E/$Q/$which/calibration.json" \
    --similarity M/sim.gts --gps-gallery geoclip --gps-index --reward M/reward.gtr > "E/$Q/$which/stdout.txt"
}
run old "$OLD" & old_pid=$!
run new "$NEW" & new_pid=$!
wait $old_pid
wait $new_pid
/usr/bin/python3 "$ROOT/eng/repro/compare_eval.py" "E/$Q/old" "E/$Q/new"
