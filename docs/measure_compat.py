"""Measure how much of InjectQ 0.5.0's own documentation and examples runs under injectq.

Every ```python block of 0.5.0's docs (the blocks of one page run in order, in one
namespace, as a reader would paste them) and every script of its examples/ folder is run
under this checkout's injectq, and, with ``--reference``, under an interpreter that has
InjectQ 0.5.0 installed (a scratch virtual environment: never the project's own). The
report counts what runs under each and lists what runs under 0.5.0 but not here.

    python3 -m venv /tmp/v050 && /tmp/v050/bin/pip install injectq==0.5.0 fastapi httpx taskiq
    python3 docs/measure_compat.py --reference /tmp/v050/bin/python
    python3 docs/measure_compat.py --source DIR   # an unpacked 0.5.0 sdist already there

Without ``--source`` the sdist is fetched with ``pip download`` into a temporary folder.
Nothing of 0.5.0 is copied into this repository: it is read where it was downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)
TIMEOUT = 30  # seconds for one page or one example script

# runs one page's blocks in order in one namespace; prints one JSON status per block
_RUNNER = r'''
import json, signal, sys, traceback
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
ns = {"__name__": "__main__"}
def alarm(signum, frame):
    raise TimeoutError("block ran over 10 s")
signal.signal(signal.SIGALRM, alarm)
out = []
for source in blocks:
    signal.alarm(10)
    try:
        exec(compile(source, "<block>", "exec"), ns)
        out.append(["ok", ""])
    except BaseException as exc:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        out.append(["fail", last[:200]])
    finally:
        signal.alarm(0)
print("\n" + json.dumps(out))
'''


def fetch_source(scratch: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "injectq==0.5.0", "--no-binary", ":all:",
         "--no-deps", "-q", "-d", str(scratch)],
        check=True,
    )
    archive = next(scratch.glob("injectq-0.5.0.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(scratch, filter="data")
    return scratch / "injectq-0.5.0"


def pages(source: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in sorted((source / "docs").rglob("*.md")):
        blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
        if blocks:
            found[str(page.relative_to(source))] = blocks
    return found


def examples(source: Path) -> list[Path]:
    return sorted(p for p in (source / "examples").glob("*.py") if p.name != "__init__.py")


def _env(python: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    if Path(python).resolve() == Path(sys.executable).resolve():
        env["PYTHONPATH"] = str(ROOT)  # this checkout's injectq
    return env


def run_page(python: str, blocks: list[str], work: Path) -> list[tuple[str, str]]:
    spec = work / "blocks.json"
    spec.write_text(json.dumps(blocks), encoding="utf-8")
    runner = work / "runner.py"
    runner.write_text(_RUNNER, encoding="utf-8")
    try:
        proc = subprocess.run(
            [python, str(runner), str(spec)], cwd=work, capture_output=True, text=True,
            timeout=TIMEOUT, env=_env(python), check=False,
        )
        last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        return [(s, m) for s, m in json.loads(last)] if last.startswith("[") else [
            ("fail", f"the page's process ended: {proc.stderr.strip()[-200:]}")
        ] * len(blocks)
    except subprocess.TimeoutExpired:
        return [("fail", f"the page ran over {TIMEOUT} s")] * len(blocks)


def run_example(python: str, script: Path, work: Path) -> tuple[str, str]:
    try:
        proc = subprocess.run(
            [python, str(script)], cwd=script.parent, capture_output=True, text=True,
            timeout=TIMEOUT, env=_env(python), check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return "fail", f"ran over {TIMEOUT} s"
    if proc.returncode == 0:
        return "ok", ""
    tail = proc.stderr.strip().splitlines()
    return "fail", (tail[-1] if tail else f"exit {proc.returncode}")[:200]


def measure(python: str, source: Path) -> dict[str, tuple[str, str]]:
    results: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for page, blocks in pages(source).items():
            work = Path(tmp) / re.sub(r"\W", "_", page)
            work.mkdir()
            for i, status in enumerate(run_page(python, blocks, work)):
                results[f"{page} block {i + 1}"] = status
        for script in examples(source):
            results[f"examples/{script.name}"] = run_example(python, script, Path(tmp))
    return results


def _share(ok: int, total: int) -> str:
    return f"{ok}/{total} ({100 * ok / total:.0f}%)" if total else "0/0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="an unpacked injectq 0.5.0 sdist")
    parser.add_argument("--reference", help="a python that has InjectQ 0.5.0 installed")
    parser.add_argument("--json", type=Path, help="also write every result to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = args.source or fetch_source(Path(scratch))
        ours = measure(sys.executable, source)
        ref = measure(args.reference, source) if args.reference else None
    print(f"injectq (this checkout): {_share(sum(s == 'ok' for s, _ in ours.values()), len(ours))}"
          " of 0.5.0's doc blocks and example scripts run")
    if ref is not None:
        runs = [k for k, (s, _) in ref.items() if s == "ok"]
        both = [k for k in runs if ours[k][0] == "ok"]
        print(f"InjectQ 0.5.0: {_share(len(runs), len(ref))} run")
        print(f"of what runs under 0.5.0, injectq runs {_share(len(both), len(runs))}")
        missing = [k for k in runs if ours[k][0] != "ok"]
        reasons = Counter(ours[k][1] for k in missing)
        print("\nruns under 0.5.0, not here (most common reasons first):")
        for reason, n in reasons.most_common():
            print(f"  {n:3d}  {reason}")
            for k in missing:
                if ours[k][1] == reason:
                    print(f"         {k}")
    if args.json:
        args.json.write_text(json.dumps({"ours": ours, "reference": ref}, indent=1),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
