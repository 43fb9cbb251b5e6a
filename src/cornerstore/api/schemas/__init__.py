"""Request and answer schemas of the API (pydantic v2), one module per noun.

An answer is read from the domain object a service returns, ``XOut.model_validate(record)``:
its fields are the object's attributes of the same name (or the one named by
``validation_alias``), so no route copies fields by hand. ``errors`` holds the error shape and
the one table of documented error answers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class Answer(BaseModel):
    """The base of every answer: validated from a domain object's attributes.

    A domain object with a ``visible()`` view (a profile, a search hit, a timeline page) is read
    through that view, which leaves out what the caller's role may not see: those parts stay
    unset, and the routes leave unset fields out of the answer.
    """

    # populate_by_name: FastAPI validates an answer again from its own dump, whose keys are the
    # field names, not the attribute names a validation_alias reads.
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _visible_view(cls, data: Any) -> Any:
        visible = getattr(data, "visible", None)
        return visible() if callable(visible) else data
