#!/usr/bin/env bash
# Compiles `monitor` into one binary: the only compile command of the project. `deno task compile`
# runs it, and so do .ci/run, the release workflow and the Dockerfile, so that CI compiles exactly
# what a release ships (a dependency that breaks `deno compile` fails CI the day it is added).
#
#   deno task compile [--target TARGET] [--output PATH]
#
# PATH defaults to dist/monitor (for a Windows target, deno compile adds .exe); TARGET to this
# machine's platform. Other flags are refused: the command is the same everywhere.
set -euo pipefail

output=dist/monitor
target=""
while (($# > 0)); do
  case $1 in
    --target | --output)
      if (($# < 2)); then
        echo "Missing value: $1 needs one" >&2
        exit 2
      fi
      if [[ $1 == --target ]]; then target=$2; else output=$2; fi
      shift 2
      ;;
    *)
      echo "Unknown argument \"$1\": deno task compile takes --target TARGET and --output PATH" >&2
      exit 2
      ;;
  esac
done

# Not `"${array[@]}"`: macOS's bash 3.2 treats an empty array as unset under `set -u`.
exec deno compile --frozen --allow-all ${target:+--target "$target"} --output "$output" mod.ts
