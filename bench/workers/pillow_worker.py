"""The original design's algorithm, for the bench: Pillow opens the image, resizes it to 200x200 and saves a PNG.

Same protocol as image-worker.ts:
  serve CONFIG_JSON  preload CONFIG.files, print {"ready": true}, then answer each request line
                     {"engine": "pillow-1", "files": [indices]} with {"times": [ms per file]}.
  peak CONFIG_JSON   run once on CONFIG.file and print {"maxRssKib", "ms"} (VmHWM, in KiB).
Images are read from memory, as the Node engines read them, so neither side pays for disk I/O.
"""
import gc
import io
import json
import resource
import sys
import time

from PIL import Image


def original_design(data):
    # The original Lambda's steps: Image.open, resize((200, 200)) (distorting, Pillow's default filter), save PNG.
    with Image.open(io.BytesIO(data)) as image:
        resized = image.resize((200, 200))
        out = io.BytesIO()
        resized.save(out, "PNG")
        return out.tell()


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def serve(config):
    inputs = []
    for path in config["files"]:
        with open(path, "rb") as handle:
            inputs.append(handle.read())
    send({"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            gc.collect()
            times = []
            for index in request["files"]:
                started = time.perf_counter()
                original_design(inputs[index])
                times.append((time.perf_counter() - started) * 1000)
            send({"times": times})
        except Exception as error:  # reported to the parent as this row's n/a reason
            send({"error": "%s: %s" % (type(error).__name__, error)})


def peak_rss_kib():
    """This process's own peak RSS in KiB: VmHWM, since ru_maxrss on Linux also counts the parent's memory at fork."""
    try:
        with open("/proc/self/status", encoding="utf-8") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak(config):
    data = b""
    started = time.perf_counter()
    if config.get("engine") != "idle":
        with open(config["file"], "rb") as handle:
            data = handle.read()
        started = time.perf_counter()
        original_design(data)
    ms = (time.perf_counter() - started) * 1000
    send({"maxRssKib": peak_rss_kib(), "ms": ms})


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: pillow_worker.py serve|peak CONFIG_JSON")
    mode, config = sys.argv[1], json.loads(sys.argv[2])
    if mode == "serve":
        serve(config)
    elif mode == "peak":
        peak(config)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
