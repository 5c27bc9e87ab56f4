"""Train one config over several seeds side by side: `infogan sweep`.

InfoGAN's partition depends on the seed (on Fashion-MNIST about one seed in six finds the good one),
so the useful unit of work is several seeds, then a label-free choice among them (selection.py).
Each seed trains in its own process (torch threads = cores / jobs) into ROOT/seed-K, with its output in
ROOT/seed-K.log; ROOT/sweep.json records the config and every run's state. Running the same sweep
again skips finished runs and resumes interrupted ones from their checkpoint (train's exact resume);
a sweep's options are fixed by its first run, so other options need another ROOT. ROOT/.lock keeps a
second sweep out while one runs. SIGINT or SIGTERM stops every job after its current step, each with
a checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from infogan.config import MAX_SEEDS, SEED_LIMIT, TrainConfig, flag
from infogan.errors import InfoGANError, TrainingInterrupted
from infogan.files import parse_json, write_json
from infogan.interrupt import StopRequests
from infogan.lock import locked_folder

log = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
PER_RUN = ("seed", "out")  # the options that differ between a sweep's runs
POLL_SECONDS = 1.0
BAR = "{l_bar}{bar}| {n:.2f}/{total} runs [{elapsed}<{remaining}]"


@dataclass
class Job:
    """One seed of the sweep: where it trains and how it ended."""

    seed: int
    state: str = "pending"  # pending, running, done, failed, interrupted
    exit_code: int | None = None
    seconds: float | None = None
    message: str = ""
    started: float = field(default=0.0, repr=False)


def seed_folder(root: Path, seed: int) -> Path:
    return root / f"seed-{seed}"


def seed_config(config: TrainConfig, root: Path, seed: int) -> TrainConfig:
    """The sweep's config for one seed: the same options, this seed, its own folder."""
    return dataclasses.replace(config, seed=seed, out=str(seed_folder(root, seed)))


def finished(run: Path, config: TrainConfig) -> bool:
    """Whether the run in `run` trained to the budget of `config` (its summary.json says how far it went)."""
    summary = run / "summary.json"
    if not summary.is_file():
        return False
    try:
        done = parse_json(summary.read_text())
    except (OSError, ValueError):
        return False
    if config.steps:
        return done.get("steps", 0) >= config.steps
    return done.get("epochs", 0) >= config.epochs - 1e-9


def how_to_start(run: Path, config: TrainConfig) -> str:
    """How a seed's job starts: new (no run yet), resume (this seed's run with a checkpoint) or restart
    (stopped before its first checkpoint). A run trained with other options is refused."""
    if run.exists() and not run.is_dir():
        raise InfoGANError(f"{run} is a file, where the sweep puts a run: move it away, or pass another --out")
    saved = run / "config.json"
    if not saved.is_file():
        return "new"
    check_same_options(TrainConfig.load(saved), config, f"{run} was trained with")
    return "resume" if (run / "checkpoints" / "latest.pt").is_file() else "restart"


def check_same_options(saved: TrainConfig, config: TrainConfig, source: str) -> None:
    """A sweep's runs share every option but PER_RUN: a sweep run again with other options would count runs
    trained otherwise as its own, and its sweep.json would claim options they never used."""
    for name in (f.name for f in dataclasses.fields(TrainConfig) if f.name not in PER_RUN):
        if getattr(saved, name) != getattr(config, name):
            raise InfoGANError(
                f"{source} {flag(name)} {getattr(saved, name)!r}, not {getattr(config, name)!r}: a sweep's runs "
                "share their options, so run it again with the same ones, or pass another --out"
            )


def recorded_options(root: Path) -> TrainConfig | None:
    """The options an earlier sweep into `root` recorded in its sweep.json; None without a readable one."""
    try:
        return TrainConfig.from_dict(parse_json((root / SWEEP_FILE).read_text())["config"])
    except (OSError, ValueError, KeyError, TypeError, InfoGANError):
        return None


def seed_list(values: list[int]) -> list[int]:
    """--seeds as given: one N means seeds 0..N-1, several are those seeds (checked by check_seeds)."""
    if len(values) != 1:
        return values
    if not 1 <= values[0] <= MAX_SEEDS:
        raise InfoGANError(f"--seeds N runs seeds 0..N-1, with N from 1 to {MAX_SEEDS} (got {values[0]})")
    return list(range(values[0]))


def check_seeds(seeds: list[int]) -> None:
    """Every seed, before the first job starts: 1 to MAX_SEEDS of them, distinct, each one a valid --seed."""
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise InfoGANError(f"--seeds names {len(seeds)} seeds: a sweep runs 1 to {MAX_SEEDS}")
    if len(set(seeds)) != len(seeds):
        raise InfoGANError(f"--seeds must name distinct seeds (got {seeds})")
    outside = [seed for seed in seeds if not 0 <= seed < SEED_LIMIT]
    if outside:
        raise InfoGANError(f"--seeds {outside[0]}: every seed must lie in 0..{SEED_LIMIT - 1}")


def sweep(config: TrainConfig, seeds: list[int], jobs: int = 1, root: str | Path | None = None) -> dict[int, Job]:
    """Train `config` once per seed into ROOT/seed-K (ROOT: `root`, else config.out), `jobs` at a time.

    Every seed, the runs already there and ROOT's lock are checked before the first job starts.
    Returns the jobs by seed. Raises TrainingInterrupted after a signal (every running job saved a
    checkpoint; the same call resumes them) and InfoGANError when a run failed (its log names why).
    """
    config.validate()
    check_seeds(seeds)
    if jobs < 1:
        raise InfoGANError(f"--jobs must be at least 1 (got {jobs})")
    root = Path(root or config.out)
    if (root / "config.json").is_file():
        raise InfoGANError(f"--out {root} holds a run (its config.json): pass another --out for the sweep's runs")
    with locked_folder(root):
        starts = {seed: how_to_start(seed_folder(root, seed), seed_config(config, root, seed)) for seed in seeds}
        previous = recorded_options(root)  # the record of seeds not run yet, or of runs since deleted
        if previous is not None:
            check_same_options(previous, config, f"{root / SWEEP_FILE} records")
        return run_jobs(config, seeds, jobs, root, starts)


def run_jobs(config: TrainConfig, seeds: list[int], jobs: int, root: Path, starts: dict[int, str]) -> dict[int, Job]:
    """The sweep's loop: start jobs as places free up, record their ends in sweep.json, forward a stop."""
    threads = max(1, cpu_count() // jobs)
    state = {seed: Job(seed) for seed in seeds}
    for seed in seeds:
        if finished(seed_folder(root, seed), seed_config(config, root, seed)):
            state[seed].state, state[seed].message = "done", "finished earlier"
    write_record(root, config, seeds, jobs, threads, state)
    log.info("sweep of %d seed(s) into %s: %d job(s) at a time, %d thread(s) each", len(seeds), root, jobs, threads)

    context = multiprocessing.get_context("spawn")  # a fresh interpreter per job: no forked torch state
    running: dict[int, multiprocessing.process.BaseProcess] = {}
    queue = [seed for seed in seeds if state[seed].state == "pending"]
    bar = tqdm(total=len(seeds), desc="sweep", unit="run", bar_format=BAR, dynamic_ncols=True, disable=None)
    with StopRequests() as signals, bar:
        forwarded = False
        while running or (queue and signals.requested is None):  # after a stop: until the jobs end
            while queue and len(running) < jobs and signals.requested is None:
                seed = queue.pop(0)
                run_config = seed_config(config, root, seed)
                process = context.Process(
                    target=train_one,
                    args=(run_config.to_dict(), starts[seed], threads, str(root / f"seed-{seed}.log")),
                    name=f"infogan-seed-{seed}",
                )
                process.start()
                running[seed] = process
                state[seed].state, state[seed].started = "running", time.time()
                log.info("seed %d: %s, output in %s", seed, starts[seed], root / f"seed-{seed}.log")
                write_record(root, config, seeds, jobs, threads, state)
            if signals.requested is not None and not forwarded:  # a Ctrl-C reached the jobs too; a kill did not
                for process in running.values():
                    with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
                        os.kill(process.pid, signals.number)
                forwarded = True
            time.sleep(POLL_SECONDS)
            for seed, process in list(running.items()):
                if process.exitcode is None:
                    continue
                process.join()
                del running[seed]
                end(state[seed], process.exitcode, root / f"seed-{seed}.log")
                log.info("seed %d: %s %s", seed, state[seed].state, state[seed].message)
                write_record(root, config, seeds, jobs, threads, state)
            bar.n = sum(job.state == "done" for job in state.values())
            bar.n += sum(progress(seed_folder(root, seed), config) for seed in running)
            bar.refresh()
    if signals.requested is not None:
        raise TrainingInterrupted(
            f"sweep stopped by {signals.requested}; every running job saved a checkpoint: run the same command "
            "again to resume",
            signals.number,
        )
    failed = [job for job in state.values() if job.state != "done"]
    if failed:
        names = ", ".join(f"seed {job.seed} ({job.message})" for job in failed)
        raise InfoGANError(f"{len(failed)} of {len(seeds)} run(s) failed: {names}; see {root}/seed-K.log")
    return state


def progress(run: Path, config: TrainConfig) -> float:
    """The share of the run's budget done, from the last step record of its metrics.jsonl (0 before the first)."""
    try:
        with open(run / "metrics.jsonl", "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 8192))
            tail = handle.read().decode(errors="replace")
    except OSError:
        return 0.0
    for line in reversed(tail.splitlines()):
        try:
            record = parse_json(line)
        except ValueError:  # the first line of the tail is cut, the last may be half written
            continue
        if record.get("event") == "step":
            return min(1.0, record["step"] / config.steps if config.steps else record["epoch"] / config.epochs)
    return 0.0


def end(job: Job, exit_code: int, log_file: Path) -> None:
    """Record how a job's process ended: 0 done, 128 + a signal interrupted, else failed with its last error line."""
    job.exit_code, job.seconds = exit_code, time.time() - job.started
    if exit_code == 0:
        job.state, job.message = "done", f"in {job.seconds:.0f} s"
    elif exit_code > 128 or exit_code < 0:  # stopped by a signal, after a checkpoint (or killed before one)
        job.state, job.message = "interrupted", "resumes on the next run of the sweep"
    else:
        job.state, job.message = "failed", last_error(log_file)


def last_error(log_file: Path) -> str:
    """The last `infogan: error:` line of a job's log, or its last line."""
    try:
        lines = [line for line in log_file.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return f"no log at {log_file}"
    errors = [line for line in lines if line.startswith("infogan: error:")]
    return (errors or lines or ["no output"])[-1].removeprefix("infogan: error: ")


def write_record(
    root: Path, config: TrainConfig, seeds: list[int], jobs: int, threads: int, state: dict[int, Job]
) -> None:
    """ROOT/sweep.json: the command, the shared config, and each run's state, rewritten atomically."""
    record = {
        "command": sys.argv,
        "config": {key: value for key, value in config.to_dict().items() if key not in ("seed", "out")},
        "seeds": seeds,
        "jobs": jobs,
        "threads_per_job": threads,
        "runs": {
            str(seed_folder(root, seed)): {k: v for k, v in dataclasses.asdict(job).items() if k != "started"}
            for seed, job in state.items()
        },
    }
    write_json(root / SWEEP_FILE, record)


def cpu_count() -> int:
    """Cores this process may run on (a scheduler's CPU set, not the whole machine)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def train_one(config: dict, start: str, threads: int, log_file: str) -> None:
    """One job, in its own process: output to its log, `threads` torch threads, train; exit as `infogan train` does."""
    with open(log_file, "a", buffering=1) as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout, kept open
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True)
    import torch

    from infogan.train import train

    torch.set_num_threads(threads)
    try:
        train(TrainConfig.from_dict(config), resume=start == "resume", overwrite=start == "restart")
    except InfoGANError as error:
        print(f"infogan: error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    except TrainingInterrupted as stopped:
        print(f"infogan: {stopped}", file=sys.stderr, flush=True)
        sys.exit(128 + stopped.signal_number)
    except KeyboardInterrupt:  # before training started: nothing to save
        sys.exit(128 + signal.SIGINT)
