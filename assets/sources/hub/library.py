"""The only place that uses names `huggingface_hub` does not export; each is pinned by a test in
`tests/test_library_adapters.py` that fails when an upgrade changes what it does.

- `hf_request_event_hook` (`huggingface_hub.utils._http`): the request hook of the library's own
  client (offline mode refused, request id and download-counter headers). The client this project
  installs with the public `set_client_factory` runs it too, so its requests are the library's.
- `default_client_factory` (same module): the library's factory, put back after a run (there is no
  public getter of the factory in place).
- `get_local_download_paths` (`huggingface_hub._local_folder`): where `hf_hub_download(local_dir=...)`
  records the ETag of a local copy; removing that record makes the next download GET the file again.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
from huggingface_hub import set_client_factory
from huggingface_hub._local_folder import get_local_download_paths
from huggingface_hub.utils._http import default_client_factory, hf_request_event_hook


def library_client(transport: httpx2.BaseTransport, timeout: float) -> httpx2.Client:
    """An `httpx2.Client` as the library's default factory makes it (its request hook, redirects
    followed), over `transport`, with `timeout`."""
    return httpx2.Client(transport=transport, event_hooks={"request": [hf_request_event_hook]},
                         follow_redirects=True, timeout=timeout)


def restore_default_client_factory() -> None:
    """Hand `huggingface_hub` its own client factory back (closing the client made by ours)."""
    set_client_factory(default_client_factory)


def download_record(local_dir: Path, filename: str) -> Path:
    """The file in which `hf_hub_download(local_dir=local_dir)` records the download of `filename`."""
    return get_local_download_paths(local_dir, filename).metadata_path
