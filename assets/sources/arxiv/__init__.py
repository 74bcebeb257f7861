"""The arXiv API: id normalisation (`ids`), Atom feed reading and scanning (`feeds`), which ids a
live run asks for (`plan`) and the batched, retried fetch (`client`)."""
