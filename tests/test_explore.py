"""infogan explore: the JSON API through Flask's test client, `infogan sample --cat/--cont` as its
command-line twin, the server's safety rails, and one end-to-end run in headless Chromium."""

import base64
import io
import json
import shlex
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from conftest import png_header
from PIL import Image

from infogan.cli import main
from infogan.explore import create_app, make_server
from infogan.explore.app import hosts_to_trust
from infogan.explore.upload import MAX_UPLOAD_BYTES
from infogan.generate import encode
from infogan.run_folder import load_run

LATENT = {"seed": 7, "categorical": [3], "continuous": [0.5, -1.25]}


@pytest.fixture(scope="module")
def run_dir(module_tmp, mnist_dir):
    out = module_tmp("explore") / "run"
    main(["train", "--data", str(mnist_dir), "--out", str(out), "--steps", "6", "--batch-size", "16"])
    return out


@pytest.fixture(scope="module")
def run(run_dir):
    return load_run(run_dir, "cpu")


@pytest.fixture(scope="module")
def client(run):
    return create_app(run, trusted_hosts=["127.0.0.1", "localhost"]).test_client()


def png(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)), dtype=np.int16)


def upload(client, data: bytes, name: str = "digit.png", **form):
    return client.post("/api/encode", data={"image": (io.BytesIO(data), name), **form})


def test_page_and_model_info(client, run_dir, mnist_dir):
    page = client.get("/")
    assert page.status_code == 200 and b"/static/explore.js" in page.data
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/static/explore.js").status_code == 200
    info = client.get("/api/model").json
    assert info["run"] == str(run_dir.resolve()) and info["step"] == 6
    assert (info["dataset"], info["data"], info["image_size"], info["channels"]) == ("mnist", str(mnist_dir), 28, 1)
    assert info["categorical"] == [10] and info["continuous"] == 2 and info["noise"] == 62
    assert info["code_names"] == ["cat0", "cont0", "cont1"] and info["invert"] is True  # a grey model
    assert info["limits"]["continuous"] == 2.0 and info["limits"]["upload_bytes"] == MAX_UPLOAD_BYTES


def test_render_draws_the_latent_asked_for(client):
    first = client.post("/api/render", json=LATENT)
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert "render;dur=" in first.headers["Server-Timing"]
    assert Image.open(io.BytesIO(first.data)).size == (32, 32)  # one 28 px tile with a 2 px border
    assert client.post("/api/render", json=LATENT).data == first.data  # eval mode: deterministic
    moved = client.post("/api/render", json={**LATENT, "continuous": [1.5, -1.25]})
    reseeded = client.post("/api/render", json={**LATENT, "seed": 8})
    assert np.abs(pixels(moved.data) - pixels(first.data)).max() > 0
    assert np.abs(pixels(reseeded.data) - pixels(first.data)).max() > 0


def test_grid_shows_every_value_of_a_categorical_code(client):
    grid = pixels(client.post("/api/render", json={**LATENT, "vary": 0}).data)
    assert grid.shape == (32, 10 * 30 + 2)
    for value in (0, 3, 9):
        single = pixels(client.post("/api/render", json={**LATENT, "categorical": [value]}).data)
        tile = grid[2:30, 2 + value * 30 : 30 + value * 30]
        assert np.abs(tile - single[2:30, 2:30]).max() <= 1  # batch of 10 vs batch of 1: rounding at most


def test_infogan_sample_writes_the_same_png(client, run_dir, tmp_path, capsys):
    """The page's "copy command" promise: the same codes on the command line give the same bytes."""
    for extra, body in (([], LATENT), (["--vary-cat", "0"], {**LATENT, "vary": 0})):
        out = tmp_path / "sample.png"
        main(["sample", str(run_dir), "--seed", "7", "--cat", "3", "--cont", "0.5", "-1.25", *extra, "--out", str(out)])
        assert out.read_bytes() == client.post("/api/render", json=body).data
    assert capsys.readouterr().out.split() == [str(tmp_path / "sample.png")] * 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**LATENT, "continuous": [2.5, 0]}, "cont0 = 2.5 lies outside [-2, 2]"),
        ({**LATENT, "continuous": [0.0]}, "2 continuous code value(s) expected (cont0, cont1), got 1"),
        ({**LATENT, "categorical": [10]}, "cat0 = 10 lies outside 0..9"),
        ({**LATENT, "categorical": [1.5]}, "categorical must be a list of integers"),
        ({**LATENT, "continuous": ["0.5", 0]}, "continuous must be a list of numbers"),
        ({**LATENT, "seed": -1}, "seed -1 lies outside"),
        ({**LATENT, "seed": 2**40}, "lies outside [0, 4294967296)"),
        ({**LATENT, "seed": True}, "seed must be an integer"),
        ({**LATENT, "vary": 1}, "categorical code to vary 1 does not exist"),
        ({**LATENT, "zoom": 2}, "unknown field(s) zoom"),
        ([0.5, 1], "must be a JSON object"),
    ],
)
def test_render_refuses_bad_latents(client, body, message):
    response = client.post("/api/render", json=body)
    assert response.status_code == 400 and message in response.json["error"]


def test_render_refuses_non_finite_and_non_json(client):
    nan = client.post("/api/render", data='{"continuous": [NaN, 0]}', content_type="application/json")
    assert nan.status_code == 400 and "cont0 = nan" in nan.json["error"]
    assert client.post("/api/render", data="seed=1").status_code == 415
    assert client.get("/api/render").status_code == 405


@pytest.mark.parametrize("sample_cli_argv", [["--cat", "3", "--cont", "0"], ["--cat", "3", "--cont", "0", "9"]])
def test_sample_refuses_bad_codes(run_dir, sample_cli_argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", str(run_dir), *sample_cli_argv])
    assert exit_info.value.code == 2 and "continuous code" in capsys.readouterr().err


def test_encode_reads_an_upload_as_q_does(client, run, digits):
    digit = digits[0][0]  # (28, 28) uint8, light strokes on black
    answer = upload(client, png(Image.fromarray(digit))).json
    logits, means = encode(run.model, torch.from_numpy(digit)[None, None])
    probabilities = torch.softmax(logits[0][0], 0)
    assert answer["categorical"][0]["name"] == "cat0"
    assert answer["categorical"][0]["value"] == int(probabilities.argmax())
    assert answer["categorical"][0]["probabilities"] == pytest.approx(probabilities.tolist(), abs=1e-6)
    assert [c["value"] for c in answer["continuous"]] == pytest.approx(means[0].tolist(), abs=1e-6)
    assert answer["input"].startswith("data:image/png;base64,")
    seen = np.asarray(Image.open(io.BytesIO(base64.b64decode(answer["input"].split(",")[1]))))
    assert np.array_equal(seen, digit)
    # Dark on light, inverted on request, is the same image to Q.
    inverted = upload(client, png(Image.fromarray(255 - digit)), invert="true").json
    assert inverted["continuous"] == answer["continuous"]


def test_encode_crops_and_resizes_rgb_jpeg(client, digits):
    photo = Image.fromarray(np.pad(digits[0][1], ((0, 0), (20, 20)))).resize((152, 56)).convert("RGB")
    answer = upload(client, png(photo, "JPEG"), name="photo.jpg")
    assert answer.status_code == 200
    assert np.asarray(Image.open(io.BytesIO(base64.b64decode(answer.json["input"].split(",")[1])))).shape == (28, 28)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (lambda: png(Image.new("L", (8, 8)), "GIF"), 415, "not a PNG or JPEG"),
        (lambda: b"%PDF-1.4 not an image", 415, "not a PNG or JPEG"),
        (lambda: png(Image.new("L", (5000, 4000))), 413, "5000x4000 pixels"),
        (lambda: png(Image.effect_noise((64, 64), 50))[:300], 400, "cannot decode"),  # truncated
        (lambda: b"\x89PNG" + bytes(MAX_UPLOAD_BYTES), 413, "limited to 2 MiB"),
    ],
)
def test_upload_limits(client, data, status, message):
    response = upload(client, data())
    assert response.status_code == status and message in response.json["error"]


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((1, 16_777_216), "1x16777216 pixels, more than the 16,777,216 pixels and 4096 on a side"),
        ((20000, 20000), "more than the 16,777,216 pixels"),
        ((100_000, 100_000), "far more than the 16,777,216 pixels"),  # past Pillow's own bomb check
    ],
)
def test_decompression_bombs_are_refused_from_the_header(client, size, message):
    response = upload(client, png_header(*size))
    assert response.status_code == 413 and message in response.json["error"]


def test_uploads_decode_one_at_a_time(client, monkeypatch):
    """Decoding takes the render lock, so 8 uploads at once hold one decoded image in memory, not 8."""
    import infogan.explore.app as app_module

    busy, most = [0], [0]
    decode = app_module.decode_upload

    def counted(*args, **kwargs):
        busy[0] += 1
        most[0] = max(most[0], busy[0])
        time.sleep(0.05)
        busy[0] -= 1
        return decode(*args, **kwargs)

    monkeypatch.setattr(app_module, "decode_upload", counted)
    data = png(Image.new("L", (64, 64)))
    threads = [threading.Thread(target=lambda: upload(client, data)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_cross_site_posts_are_refused(client):
    """CSRF: a page of another origin may not make the explorer encode or render; its own page may."""
    data = png(Image.new("L", (28, 28)))
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {"Referer": "http://evil.example/x"}):
        encoded = client.post("/api/encode", data={"image": (io.BytesIO(data), "d.png")}, headers=headers)
        assert encoded.status_code == 403 and "cross-site request refused" in encoded.json["error"]
        assert client.post("/api/render", json=LATENT, headers=headers).status_code == 403
    own = {"Origin": "http://localhost"}  # the test client's Host
    assert client.post("/api/render", json=LATENT, headers=own).status_code == 200
    assert upload(client, data).status_code == 200  # no Origin: curl or a script, not a browser
    assert client.get("/api/model", headers={"Origin": "http://evil.example"}).status_code == 200


def test_deeply_nested_json_is_a_bad_request(client):
    deep = client.post("/api/render", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert deep.status_code == 400 and "nested too deeply" in deep.json["error"]


def test_hosts_answered():
    assert set(hosts_to_trust("127.0.0.1")) == {"127.0.0.1", "localhost", "::1"}
    assert "127.0.0.2" in hosts_to_trust("127.0.0.2")
    assert hosts_to_trust("192.168.1.5") == ["192.168.1.5"]
    assert hosts_to_trust("0.0.0.0") is None and hosts_to_trust("::") is None
    assert hosts_to_trust("0.0.0.0", ["box.lan"]) == ["box.lan"]


def http_get(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def serve(run_dir):
    """Start make_server(run_dir, **options) on a free port; shut down after the test."""
    servers = []

    def start(**options):
        server = make_server(run_dir, port=0, device="cpu", **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_allow_remote_keeps_the_host_check(serve):
    """`--allow-remote --host 127.0.0.1` still answers only the names of the bind (DNS rebinding)."""
    server = serve(host="127.0.0.1", allow_remote=True)
    url = f"http://127.0.0.1:{server.port}/api/model"
    assert http_get(url) == 200
    assert http_get(url, "evil.example") == 400
    trusted = serve(host="127.0.0.1", allow_remote=True, trusted_hosts=["box.lan"])
    assert http_get(f"http://127.0.0.1:{trusted.port}/api/model", "box.lan:80") == 200


def test_ipv6_loopback_needs_no_allow_remote(serve):
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = serve(host="::1")
    assert http_get(f"http://[::1]:{server.port}/api/model") == 200


def test_wildcard_bind_warns(serve, caplog):
    serve(host="0.0.0.0", allow_remote=True)
    assert "reachable from the network and has no login" in caplog.text
    assert "any Host name is answered" in caplog.text


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--port", "PORT_IN_USE"], "Address already in use): choose another --port"),
        (["--host", "no-such-host.invalid", "--allow-remote"], "--host no-such-host.invalid is not a name or address"),
        (
            ["--host", "192.0.2.1", "--allow-remote"],
            "cannot listen on 192.0.2.1:8000 (Cannot assign requested address)",
        ),
    ],
)
def test_explore_cannot_listen(run_dir, flags, message, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        flags = [str(taken.getsockname()[1]) if flag == "PORT_IN_USE" else flag for flag in flags]
        with pytest.raises(SystemExit) as exit_info:
            main(["explore", str(run_dir), *flags])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and err.startswith("infogan: error:") and message in err
    assert len(err.splitlines()) == 1


def test_encode_form_errors(client):
    missing = client.post("/api/encode", data={})
    assert missing.status_code == 400 and "form field 'image'" in missing.json["error"]
    invert = upload(client, png(Image.new("L", (28, 28))), invert="yes")
    assert invert.status_code == 400 and "invert must be true or false" in invert.json["error"]


def test_server_writes_no_file(client, run_dir, monkeypatch):
    """Uploads stay in memory: no temporary file is opened, and the run folder is left as it was."""
    before = {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")}

    def refuse(*args, **kwargs):
        raise AssertionError("the server opened a temporary file")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp", "mkdtemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    noise = np.random.default_rng(0).integers(0, 256, (600, 600, 3), dtype=np.uint8)
    data = png(Image.fromarray(noise))
    assert 1_000_000 < len(data) < MAX_UPLOAD_BYTES  # past the size werkzeug would spool to disk
    assert upload(client, data).status_code == 200
    assert client.post("/api/render", json=LATENT).status_code == 200
    assert {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")} == before


def test_only_loopback_host_names_are_answered(client):
    assert client.get("/api/model", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    rebound = client.get("/api/model", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 400 and "not trusted" in rebound.json["error"]


def test_other_interfaces_need_allow_remote(run_dir, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["explore", str(run_dir), "--host", "0.0.0.0"])
    assert exit_info.value.code == 2 and "--allow-remote" in capsys.readouterr().err


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1200,900",
)
IMAGE_BYTES = """
const done = arguments[arguments.length - 1];
fetch(document.getElementById("image").src).then((r) => r.arrayBuffer()).then((buffer) => {
  let text = "";
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  done(btoa(text));
}, (error) => done(`failed: ${error}`));
"""


@pytest.fixture
def browser():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.skip("no Chromium: install Debian's chromium and chromium-driver (.ci/run does) to run this test")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_script_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def served(run_dir):
    server = make_server(run_dir, port=0, device="cpu")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}/"
    server.shutdown()
    server.server_close()


def test_render_over_http_follows_the_slider(served):
    """The page re-renders over real HTTP as a slider moves (its latency is benchmarks/explore_latency.py's job)."""
    images = set()
    for step in range(5):
        body = json.dumps({**LATENT, "continuous": [step / 2 - 1.0, 0.0]}).encode()
        request = urllib.request.Request(served + "api/render", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            png = response.read()
        assert png.startswith(b"\x89PNG")
        images.add(png)
    assert len(images) == 5


def test_moving_a_slider_in_chromium_changes_the_image(browser, served, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def rendered_after(previous_src: str) -> str:
        """Wait until the page shows a new, loaded image; its blob: URL."""
        WebDriverWait(browser, 20).until(
            lambda d: d.execute_script(
                "const img = document.getElementById('image');"
                "return img.src.startsWith('blob:') && img.src !== arguments[0] && img.complete"
                " && img.naturalWidth > 0;",
                previous_src,
            )
        )
        return browser.find_element(By.ID, "image").get_attribute("src")

    browser.get(served)
    first_src = rendered_after("")
    first = base64.b64decode(browser.execute_async_script(IMAGE_BYTES))
    slider = browser.find_element(By.ID, "cont0")
    ActionChains(browser).drag_and_drop_by_offset(slider, slider.size["width"] // 4, 0).perform()
    rendered_after(first_src)
    WebDriverWait(browser, 20).until(lambda d: float(d.find_element(By.ID, "cont0").get_attribute("value")) > 0.5)
    time.sleep(0.5)  # let the last debounced render land
    moved = base64.b64decode(browser.execute_async_script(IMAGE_BYTES))
    assert np.abs(pixels(moved) - pixels(first)).max() > 0
    assert "error" not in browser.find_element(By.ID, "status").get_attribute("class")

    # The command the page offers writes the image the page shows.
    argv = shlex.split(browser.find_element(By.ID, "command").text)
    assert argv[:2] == ["infogan", "sample"] and argv[-2:] == ["--out", "explore.png"]
    main([*argv[1:-1], str(tmp_path / "explore.png")])
    assert (tmp_path / "explore.png").read_bytes() == moved
