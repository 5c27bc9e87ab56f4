"""The metrics of `infogan evaluate`: run the registered ones on a trained run and collect one report.

Each metric is one module here holding its maths (arrays in, numbers out) and the function that
registers it by name (registry.py) and computes it on a run; importing the modules below fills the
registry, so adding a metric is one module plus one import line. The classifiers that metrics read
images with sit beside them: domain_classifier.py (sample quality), dsprites_shape.py (disentanglement).
agreement.py is the maths `infogan select` ranks runs with.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

from infogan.errors import InfoGANError
from infogan.metrics import (  # noqa: F401 - register them
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
    """Every figure by name; each metric that could not run, with the reason; what data each used."""

    run: str
    step: int
    values: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


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
    report.notes, report.files = ctx.notes, [str(path) for path in ctx.files]
    return report


def format_report(report: Report) -> str:
    """The report as aligned text: figures, then what each metric used, then what was skipped and why."""
    lines = [f"run {report.run} at step {report.step}"]
    width = max((len(name) for name in report.values), default=0)
    lines += [f"  {name:<{width}}  {value:.4f}" for name, value in report.values.items()]
    lines += [f"  {name}: {note}" for name, note in report.notes.items()]
    lines += [f"  SKIPPED {name}: {reason}" for name, reason in report.skipped.items()]
    lines += [f"  wrote {path}" for path in report.files]
    return "\n".join(lines)


__all__ = ["METRICS", "EvalContext", "Report", "Skipped", "choose_metrics", "evaluate", "format_report"]
