"""The Hugging Face Hub: the client and its live fetches into the cache (`client`), which models
and datasets a run loads (`targets`), and the parsing of model info files and cards (`cards`)."""

import os

# A pipeline must not phone home: without this, huggingface_hub's first request of a process asks
# huggingface.co for an "agent harness" registry. This package runs before any of its modules, so
# the setting is in place before huggingface_hub reads its constants, whichever module comes first.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
