"""Clients of the upstream sources: the Hugging Face Hub and the arXiv API."""
