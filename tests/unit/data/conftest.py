"""Fixtures for the data-layer tests."""

from __future__ import annotations

import pytest

from tests.unit.data.helpers import CONVERSATION, pair


@pytest.fixture
def records() -> list[dict]:
    """A mix of string and conversational pairs with optional fields."""
    return [
        pair(id="p1", source="web", margin=1.5, metadata={"chosen_position": "a"}),
        pair("Name a colour.", "Blue.", "I refuse.", category="easy", annotators=["ann1", "ann2"], agreement=1.0),
        pair(CONVERSATION, [{"role": "assistant", "content": "Simmer it for 8 minutes."}],
             [{"role": "assistant", "content": "Eggs cannot be boiled."}], weight=0.5, source="chat"),
        pair("Unicode?", "Ja, naïve café 東京 ✓", "No"),
    ]
