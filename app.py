"""Browser chat over the indexed news articles: `python app.py [--host H] [--port P] [--auth U:P]`.

See `python app.py --help`; the app itself lives in `qa.ui` (also installed as `qa-app`).
"""

from __future__ import annotations

import sys

from qa.ui import main

if __name__ == "__main__":
    sys.exit(main())
