"""Code that runs inside the Argilla server's own virtual environment, never in alignlab's.

`boot.py` is the entry point of every server process `alignlab annotate up` starts (`start`, `worker`,
`database ...`); it registers the embedded search engine of `sql_engine.py` first. Neither module imports
alignlab, and alignlab never imports them (argilla_server is not installed beside alignlab).
"""
