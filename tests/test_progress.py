"""What training says as it goes off a terminal, and what a finished run says it made."""

import logging
import re

from infogan.cli import main


def test_off_a_terminal_training_logs_progress_lines_and_ends_with_what_it_made(mnist_dir, tmp_path, caplog):
    run = tmp_path / "run"
    with caplog.at_level(logging.INFO):  # under pytest stderr is no terminal: tqdm is silent
        main(["train", "--data", str(mnist_dir), "--out", str(run), "--batch-size", "16", "--steps", "6",
              "--log-every", "2", "--real-cluster-weight", "0"])  # fmt: skip
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("training 6 steps (0.6 epochs of mnist:train")
    progress = [m for m in messages if m.startswith("step ")]
    assert [m.split(":")[0] for m in progress] == ["step 2/6", "step 4/6", "step 6/6"]
    pattern = r"step 2/6: loss_d \d+\.\d{3}, loss_g \d+\.\d{3}; \d+ images/s, \d+:\d\d:\d\d left"
    assert re.fullmatch(pattern, progress[0]), progress[0]
    assert progress[-1].endswith("0:00:00 left")
    summary = messages[-6:]
    clustering = r"clustering ACC at step 6, as infogan evaluate scores it: cat0 \d\.\d{3} \(majority class: 1\.000\)"
    assert re.fullmatch(clustering, summary[0]), summary
    assert summary[1] == f"sample grid: {run / 'samples' / 'epoch-0000.png'}"
    assert summary[2:4] == [f"traversal:   {run / 'traversals' / f'epoch-0000-cont{k}.png'}" for k in (0, 1)]
    assert summary[4].startswith(f"next: infogan evaluate {run} ") and summary[5].startswith(
        f"      infogan explore {run} "
    )
