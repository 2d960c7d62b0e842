"""Intake of files: recognise them by content, refuse what is broken or hostile before any
expensive work, and render every page to an image at 300 dpi for the later stages.

Pure functions over paths; recording what was kept is ``pipeline.usecases.intake``'s job.
"""

from pipeline.ingest.problems import FileProblem, InvalidFile
from pipeline.ingest.read import FileProbe, RenderedPage, probe_file, render_pages

__all__ = ["FileProbe", "FileProblem", "InvalidFile", "RenderedPage", "probe_file", "render_pages"]
