"""The command line's help: grouped train options with the defaults `infogan train` really uses, on an
80-column terminal, and no slow import until a command needs it."""

import subprocess
import sys

import pytest

from infogan.cli import build_parser
from infogan.config import GROUPS

COMMANDS = ("train", "sample", "traverse", "interpolate", "encode", "classifier", "evaluate", "plot", "explore")
HEAVY = ("torch", "matplotlib", "scipy", "sklearn", "flask")


def help_text(monkeypatch, *command: str) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    parser = build_parser()
    for name in command:
        parser = parser._subparsers._group_actions[0].choices[name]
    return parser.format_help()


def test_train_help_groups_the_options_and_lists_the_presets(monkeypatch):
    text = help_text(monkeypatch, "train")
    positions = [text.index(f"\n{title}:\n") for title in GROUPS]
    assert positions == sorted(positions)
    beyond = text[text.index("\nbeyond the paper:\n") : text.index("\nrun folder and logging:\n")]
    assert "--real-cluster-weight" in beyond and "--cr-weight" in beyond and "--noise-scale" in beyond
    presets = " ".join(text[text.index("\npresets") :].split())
    assert "dsprites InfoGAN-CR's" in presets and "Sets --noise 100 --continuous 4." in presets


def test_train_help_shows_the_default_preset_values(monkeypatch):
    flat = " ".join(help_text(monkeypatch, "train").split())
    assert "(default: 1.0 from preset mnist; 0.0 without it)" in flat  # --real-cluster-weight
    assert "(default: 20.0 from preset mnist; 0.0 without it)" in flat  # --real-cluster-shear
    assert "--data DIR folder of the data set (default: its standard place) --split" in flat
    assert "(default: None)" not in flat


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_fits_80_columns_and_every_option_says_what_it_does(monkeypatch, command):
    text = help_text(monkeypatch, command)
    assert max(map(len, text.splitlines())) <= 80, command
    for action in build_parser()._subparsers._group_actions[0].choices[command]._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"


def test_evaluate_help_lists_the_registered_metrics(monkeypatch):
    from infogan.metrics import METRICS

    text = help_text(monkeypatch, "evaluate")
    assert all(f"\n  {name} " in text for name in METRICS)


def test_the_parser_and_help_import_no_heavy_module():
    """`infogan --help` and `infogan train --help` start in a fraction of a second: no torch, matplotlib,
    scipy, scikit-learn or flask (benchmarks/startup.py has the times)."""
    script = (
        "import sys\n"
        "from infogan.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['sample', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


def test_the_package_still_exports_its_api_lazily():
    import importlib

    import infogan

    importlib.import_module("infogan.train")  # importing the submodule must not hide the function

    assert callable(infogan.train) and infogan.train.__name__ == "train"
    assert sorted(infogan.__all__) == infogan.__all__ and set(infogan.__all__) <= set(dir(infogan))
    with pytest.raises(AttributeError):
        infogan.no_such_name  # noqa: B018
