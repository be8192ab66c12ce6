"""Use a running `talkinghead demo` as visitors would, in headless Chromium, and time it.

    talkinghead demo &                      # serves http://127.0.0.1:7860/
    python benchmarks/demo_in_browser.py --image face.jpg --audio speech.wav --screenshot page.png
    python benchmarks/demo_in_browser.py --example       # the bundled example row instead
    python benchmarks/demo_in_browser.py --example --visitors 4 --server-pid PID

Each visitor (a separate browser context) uploads the two files (or clicks the example); then
all press Generate at once. The script waits for every video, checks in the page that it
plays, prints the seconds from the click to a playable video and the page's quality summary,
and saves a screenshot of the first visitor's page. With --server-pid (a server on this
machine) it also prints the server's peak memory (VmHWM). Needs
`pip install -e ".[demo,browser-test]"` and Debian's chromium (apt-get install chromium).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from talkinghead.info import machine_summary

VIDEO = "#talking-head-result video"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--image", help="face photo to upload")
    parser.add_argument("--audio", help="speech to upload")
    parser.add_argument("--example", action="store_true", help="use the examples row instead of uploads")
    parser.add_argument("--visitors", type=int, default=1, help="pages that press Generate at the same time")
    parser.add_argument("--server-pid", type=int, help="print this local server process's peak memory")
    parser.add_argument("--screenshot", default="demo-page.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the videos")
    return parser.parse_args(argv)


def open_visitor(browser, args: argparse.Namespace):
    """A new page on the demo with the inputs in place, ready to press Generate."""
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(args.url)
    if args.example:
        page.locator("#talking-head-examples").get_by_text("speech.wav").click()
    else:
        page.locator("#talking-head-image input[type=file]").set_input_files(args.image)
        page.locator("#talking-head-audio input[type=file]").set_input_files(args.audio)
    page.locator("#talking-head-image img").first.wait_for()
    page.locator("#talking-head-audio audio").first.wait_for(state="attached")
    return page


def wait_playable(page, timeout_s: float) -> float:
    """Wait for the result video to load and play; its duration in seconds."""
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('{VIDEO}'); return v && v.duration > 0; }}",
        timeout=timeout_s * 1000,
    )
    video = page.locator(VIDEO)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(f"() => document.querySelector('{VIDEO}').currentTime > 0.2", timeout=15_000)
    return video.evaluate("v => v.duration")


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    args = parse_args(argv)
    if not args.example and not (args.image and args.audio):
        sys.exit("give --image and --audio, or --example")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True)
        pages = [open_visitor(browser, args) for _ in range(args.visitors)]
        if args.server_pid:
            print(f"server peak memory before: {peak_memory_mb(args.server_pid):.0f} MiB")
        started = time.monotonic()
        for page in pages:
            page.locator("#talking-head-generate").click()
        for index, page in enumerate(pages):
            duration = wait_playable(page, args.timeout)
            print(f"visitor {index}: playable {duration:.2f} s video {time.monotonic() - started:.1f} s after the clicks")
        print(pages[0].locator("#talking-head-summary").inner_text())
        if args.server_pid:
            print(f"server peak memory after: {peak_memory_mb(args.server_pid):.0f} MiB")
        pages[0].screenshot(path=args.screenshot, full_page=True)
        print(f"screenshot: {args.screenshot}")
        print(f"client machine: {machine_summary()} (the server runs where `talkinghead demo` was started)")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
