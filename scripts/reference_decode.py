"""Reference decoder for `npm run robustness`: reads one path per line on stdin and answers one JSON line
per path saying whether Pillow decodes every pixel of it (its first frame), without writing anything."""
import json
import sys
import warnings

from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # the core applies its own limit; here only validity matters

for line in sys.stdin:
    path = line.rstrip("\n")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                image.load()
        answer = {"ok": True}
    except Exception as error:  # any failure means "the reference does not decode it"
        answer = {"ok": False, "error": f"{type(error).__name__}: {error}"[:200]}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
