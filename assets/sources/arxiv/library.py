"""The only place that uses a name the `arxiv` library does not make public, pinned by a test in
`tests/test_library_adapters.py` that fails when an upgrade changes what it does.

- `arxiv.Client._session`: the `requests.Session` through which `Client.results` sends every
  request. `Client` has no public way to set a timeout (it sets none: a hung server would block a
  run for ever), to count requests or to keep response bodies byte-exact; replacing its session is
  the one hook it has for all three.
"""

from __future__ import annotations

import arxiv
import requests


def use_session(client: arxiv.Client, session: requests.Session) -> None:
    """Make `client` send every request of `Client.results` through `session`."""
    client._session = session
