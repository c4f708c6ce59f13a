"""Reports of a run: Markdown, JUnit XML, HTML with plots, comparison with a baseline (services layer)."""
