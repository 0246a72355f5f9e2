"""The JSON Schema of `pipeline.yaml` for editors, generated from the model: `ci/schemas/pipeline.schema.json`.

`python -m ci.config.schema` prints it and `python -m ci.config.schema --write` writes the committed file; a test fails
while the two differ.
"""

import json
import sys
from pathlib import Path
from typing import Any

from .model import Config

SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "pipeline.schema.json"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of pipeline.yaml."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Config.model_json_schema()}


def schema_text() -> str:
    """The schema file's exact content."""
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        SCHEMA_PATH.write_text(schema_text())
        print(f"wrote {SCHEMA_PATH}")
    elif sys.argv[1:]:
        sys.exit("usage: python -m ci.config.schema [--write]")
    else:
        print(schema_text(), end="")
