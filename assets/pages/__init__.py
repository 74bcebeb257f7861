"""Renderings of the published warehouse: the terminal model page of `sotaboard model`
(`model_page`) and the static site of `sotaboard site` and the `static_site` asset (`site`)."""
