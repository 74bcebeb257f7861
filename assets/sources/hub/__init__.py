"""The Hugging Face Hub: the client and its live fetches into the cache (`client`), which models
and datasets a run loads (`targets`), and the parsing of model info files and cards (`cards`)."""
