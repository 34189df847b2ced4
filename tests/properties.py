"""How many examples each hypothesis property tries (test plan H3): 200 in `make test`, 2,000 in
`make reliability` (KESU_PROPERTY_EXAMPLES)."""

from __future__ import annotations

import os

PROPERTY_EXAMPLES = int(os.environ.get("KESU_PROPERTY_EXAMPLES", "200"))
