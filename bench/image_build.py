#!/usr/bin/env python
"""Image build benchmark: the wp_image role against a Dockerfile (and Packer) building the same image.

Not part of the test suite. One invocation, same base image for every build:

1. ours: ansible-playbook applying autostack.wordpress.wp_image (no push, forced rebuild);
2. docker build --no-cache of a Dockerfile rendered from the role itself (bench/dockerfile/);
3. packer 1.6 (JSON template, docker builder, ansible provisioner running the role's configure tasks),
   unless --skip-packer or packer is missing;
4. ours again with unchanged inputs (no force): the skip path.

Prints a table with wall times, image sizes, ratios to the Dockerfile build and the targets
(ours <= 1.2x the Dockerfile's time, size <= 1.0x, unchanged rebuild <= 5 s). Every image and
container it makes carries a per-run name prefix and is removed at the end unless --keep-images.

    .venv/bin/python bench/image_build.py [--runs N] [--skip-packer] [--keep-images] [--json PATH]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
VENV_BIN = REPO / ".venv" / "bin"
ANSIBLE_PLAYBOOK = VENV_BIN / "ansible-playbook"
PACKER = shutil.which("packer") or "/usr/bin/packer"

TARGET_TIME_RATIO = 1.2
TARGET_SIZE_RATIO = 1.0
TARGET_REBUILD_S = 5.0
MB = 1_000_000  # docker's MB


class BenchError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], *, timeout: float, env: dict | None = None, cwd: Path = REPO,
        check: bool = True, log_path: Path | None = None) -> tuple[int, str, float]:
    """Run argv in its own process group; kill the whole group on timeout. Returns rc, output, seconds."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        out, _err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # ansible and packer fork workers: the group goes, not just the leader.
        os.killpg(proc.pid, signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - start
        if log_path:
            log_path.write_text(out or "")
        raise BenchError(f"{argv[0]} timed out after {timeout:.0f}s (log: {log_path})")
    elapsed = time.monotonic() - start
    if log_path:
        log_path.write_text(out or "")
    if check and proc.returncode != 0:
        tail = "\n".join((out or "").splitlines()[-40:])
        raise BenchError(f"{' '.join(argv[:3])} ... failed with rc {proc.returncode} after {elapsed:.0f}s "
                         f"(log: {log_path}):\n{tail}")
    return proc.returncode, out or "", elapsed


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    return run(["docker", *args], timeout=timeout, check=check)[1]


def image_info(ref: str) -> dict:
    data = json.loads(docker("image", "inspect", ref))[0]
    return {"id": data["Id"], "size": data["Size"], "layers": len(data["RootFS"]["Layers"])}


def images_of(repository: str) -> list[str]:
    out = docker("images", "--no-trunc", "--filter", f"reference={repository}", "--format", "{{.ID}}")
    return sorted(set(out.split()))


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tag = f"{args.prefix}-{secrets.token_hex(3)}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.tag}-"))
        self.repo_ours = f"{self.tag}/wordpress"
        self.repo_dockerfile = f"{self.tag}/dockerfile"
        self.repo_packer = f"{self.tag}/packer"
        self.packer_container = f"{self.tag}-packer"
        self.ours_container = f"{self.tag}-wp-build"
        self.created_images: set[str] = set()
        self.env = dict(os.environ)
        self.env.update({
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
        })
        self.ours_playbook = self.tmp / "ours.yml"
        self.inventory = self.tmp / "inventory.yml"

    # --- inputs ---

    def prepare(self) -> None:
        base = self.args.base_image
        try:
            self.base = image_info(base)
        except BenchError as exc:
            raise BenchError(f"base image {base} is not on the Docker engine: {exc}") from exc
        self.inventory.write_text(
            "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
            "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n")
        self.ours_playbook.write_text(f"""---
- name: Bench build with autostack.wordpress.wp_image
  hosts: localhost
  gather_facts: false
  vars:
    autostack_stack_name: {self.tag}
    autostack_outputs_dir: {self.tmp}/outputs
  roles:
    - role: autostack.wordpress.wp_image
      wp_image_push: false
      wp_image_base_image: {base}
      wp_image_repository: {self.repo_ours}
      wp_image_build_container: {self.ours_container}
      wp_image_revision: bench
      wp_image_force_rebuild: "{{{{ bench_force | default(false) | bool }}}}"
""")
        (self.tmp / "outputs").mkdir()
        self.context = self.tmp / "context"
        self.context.mkdir()
        log(f"rendering the Dockerfile context from the role into {self.context}")
        run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(BENCH / "dockerfile" / "render.yml"),
             "-e", f"bench_context_dir={self.context}", "-e", f"bench_base_image={base}"],
            env=self.env, timeout=180, log_path=self.tmp / "render.log")

    # --- builds ---

    def build_ours(self, force: bool) -> float:
        before = set(images_of(self.repo_ours))
        _rc, out, secs = run([str(ANSIBLE_PLAYBOOK), "-i", str(self.inventory), str(self.ours_playbook),
                              "-e", f"bench_force={'true' if force else 'false'}"],
                             env=self.env, timeout=self.args.timeout,
                             log_path=self.tmp / f"ours-{'force' if force else 'rebuild'}-{time.time_ns()}.log")
        ids = images_of(self.repo_ours)
        self.created_images.update(ids)
        if not ids:
            raise BenchError(f"the playbook succeeded but no image {self.repo_ours} exists")
        if not force and set(ids) != before:
            raise BenchError("the unchanged rebuild made a new image: the skip path did not work")
        if not force and "Not building" not in out:
            raise BenchError("the unchanged rebuild did not report 'Not building'")
        self.ours_ref = f"{self.repo_ours}:{self._tag_of(self.repo_ours)}"
        return secs

    def _tag_of(self, repository: str) -> str:
        out = docker("images", "--filter", f"reference={repository}", "--format", "{{.Tag}}")
        tags = [t for t in out.split() if t != "<none>"]
        if not tags:
            raise BenchError(f"no tagged image {repository}")
        return tags[0]

    def build_dockerfile(self, run_no: int) -> float:
        ref = f"{self.repo_dockerfile}:run{run_no}"
        # The classic builder: Docker 20.10's default, and BuildKit's frontend image could not be
        # pulled here anyway.
        env = dict(self.env, DOCKER_BUILDKIT="0")
        _rc, _out, secs = run(["docker", "build", "--no-cache", "--force-rm", "--pull=false", "-t", ref,
                               str(self.context)], env=env, timeout=self.args.timeout,
                              log_path=self.tmp / f"dockerfile-{run_no}.log")
        self.created_images.add(image_info(ref)["id"])
        self.dockerfile_ref = ref
        return secs

    def packer_available(self) -> str | None:
        if self.args.skip_packer:
            return "skipped (--skip-packer)"
        try:
            rc, out, _secs = run([PACKER, "version"], timeout=30, check=False,
                                 env=dict(self.env, CHECKPOINT_DISABLE="1"))
        except (OSError, BenchError) as exc:
            return f"packer does not run: {exc}"
        return None if rc == 0 else f"packer version failed: {out.strip()}"

    def build_packer(self, run_no: int) -> float:
        runtime = json.loads((self.context / "runtime.json").read_text())
        packer_tmp = self.tmp / "packer"
        packer_tmp.mkdir(exist_ok=True)
        env = dict(self.env, CHECKPOINT_DISABLE="1", PACKER_TMP_DIR=str(packer_tmp),
                   PACKER_CONFIG_DIR=str(packer_tmp), PACKER_CACHE_DIR=str(packer_tmp / "cache"),
                   ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
        tag = f"run{run_no}"
        argv = [PACKER, "build", "-color=false", "-force",
                "-var", f"base_image={self.args.base_image}",
                "-var", f"container_name={self.packer_container}",
                "-var", f"repository={self.repo_packer}",
                "-var", f"tag={tag}",
                "-var", f"playbook={BENCH / 'packer' / 'configure.yml'}",
                "-var", f"ansible_playbook={ANSIBLE_PLAYBOOK}",
                "-var", f"cleanup_script={(self.context / 'cleanup.sh').read_text().strip()}",
                "-var", f"port={runtime['port']}", "-var", f"user={runtime['user']}",
                "-var", f"docroot={runtime['docroot']}",
                str(BENCH / "packer" / "template.json")]
        try:
            _rc, _out, secs = run(argv, env=env, timeout=self.args.timeout,
                                  log_path=self.tmp / f"packer-{run_no}.log")
        finally:
            docker("rm", "-f", self.packer_container, check=False)
            # packer commits an untagged image before tagging it; keep track either way.
            self.created_images.update(images_of(self.repo_packer))
        self.packer_ref = f"{self.repo_packer}:{tag}"
        self.created_images.add(image_info(self.packer_ref)["id"])
        return secs

    # --- cleanup ---

    def cleanup(self) -> None:
        for name in (self.ours_container, self.packer_container):
            docker("rm", "-f", name, check=False)
        refs = set()
        for repo in (self.repo_ours, self.repo_dockerfile, self.repo_packer, f"{self.repo_ours}-failed"):
            out = docker("images", "--filter", f"reference={repo}", "--format", "{{.Repository}}:{{.Tag}}",
                         check=False)
            refs.update(r for r in out.split() if not r.endswith(":<none>"))
        if refs:
            docker("rmi", "-f", *sorted(refs), check=False, timeout=300)
        # Untagged leftovers of forced rebuilds: only ids this run recorded.
        leftover = [i for i in self.created_images
                    if docker("image", "inspect", "--format", "{{.Id}}", i, check=False).strip()]
        if leftover:
            docker("rmi", "-f", *leftover, check=False, timeout=300)


def ratio(value: float | None, ref: float | None) -> str:
    return f"{value / ref:.2f}x" if value is not None and ref else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=1, help="builds of each kind; the median is reported")
    parser.add_argument("--skip-packer", action="store_true", help="leave the packer build out")
    parser.add_argument("--keep-images", action="store_true", help="keep the bench images (printed at the end)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--base-image", default="debian:bookworm-slim", help="base image of every build")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds each build may take")
    parser.add_argument("--prefix", default="autostack-bench", help="name prefix of bench images and containers")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if not ANSIBLE_PLAYBOOK.exists():
        parser.error(f"{ANSIBLE_PLAYBOOK} is missing: run `make setup` first")

    bench = Bench(args)
    load_before = os.getloadavg()
    results: dict = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "runs": args.runs,
                     "base_image": args.base_image, "cpus": os.cpu_count(),
                     "loadavg_before": [round(x, 2) for x in load_before], "builds": {}}
    times: dict[str, list[float]] = {"ours": [], "dockerfile": [], "packer": [], "rebuild": []}
    packer_why = None
    try:
        bench.prepare()
        results["base_size_mb"] = round(bench.base["size"] / MB, 1)
        packer_why = bench.packer_available()
        for n in range(1, args.runs + 1):
            log(f"run {n}/{args.runs}: ours (wp_image role, forced)")
            times["ours"].append(bench.build_ours(force=True))
            log(f"  ours: {times['ours'][-1]:.1f}s")
            log(f"run {n}/{args.runs}: docker build --no-cache")
            times["dockerfile"].append(bench.build_dockerfile(n))
            log(f"  dockerfile: {times['dockerfile'][-1]:.1f}s")
            if packer_why is None:
                log(f"run {n}/{args.runs}: packer")
                try:
                    times["packer"].append(bench.build_packer(n))
                    log(f"  packer: {times['packer'][-1]:.1f}s")
                except BenchError as exc:
                    log(f"packer build failed: {exc}")
                    packer_why = f"packer build failed: {str(exc).splitlines()[0]}"
            log(f"run {n}/{args.runs}: ours again, unchanged inputs")
            times["rebuild"].append(bench.build_ours(force=False))
            log(f"  rebuild: {times['rebuild'][-1]:.1f}s")

        sizes = {"ours": image_info(bench.ours_ref), "dockerfile": image_info(bench.dockerfile_ref)}
        if times["packer"]:
            sizes["packer"] = image_info(bench.packer_ref)
        med = {k: statistics.median(v) for k, v in times.items() if v}
        ref_t, ref_s = med["dockerfile"], sizes["dockerfile"]["size"]
        for name in ("ours", "dockerfile", "packer", "rebuild"):
            if name not in med:
                continue
            size = sizes.get(name if name != "rebuild" else "ours")
            results["builds"][name] = {
                "wall_s": round(med[name], 1), "all_s": [round(t, 1) for t in times[name]],
                "size_mb": round(size["size"] / MB, 1) if size and name != "rebuild" else None,
                "added_mb": round((size["size"] - bench.base["size"]) / MB, 1) if size and name != "rebuild" else None,
                "layers": size["layers"] if size and name != "rebuild" else None,
            }
        results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        targets = [
            (f"ours time <= {TARGET_TIME_RATIO}x Dockerfile", med["ours"] / ref_t, med["ours"] / ref_t <= TARGET_TIME_RATIO),
            (f"ours size <= {TARGET_SIZE_RATIO}x Dockerfile", sizes["ours"]["size"] / ref_s,
             sizes["ours"]["size"] / ref_s <= TARGET_SIZE_RATIO),
            (f"unchanged rebuild <= {TARGET_REBUILD_S:.0f} s", med["rebuild"], med["rebuild"] <= TARGET_REBUILD_S),
        ]
        results["targets"] = [{"target": t, "value": round(v, 3), "met": m} for t, v, m in targets]
        results["packer"] = "ran" if times["packer"] else packer_why

        print(f"\nImage build bench, {results['date']}, base {args.base_image} "
              f"({results['base_size_mb']} MB), median of {args.runs} run(s), {os.cpu_count()} CPUs")
        print("load average (1/5/15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
            *load_before, *results["loadavg_after"]))
        print(f"\n{'build':<34}{'wall s':>8}{'size MB':>9}{'added MB':>10}{'layers':>8}{'time/df':>9}{'size/df':>9}")
        labels = {"ours": "ours (wp_image role, forced)", "dockerfile": "docker build --no-cache",
                  "packer": "packer 1.6 + ansible provisioner", "rebuild": "ours, unchanged inputs"}
        for name, row in results["builds"].items():
            size_mb = f"{row['size_mb']:.1f}" if row["size_mb"] is not None else "-"
            added = f"{row['added_mb']:.1f}" if row["added_mb"] is not None else "-"
            layers = str(row["layers"]) if row["layers"] is not None else "-"
            s_ratio = ratio(row["size_mb"], ref_s / MB) if row["size_mb"] is not None else "-"
            print(f"{labels[name]:<34}{row['wall_s']:>8.1f}{size_mb:>9}{added:>10}{layers:>8}"
                  f"{ratio(row['wall_s'], ref_t):>9}{s_ratio:>9}")
        if not times["packer"]:
            print(f"{labels['packer']:<34}  not run: {packer_why}")
        print("\ntargets:")
        for text, value, met in targets:
            shown = f"{value:.2f}x" if "x Dockerfile" in text else f"{value:.1f} s"
            print(f"  {text:<34}{shown:>8}  {'met' if met else 'NOT MET'}")
        print(f"\nlogs: {bench.tmp}")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
            print(f"results: {args.json}")
        return 0
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep_images:
            print(f"kept images: {bench.repo_ours}, {bench.repo_dockerfile}, {bench.repo_packer}", file=sys.stderr)
        else:
            try:
                bench.cleanup()
            except BenchError as exc:
                print(f"cleanup incomplete: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
