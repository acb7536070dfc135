"""The local Argilla server: its virtual environment (`install`), Redis, processes and the launcher."""
