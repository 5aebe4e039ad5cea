"""Field types the jobs' request schemas (`tasks/<job>/serving.py`) share; pydantic only, no web framework.

    Number        a finite float
    Either(msg)   marks a union: a value that fits none of its forms is one error, `msg`, at the value's own
                  place. Without it pydantic reports an error for each form, each at a place that names the
                  form ("sequences.0.1.float", "sequences.0.1.list[float]"), and the service would answer
                  with the first, where a list of numbers read as a number.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, GetCoreSchemaHandler

Number = Annotated[float, Field(allow_inf_nan=False)]


class Either:
    def __init__(self, message: str):
        self.message = message

    def __get_pydantic_core_schema__(self, source, handler: GetCoreSchemaHandler):
        schema = handler(source)
        if schema["type"] != "union":
            raise TypeError(f"Either marks a union, not a {schema['type']} schema")
        return {**schema, "custom_error_type": "either", "custom_error_message": self.message}
