"""The metrics of `infogan evaluate`: run the registered ones on a trained run and collect one report.

Each metric is one module here holding its maths (arrays in, numbers out) and the function that
registers it by name (registry.py) and computes it on a run; importing the modules below fills the
registry, so adding a metric is one module plus one import line. The classifiers that metrics read
images with sit beside them: domain_classifier.py (sample quality; on faces an attribute classifier, which
the metric attributes also reads), dsprites_shape.py (disentanglement).
agreement.py is the maths `infogan select` ranks runs with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from infogan.errors import InfoGANError
from infogan.metrics import (  # noqa: F401 - register them
    attributes,
    clustering,
    code_effects,
    disentanglement_eval,
    information,
    sample_quality,
)
from infogan.metrics.registry import METRICS, DoesNotApply, EvalContext, Skipped
from infogan.run_folder import Run

log = logging.getLogger(__name__)


@dataclass
class Report:
    """Every figure by name; each metric that could not run, with the reason; what data each used; why a
    metric's figures may not mean what they seem; which figures each metric gave."""

    run: str
    step: int
    values: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    caveats: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> Report | None:
        """The report in `path`, or None when there is none to build on (missing, unreadable, not a report)."""
        try:
            saved = json.loads(path.read_text())
            return cls(**{f.name: saved[f.name] for f in fields(cls) if f.name in saved})
        except (OSError, ValueError, TypeError, KeyError):
            return None


def merged(previous: Report, new: Report) -> Report:
    """`new` laid over `previous`, a report of the same run at the same step (else `new` alone): each
    metric computed or skipped now replaces what `previous` said of it, and the others stay, so that
    `evaluate --metrics X` adds to evaluation.json instead of dropping every other metric."""
    if Path(previous.run).resolve() != Path(new.run).resolve() or previous.step != new.step:
        return new
    redone = set(new.metrics) | set(new.skipped)
    dropped = {name for metric in redone for name in previous.metrics.get(metric, [])}

    def kept(by_metric: dict) -> dict:
        return {metric: value for metric, value in by_metric.items() if metric not in redone}

    return Report(
        new.run,
        new.step,
        {name: value for name, value in previous.values.items() if name not in dropped} | new.values,
        kept(previous.skipped) | new.skipped,
        kept(previous.notes) | new.notes,
        kept(previous.caveats) | new.caveats,
        kept(previous.metrics) | new.metrics,
        previous.files + [path for path in new.files if path not in previous.files],
    )


def choose_metrics(names: str | None) -> list[str]:
    """'a,b' -> ["a", "b"], checked against the registry; None -> every registered metric."""
    if names is None:
        return list(METRICS)
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in METRICS]
    if unknown or not chosen:
        raise InfoGANError(f"--metrics {names!r}: choose from {', '.join(METRICS)} (comma-separated)")
    return chosen


def evaluate(run: Run, metrics: list[str] | None = None, **context: object) -> Report:
    """Compute the chosen metrics (default: every one that applies to the run) on `run`; context options
    go to EvalContext."""
    ctx = EvalContext(run, **context)
    report = Report(str(run.directory), run.step)
    for name in metrics or list(METRICS):
        try:
            values = METRICS[name].compute(ctx)
        except Skipped as reason:
            if isinstance(reason, DoesNotApply) and not metrics:
                continue  # made for another kind of run, and not asked for
            log.warning("%s skipped: %s", name, reason)
            report.skipped[name] = str(reason)
            continue
        report.values.update(values)
        report.metrics[name] = list(values)
    report.notes, report.caveats, report.files = ctx.notes, ctx.caveats, [str(path) for path in ctx.files]
    return report


def format_report(report: Report) -> str:
    """The report as aligned text: each metric's figures with its caveat right below them, then what each
    metric used, then what was skipped and why."""
    lines = [f"run {report.run} at step {report.step}"]
    width = max((len(name) for name in report.values), default=0)
    grouped = {name for names in report.metrics.values() for name in names}
    groups = [[name for name in report.values if name not in grouped], *report.metrics.values()]
    for metric, names in zip([None, *report.metrics], groups, strict=True):
        lines += [f"  {name:<{width}}  {report.values[name]:.4f}" for name in names if name in report.values]
        if metric in report.caveats:
            lines.append(f"  CAUTION, {metric} above: {report.caveats[metric]}")
    lines += [f"  {name}: {note}" for name, note in report.notes.items()]
    lines += [f"  SKIPPED {name}: {reason}" for name, reason in report.skipped.items()]
    lines += [f"  wrote {path}" for path in report.files]
    return "\n".join(lines)


__all__ = ["METRICS", "EvalContext", "Report", "Skipped", "choose_metrics", "evaluate", "format_report", "merged"]
