"""Make docs/explore.png: the explorer page in headless Chromium, with a real digit uploaded.

    python docs/explore_screenshot.py RUN [--out docs/explore.png]

Needs Debian's chromium and chromium-driver, and selenium (the test extra). The digit is one of
the embedded MNIST test digits drawn dark on light and enlarged, as a scan would be; the page's
"invert" box turns it back into MNIST's light strokes on black before Q reads it.
"""

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from infogan.data.mnist import load_embedded_mnist
from infogan.explore import make_server

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1150,760",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--out", default="docs/explore.png")
    parser.add_argument("--digit", type=int, default=4021, help="index in the embedded digits")
    args = parser.parse_args()
    server = make_server(args.run, port=0, device="cpu")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    with tempfile.TemporaryDirectory() as scratch:
        scan = Path(scratch) / "scan.png"
        Image.fromarray(255 - load_embedded_mnist()[0][args.digit]).resize((112, 112)).save(scan)
        driver.get(f"http://127.0.0.1:{server.server_port}/")
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "image").get_attribute("src"))
        driver.find_element(By.ID, "invert").click()
        driver.find_element(By.ID, "file").send_keys(str(scan))
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "regenerated").get_attribute("src"))
        time.sleep(0.5)
        driver.save_screenshot(args.out)
    driver.quit()
    server.shutdown()
    print(args.out)


if __name__ == "__main__":
    main()
